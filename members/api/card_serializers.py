from __future__ import annotations

from rest_framework import serializers

from members.models import MemberCardPlan


class MemberCardPlanSerializer(serializers.ModelSerializer):
    benefits = serializers.JSONField(
        help_text="What the card gives; defined by the members issue (shown as stored)."
    )

    class Meta:
        model = MemberCardPlan
        fields = ("id", "name", "price", "duration_days", "benefits", "sort")
        read_only_fields = fields
