from __future__ import annotations

from rest_framework import serializers

from members.models import MemberCardPlan
from payments.api.serializers import PayOutputSerializer


class MemberCardPlanSerializer(serializers.ModelSerializer):
    benefits = serializers.JSONField(
        help_text="What the card gives; defined by the members issue (shown as stored)."
    )

    class Meta:
        model = MemberCardPlan
        fields = ("id", "name", "price", "duration_days", "benefits", "sort")
        read_only_fields = fields


class CardPurchaseOutputSerializer(PayOutputSerializer):
    """The pay params of ``POST /orders/{number}/pay``, plus the purchase."""

    reference = serializers.CharField(help_text='the purchase, "card:<id>"')
    purchase_status = serializers.CharField()
    expires_at = serializers.DateTimeField(help_text="unpaid after this: cancelled")
