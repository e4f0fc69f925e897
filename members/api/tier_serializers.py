"""Output serializers of ``/me/tier`` and ``/me/card`` (docs/members.md)."""

from __future__ import annotations

from rest_framework import serializers


class TierBenefitsSerializer(serializers.Serializer):
    discount_rate = serializers.DecimalField(
        max_digits=4,
        decimal_places=3,
        allow_null=True,
        help_text="Share of the list price the tier pays, e.g. 0.950 (null: no tier price).",
    )
    free_shipping = serializers.BooleanField()
    points_multiplier = serializers.DecimalField(max_digits=5, decimal_places=2)
    birthday_points = serializers.IntegerField()


class TierBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    level = serializers.IntegerField()
    growth_threshold = serializers.IntegerField()
    keep_threshold = serializers.IntegerField()
    benefits = TierBenefitsSerializer(source="*")


class MeTierSerializer(serializers.Serializer):
    tier = TierBriefSerializer(allow_null=True, help_text="The member's tier (null: none yet).")
    next_tier = TierBriefSerializer(allow_null=True, help_text="The next tier up (null: top).")
    growth = serializers.IntegerField()
    growth_to_next = serializers.IntegerField(
        allow_null=True, help_text="Growth still needed for the next tier (null at the top)."
    )
    review_at = serializers.DateTimeField(
        allow_null=True, help_text="When the tier is next reviewed (null: it is kept for good)."
    )
    keep_growth_needed = serializers.IntegerField(
        allow_null=True,
        help_text="Growth still to earn before review_at to keep the tier (0: kept already).",
    )


class CardCouponSerializer(serializers.Serializer):
    template_id = serializers.IntegerField()
    name = serializers.CharField()
    quantity = serializers.IntegerField()


class CardBenefitsSerializer(serializers.Serializer):
    price_rate = serializers.DecimalField(
        max_digits=4,
        decimal_places=3,
        allow_null=True,
        help_text="Share of the list price card holders pay, e.g. 0.900 (null: no card price).",
    )
    free_shipping = serializers.BooleanField()
    points_multiplier = serializers.DecimalField(max_digits=5, decimal_places=2)
    coupons = CardCouponSerializer(many=True, help_text="Issued on purchase and every card month.")
    extra = serializers.JSONField(help_text="Other benefits, as the shop wrote them.")


class CardPlanBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class MeCardSerializer(serializers.Serializer):
    plan = CardPlanBriefSerializer(allow_null=True, help_text="Null without a running card.")
    starts_at = serializers.DateTimeField(allow_null=True)
    ends_at = serializers.DateTimeField(allow_null=True)
    benefits = CardBenefitsSerializer(allow_null=True, help_text="The benefits in force.")
