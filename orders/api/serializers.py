"""Input and output serializers of the orders APIs (amounts as strings with 2 places)."""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any

from django.core.files.storage import default_storage
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from mall.api.fast_input import FastInput
from mall.api.fields import IdField
from orders.models import AfterSale, Order
from promotions.api.serializers import QuoteLineInputSerializer, cart_option_fields

MAX_LINES = 100  # as the quote's


def Money(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=2, **kwargs)


# --- cart -------------------------------------------------------------------------------


class CartItemAddSerializer(serializers.Serializer):
    sku_id = IdField()
    quantity = serializers.IntegerField(min_value=1, max_value=9999, default=1)


class CartItemUpdateSerializer(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=1, max_value=9999, required=False)
    selected = serializers.BooleanField(required=False)


class CartItemOutSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="item.id")
    sku_id = serializers.IntegerField(source="sku.id")
    product_id = serializers.IntegerField(source="sku.product_id")
    title = serializers.CharField(source="sku.product.title")
    specs = serializers.JSONField(source="sku.specs")
    image = serializers.SerializerMethodField()
    price = Money(source="sku.price")
    quantity = serializers.IntegerField(source="item.quantity")
    selected = serializers.BooleanField(source="item.selected")
    stock = serializers.IntegerField(source="sku.stock")
    available = serializers.BooleanField()
    problem = serializers.CharField()

    def get_image(self, row: Any) -> str:
        name = row.sku.product.main_image
        return default_storage.url(name) if name else ""


class CartOutSerializer(serializers.Serializer):
    items = CartItemOutSerializer(many=True)
    selected_count = serializers.IntegerField()
    selected_subtotal = Money()


# --- checkout ---------------------------------------------------------------------------


class OrderLineInSerializer(QuoteLineInputSerializer):  # the quote's line, its own schema name
    pass


# The quote's body (``promotions.api.serializers``), where ``lines`` may be left out for
# ``from_cart``, and ``expected_payable``.
class OrderCreateSerializer(serializers.Serializer):
    # many=True builds a ListSerializer, which takes max_length (the stubs type the child).
    lines = OrderLineInSerializer(many=True, required=False, max_length=MAX_LINES)  # type: ignore[call-arg]
    (from_cart, coupon_ids, use_points, fulfillment, address_id, store_id, remark) = (
        cart_option_fields()
    )
    expected_payable = Money(required=False, allow_null=True, min_value=0)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("lines") and not attrs.get("from_cart"):
            raise serializers.ValidationError({"lines": _("Send lines, or from_cart: true.")})
        return attrs


_order_create_fast = FastInput(OrderCreateSerializer)


@functools.cache
def _order_create_serializer() -> OrderCreateSerializer:
    return OrderCreateSerializer()


def order_create_validate(data: Any) -> dict[str, Any]:
    """``OrderCreateSerializer(data=data)`` + ``is_valid(raise_exception=True)`` +
    ``validated_data``: by the fast path (``mall.api.fast_input``) for a well-formed body, else
    on one bound instance per process (fields deep-copied once; ``run_validation`` keeps no
    state and raises the same ``ValidationError``)."""
    parsed = _order_create_fast(data)
    if parsed is not None:
        return parsed
    return _order_create_serializer().run_validation(data)


class OrderLineOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    sku_id = serializers.IntegerField(allow_null=True)
    product_id = serializers.IntegerField(allow_null=True)
    title = serializers.CharField()
    specs = serializers.JSONField()
    spec_label = serializers.CharField()
    image = serializers.SerializerMethodField()
    is_gift = serializers.BooleanField()
    quantity = serializers.IntegerField()
    unit_price = Money()
    item_price = Money()
    subtotal = Money()
    discount = Money()
    points_deduction = Money()
    shipping_fee = Money()
    payable = Money()
    shipped_quantity = serializers.IntegerField()
    refunded_quantity = serializers.IntegerField()
    refunded_amount = Money()

    def get_image(self, line: Any) -> str:
        return default_storage.url(line.image) if line.image else ""


class OrderListSerializer(serializers.Serializer):
    number = serializers.CharField()
    status = serializers.CharField()
    platform = serializers.CharField()
    fulfillment = serializers.CharField()
    subtotal = Money()
    discount_total = Money()
    shipping_fee = Money()
    points_used = serializers.IntegerField()
    points_deduction = Money()
    payable = Money()
    paid_amount = Money()
    refunded_amount = Money()
    lines = OrderLineOutSerializer(many=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)


class ShipmentOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    carrier = serializers.CharField()
    tracking_no = serializers.CharField()
    courier_name = serializers.CharField()
    courier_phone = serializers.CharField()
    tracking_state = serializers.CharField()
    tracking = serializers.JSONField()
    lines = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_lines(self, shipment: Any) -> list[dict[str, int]]:
        return [{"line_id": x.order_line_id, "quantity": x.quantity} for x in shipment.lines.all()]


class OrderEventOutSerializer(serializers.Serializer):
    kind = serializers.CharField()
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    note = serializers.CharField()
    created_at = serializers.DateTimeField()


class AfterSaleBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    type = serializers.CharField()
    status = serializers.CharField()
    amount = Money()


