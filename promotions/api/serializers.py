"""Input and output serializers of the promotions shopper API (amounts as strings)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from promotions.models import Campaign, Coupon, CouponTemplate

MAX_LINES = 100


class QuoteLineInputSerializer(serializers.Serializer):
    sku_id = serializers.IntegerField(min_value=1)
    quantity = serializers.IntegerField(min_value=1, max_value=9999)
    addon_campaign_id = serializers.IntegerField(min_value=1, required=False, allow_null=True)


class QuoteInputSerializer(serializers.Serializer):
    lines = QuoteLineInputSerializer(many=True, allow_empty=False, max_length=MAX_LINES)
    from_cart = serializers.BooleanField(required=False, default=False)
    coupon_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, default=list, max_length=10
    )
    use_points = serializers.IntegerField(min_value=0, max_value=100_000_000, default=0)
    fulfillment = serializers.ChoiceField(
        choices=["express", "same_city", "pickup"], default="express"
    )
    address_id = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    store_id = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    remark = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("from_cart"):
            raise serializers.ValidationError(
                {"from_cart": "Quoting the saved cart arrives with the cart; send the lines."}
            )
        return attrs


class AdjustmentSerializer(serializers.Serializer):
    source = serializers.CharField()
    kind = serializers.CharField()
    ref_id = serializers.IntegerField(allow_null=True)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)


class QuoteLineSerializer(serializers.Serializer):
    sku_id = serializers.IntegerField()
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2)
    item_price = serializers.DecimalField(max_digits=12, decimal_places=2)
    subtotal = serializers.DecimalField(max_digits=12, decimal_places=2)
    discount = serializers.DecimalField(max_digits=12, decimal_places=2)
    goods_payable = serializers.DecimalField(max_digits=12, decimal_places=2)
    points_deduction = serializers.DecimalField(max_digits=12, decimal_places=2)
    shipping_fee = serializers.DecimalField(max_digits=12, decimal_places=2)
    payable = serializers.DecimalField(max_digits=12, decimal_places=2)
    addon_campaign_id = serializers.IntegerField(allow_null=True)
    breakdown = AdjustmentSerializer(many=True)


class AppliedPromotionSerializer(serializers.Serializer):
    source = serializers.CharField()
    kind = serializers.CharField()
    ref_id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)


class GiftSerializer(serializers.Serializer):
    sku_id = serializers.IntegerField()
    quantity = serializers.IntegerField()
    campaign_id = serializers.IntegerField()


class ProblemSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    campaign_id = serializers.IntegerField(allow_null=True)
    coupon_id = serializers.IntegerField(allow_null=True)
    sku_id = serializers.IntegerField(allow_null=True)


class QuoteOutputSerializer(serializers.Serializer):
    lines = QuoteLineSerializer(many=True)
    promotions = AppliedPromotionSerializer(many=True)
    subtotal = serializers.DecimalField(max_digits=12, decimal_places=2)
    discount_total = serializers.DecimalField(max_digits=12, decimal_places=2)
    shipping_fee_original = serializers.DecimalField(max_digits=12, decimal_places=2)
    shipping_discount = serializers.DecimalField(max_digits=12, decimal_places=2)
    shipping_fee = serializers.DecimalField(max_digits=12, decimal_places=2)
    points_deduction = serializers.DecimalField(max_digits=12, decimal_places=2)
    points_used = serializers.IntegerField()
    payable = serializers.DecimalField(max_digits=12, decimal_places=2)
    gifts = GiftSerializer(many=True)
    problems = ProblemSerializer(many=True)
    coupon_ids_used = serializers.ListField(child=serializers.IntegerField())


class CampaignSerializer(serializers.ModelSerializer):
    title = serializers.SerializerMethodField()
    banner = serializers.SerializerMethodField()

    class Meta:
        model = Campaign
        fields = ["id", "kind", "name", "title", "banner", "starts_at", "ends_at", "rules"]

    def _display(self, obj: Campaign) -> Any:
        platform = self.context.get("platform")
        return next((d for d in obj.displays.all() if d.platform == platform), None)

    def get_title(self, obj: Campaign) -> str:
        display = self._display(obj)
        return (display.title if display and display.title else "") or obj.title or obj.name

    def get_banner(self, obj: Campaign) -> str:
        display = self._display(obj)
        return (display.banner if display and display.banner else "") or obj.banner


class CouponTemplateSerializer(serializers.ModelSerializer):
    remaining = serializers.SerializerMethodField()

    class Meta:
        model = CouponTemplate
        fields = [
            "id",
            "name",
            "description",
            "kind",
            "amount",
            "percent_off",
            "max_discount",
            "threshold",
            "scope_type",
            "per_member_limit",
            "validity_type",
            "valid_from",
            "valid_until",
            "valid_days",
            "remaining",
        ]

    def get_remaining(self, obj: CouponTemplate) -> int:
        return max(obj.total_quantity - obj.issued_count, 0)


class CouponSerializer(serializers.ModelSerializer):
    template = CouponTemplateSerializer(read_only=True)
    status = serializers.SerializerMethodField()

    class Meta:
        model = Coupon
        fields = ["id", "status", "valid_from", "valid_until", "claimed_at", "template"]

    def get_status(self, obj: Coupon) -> str:
        now = self.context["now"]
        if obj.status == Coupon.Status.UNUSED and obj.valid_until <= now:
            return Coupon.Status.EXPIRED
        return obj.status


class CouponStatusQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Coupon.Status.choices, required=False)
