"""Orders, their lines (price snapshots) and their event timeline."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from mall.tenancy.scoping import TenantOwnedModel


def _money(**kwargs: object) -> models.DecimalField:
    return models.DecimalField(max_digits=12, decimal_places=2, default=0, **kwargs)  # type: ignore[arg-type]


class Fulfillment(models.TextChoices):
    EXPRESS = "express", "Express delivery"
    SAME_CITY = "same_city", "Same-city delivery"
    PICKUP = "pickup", "Store pickup"


class Order(TenantOwnedModel):
    class Status(models.TextChoices):
        PENDING_PAYMENT = "pending_payment", "Pending payment"
        PAID = "paid", "Paid"
        PARTIALLY_SHIPPED = "partially_shipped", "Partially shipped"
        SHIPPED = "shipped", "Shipped"
        RECEIVED = "received", "Received"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
        REFUNDED = "refunded", "Refunded"

    PICKUP_MAX_ATTEMPTS = 5

    # YYYYMMDD + 10 random digits; unique per tenant, retried on a collision (services).
    number = models.CharField(max_length=32)
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+")
    channel = models.ForeignKey(
        "mall.Channel", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    platform = models.CharField(max_length=16, blank=True, default="")
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.PENDING_PAYMENT)
    fulfillment = models.CharField(
        max_length=16, choices=Fulfillment.choices, default=Fulfillment.EXPRESS
    )
    subtotal = _money()
    discount_total = _money()
    shipping_fee = _money()
    points_used = models.PositiveIntegerField(default=0)
    points_deduction = _money()
    payable = _money()
    paid_amount = _money()
    refunded_amount = _money()
    # Snapshots taken at checkout (the order never re-reads the catalog or the campaigns).
    promotions = models.JSONField(default=list, blank=True)
    gifts = models.JSONField(default=list, blank=True)
    coupon_ids = models.JSONField(default=list, blank=True)
    campaign_discounts = models.JSONField(default=list, blank=True)  # [[campaign_id, "12.00"]]
    address = models.JSONField(default=dict, blank=True)
    store = models.ForeignKey(
        "orders.Store", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    store_snapshot = models.JSONField(default=dict, blank=True)
    distance_km = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    distribution = models.JSONField(default=dict, blank=True)  # filled by distribution later
    remark = models.CharField(max_length=200, blank=True, default="")
    pickup_code = models.CharField(max_length=12, blank=True, default="")
    pickup_attempts = models.PositiveSmallIntegerField(default=0)
    payment_reference = models.CharField(max_length=64, blank=True, default="")
    expires_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)  # every line shipped
    received_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True, default="")
    # Set once, in the cancellation transaction, when stock/coupons/points/budgets went back.
    resources_released_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "number"], name="uniq_order_number"),
            models.CheckConstraint(
                condition=Q(refunded_amount__lte=F("paid_amount")),
                name="order_refunded_lte_paid",
            ),
            models.CheckConstraint(
                condition=Q(paid_amount__lte=F("payable")), name="order_paid_lte_payable"
            ),
            models.CheckConstraint(
                condition=Q(subtotal__gte=0)
                & Q(discount_total__gte=0)
                & Q(shipping_fee__gte=0)
                & Q(points_deduction__gte=0)
                & Q(payable__gte=0)
                & Q(paid_amount__gte=0)
                & Q(refunded_amount__gte=0),
                name="order_amounts_gte_0",
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "pending_payment",
                        "paid",
                        "partially_shipped",
                        "shipped",
                        "received",
                        "completed",
                        "cancelled",
                        "partially_refunded",
                        "refunded",
                    ]
                ),
                name="order_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "member", "-id"], name="order_member_recent"),
            models.Index(fields=["tenant", "status", "-id"], name="order_status_recent"),
            models.Index(fields=["tenant", "updated_at"], name="order_updated"),
            models.Index(fields=["status", "expires_at"], name="order_status_expiry"),
            models.Index(fields=["status", "shipped_at"], name="order_status_shipped"),
            models.Index(fields=["status", "received_at"], name="order_status_received"),
        ]

    def __str__(self) -> str:
        return self.number


class OrderLine(TenantOwnedModel):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey(
        "catalog.Sku", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    product_id = models.BigIntegerField(null=True, blank=True)
    sku_code = models.CharField(max_length=64, blank=True, default="")
    title = models.CharField(max_length=120)
    specs = models.JSONField(default=list, blank=True)
    spec_label = models.CharField(max_length=255, blank=True, default="")
    image = models.CharField(max_length=255, blank=True, default="")
    is_gift = models.BooleanField(default=False)
    unit_price = _money()
    item_price = _money()
    quantity = models.PositiveIntegerField()
    subtotal = _money()
    discount = _money()  # item + campaigns + coupons
    points_deduction = _money()
    shipping_fee = _money()  # this line's share of the order's shipping fee
    payable = _money()  # subtotal - discount - points_deduction + shipping_fee
    breakdown = models.JSONField(default=list, blank=True)  # allocated adjustments
    shipped_quantity = models.PositiveIntegerField(default=0)
    refunded_quantity = models.PositiveIntegerField(default=0)
    refunded_amount = _money()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="order_line_qty_gte_1"),
            models.CheckConstraint(
                condition=Q(shipped_quantity__lte=F("quantity")), name="order_line_shipped_lte_qty"
            ),
            models.CheckConstraint(
                condition=Q(refunded_quantity__lte=F("quantity")),
                name="order_line_refunded_qty_lte_qty",
            ),
            models.CheckConstraint(
                condition=Q(refunded_amount__lte=F("payable")),
                name="order_line_refunded_lte_payable",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.title}"

    @property
    def unshipped_quantity(self) -> int:
        return self.quantity - self.shipped_quantity


class OrderEvent(TenantOwnedModel):
    """One entry of an order's timeline: a status change or a fact (shipment, refund)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=32)  # status / shipment / pickup_failed / refund ...
    from_status = models.CharField(max_length=24, blank=True, default="")
    to_status = models.CharField(max_length=24, blank=True, default="")
    actor = models.CharField(max_length=64, blank=True, default="")  # member:1, staff:2, system
    note = models.CharField(max_length=255, blank=True, default="")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["order", "id"], name="order_event_timeline")]

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind} {self.from_status}->{self.to_status}"


class PointsUse(TenantOwnedModel):
    """Points an order took from the member (order-owned until a points ledger exists).

    ``returned_at`` is set by the one guarded UPDATE that gives them back, so points return
    exactly once."""

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="points_use")
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+")
    points = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    returned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(points__gte=1), name="points_use_gte_1"),
        ]

    def __str__(self) -> str:
        return f"{self.points} points for order {self.order_id}"
