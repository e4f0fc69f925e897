"""Input and output serializers of the promotions shopper API (amounts as strings)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext
from rest_framework import serializers

from mall.api.fast_input import FastInput
from mall.api.fields import IdField
from promotions.models import Campaign, Coupon, CouponTemplate
from promotions.pricing import Problem, Quote

MAX_LINES = 100


# One line of a cart sent to the quote, or to checkout (``OrderLineInSerializer``). (Comments,
# not docstrings, on input serializers: a docstring would become the schema's description.)
class QuoteLineInputSerializer(serializers.Serializer):
    sku_id = IdField()
    quantity = serializers.IntegerField(min_value=1, max_value=9999)
    addon_campaign_id = IdField(required=False, allow_null=True)


def cart_option_fields() -> tuple[serializers.Field, ...]:
    """The fields the quote and checkout bodies share after ``lines``, in this order:
    ``from_cart``, ``coupon_ids``, ``use_points``, ``fulfillment``, ``address_id``,
    ``store_id``, ``remark``. Declared by unpacking in the serializer class, so they keep their
    place after ``lines`` (the order of the fields and of their errors)."""
    return (
        serializers.BooleanField(required=False, default=False),
        serializers.ListField(child=IdField(), required=False, default=list, max_length=10),
        serializers.IntegerField(min_value=0, max_value=100_000_000, default=0),
        serializers.ChoiceField(choices=["express", "same_city", "pickup"], default="express"),
        IdField(required=False, allow_null=True),
        IdField(required=False, allow_null=True),
        serializers.CharField(max_length=200, required=False, allow_blank=True, default=""),
    )


class QuoteInputSerializer(serializers.Serializer):
    # many=True builds a ListSerializer, which takes max_length (the stubs type the child).
    lines = QuoteLineInputSerializer(many=True, allow_empty=False, max_length=MAX_LINES)  # type: ignore[call-arg]
    (from_cart, coupon_ids, use_points, fulfillment, address_id, store_id, remark) = (
        cart_option_fields()
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("from_cart"):
            raise serializers.ValidationError(
                {
                    "from_cart": gettext(
                        "Quoting the saved cart arrives with the cart; send the lines."
                    )
                }
            )
        return attrs


# The quote's body for the common, well-formed case without building the nested serializer
# (it costs about as much as pricing the cart): ``QuoteInputSerializer``'s own fields, checked
# by ``mall.api.fast_input``; None when anything is unusual, so the caller runs the
# serializer, which then answers exactly as it always does.
quote_input_parse = FastInput(QuoteInputSerializer)


class AdjustmentSerializer(serializers.Serializer):
    source = serializers.CharField()  # type: ignore[assignment]  # a field named source
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
    source = serializers.CharField()  # type: ignore[assignment]  # a field named source
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


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def quote_payload(result: Quote, problems: Iterable[Problem]) -> dict[str, Any]:
    """The quote answer in the shape of ``QuoteOutputSerializer`` (which documents it), built
    directly: on this hot path a nested serializer costs more than pricing the cart."""
    return {
        "lines": [
            {
                "sku_id": line.sku_id,
                "quantity": line.quantity,
                "unit_price": _money(line.unit_price),
                "item_price": _money(line.item_price),
                "subtotal": _money(line.subtotal),
                "discount": _money(line.discount),
                "goods_payable": _money(line.goods_payable),
                "points_deduction": _money(line.points_deduction),
                "shipping_fee": _money(line.shipping_fee),
                "payable": _money(line.payable),
                "addon_campaign_id": line.addon_campaign_id,
                "breakdown": [
                    {
                        "source": a.source,
                        "kind": a.kind,
                        "ref_id": a.ref_id,
                        "amount": _money(a.amount),
                    }
                    for a in line.breakdown
                ],
            }
            for line in result.lines
        ],
        "promotions": [
            {
                "source": p.source,
                "kind": p.kind,
                "ref_id": p.ref_id,
                "name": p.name,
                "amount": _money(p.amount),
            }
            for p in result.promotions
        ],
        "subtotal": _money(result.subtotal),
        "discount_total": _money(result.discount_total),
        "shipping_fee_original": _money(result.shipping_fee_original),
        "shipping_discount": _money(result.shipping_discount),
        "shipping_fee": _money(result.shipping_fee),
        "points_deduction": _money(result.points_deduction),
        "points_used": result.points_used,
        "payable": _money(result.payable),
        "gifts": [
            {"sku_id": g.sku_id, "quantity": g.quantity, "campaign_id": g.campaign_id}
            for g in result.gifts
        ],
        "problems": [
            {
                "code": p.code,
                "message": p.message,
                "campaign_id": p.campaign_id,
                "coupon_id": p.coupon_id,
                "sku_id": p.sku_id,
            }
            for p in problems
        ],
        "coupon_ids_used": list(result.used_coupon_ids),
    }


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