class OrderDetailSerializer(OrderListSerializer):
    promotions = serializers.JSONField()
    gifts = serializers.JSONField()
    address = serializers.JSONField()
    store = serializers.JSONField(source="store_snapshot")
    distance_km = serializers.DecimalField(max_digits=8, decimal_places=2, allow_null=True)
    remark = serializers.CharField()
    pickup_code = serializers.SerializerMethodField()
    paid_at = serializers.DateTimeField(allow_null=True)
    shipped_at = serializers.DateTimeField(allow_null=True)
    received_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)
    cancel_reason = serializers.CharField()
    shipments = ShipmentOutSerializer(many=True)
    timeline = OrderEventOutSerializer(many=True, source="events")
    after_sales = AfterSaleBriefSerializer(many=True)

    def get_pickup_code(self, order: Order) -> str:
        # Only the buyer sees the code, and only while it can still be used.
        if self.context.get("buyer") and order.received_at is None:
            return order.pickup_code
        return ""


@functools.cache
def _buyer_detail_serializer() -> OrderDetailSerializer:
    return OrderDetailSerializer(context={"buyer": True})


def order_detail_for_buyer(order: Order) -> dict[str, Any]:
    """``OrderDetailSerializer(order, context={"buyer": True}).data`` without rebuilding its
    ~75 fields per request: one bound instance per process (its fields are deep-copied once;
    ``to_representation`` keeps no state between calls)."""
    return _buyer_detail_serializer().to_representation(order)


class MerchantOrderSerializer(OrderDetailSerializer):
    member_id = serializers.IntegerField()
    distribution = serializers.JSONField()
    coupon_ids = serializers.JSONField()


# --- after-sales ------------------------------------------------------------------------


class AfterSaleLineInSerializer(serializers.Serializer):
    line_id = IdField()
    quantity = serializers.IntegerField(min_value=1, max_value=9999)


class AfterSaleCreateSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=AfterSale.Type.choices)
    lines = AfterSaleLineInSerializer(many=True, required=False, default=list, max_length=100)  # type: ignore[call-arg]  # ListSerializer's
    reason = serializers.CharField(max_length=200)
    amount = Money(required=False, allow_null=True, min_value=Decimal("0.01"))


class AfterSaleLineOutSerializer(serializers.Serializer):
    line_id = serializers.IntegerField(source="order_line_id")
    quantity = serializers.IntegerField()
    amount = Money()


class AfterSaleEventOutSerializer(serializers.Serializer):
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    kind = serializers.CharField()
    note = serializers.CharField()
    created_at = serializers.DateTimeField()


class AfterSaleOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    order_number = serializers.CharField(source="order.number")
    type = serializers.CharField()
    status = serializers.CharField()
    reason = serializers.CharField()
    amount = Money()
    includes_shipping = serializers.BooleanField()
    reject_reason = serializers.CharField()
    restock = serializers.BooleanField()
    return_carrier = serializers.CharField()
    return_tracking_no = serializers.CharField()
    lines = AfterSaleLineOutSerializer(many=True)
    timeline = AfterSaleEventOutSerializer(many=True, source="events")
    created_at = serializers.DateTimeField()
    refunded_at = serializers.DateTimeField(allow_null=True)


class ReturnShipSerializer(serializers.Serializer):
    carrier = serializers.CharField(max_length=32)
    tracking_no = serializers.CharField(max_length=64)


class ApproveSerializer(serializers.Serializer):
    restock = serializers.BooleanField(default=False)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class AbortRefundSerializer(serializers.Serializer):
    close = serializers.BooleanField(default=False)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class RejectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


class ReceiveReturnSerializer(serializers.Serializer):
    restock = serializers.BooleanField(required=False, allow_null=True, default=None)


# --- merchant ---------------------------------------------------------------------------


class ShipLineInSerializer(serializers.Serializer):
    line_id = IdField()
    quantity = serializers.IntegerField(min_value=1, max_value=9999)


class ShipSerializer(serializers.Serializer):
    carrier = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    tracking_no = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    courier_name = serializers.CharField(
        max_length=50, required=False, allow_blank=True, default=""
    )
    courier_phone = serializers.CharField(
        max_length=20, required=False, allow_blank=True, default=""
    )
    lines = ShipLineInSerializer(many=True, required=False, default=list, max_length=100)  # type: ignore[call-arg]  # ListSerializer's


def _valid_status(value: str) -> None:
    if value not in Order.Status.values:
        raise serializers.ValidationError(
            _("One of: %(values)s.") % {"values": ", ".join(Order.Status.values)}
        )


class OrderStatusFilterSerializer(serializers.Serializer):
    # A plain string (validated) rather than a ChoiceField: the schema's "status" enums of
    # several apps would otherwise collide in drf-spectacular's enum naming.
    status = serializers.CharField(
        required=False, validators=[_valid_status], help_text="An order status."
    )


class MerchantOrderFilterSerializer(OrderStatusFilterSerializer):
    updated_since = serializers.DateTimeField(required=False)


class StoreOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    phone = serializers.CharField()
    address = serializers.CharField(source="full_address")
    hours = serializers.CharField()
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6)
    pickup_enabled = serializers.BooleanField()
    same_city_enabled = serializers.BooleanField()
