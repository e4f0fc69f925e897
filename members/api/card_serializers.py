from __future__ import annotations

from rest_framework import serializers

from members.models import MemberCardPlan


class MemberCardPlanSerializer(serializers.ModelSerializer):
    benefits = serializers.JSONField(help_text="Other benefits, as the shop wrote them.")
    price_rate = serializers.DecimalField(
        max_digits=4,
        decimal_places=3,
        allow_null=True,
        help_text="Card holders pay this share of the list price (null: no card price).",
    )

    class Meta:
        model = MemberCardPlan
        fields = (
            "id",
            "name",
            "price",
            "duration_days",
            "price_rate",
            "free_shipping",
            "points_multiplier",
            "benefits",
            "sort",
        )
        read_only_fields = fields
