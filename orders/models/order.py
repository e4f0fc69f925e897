"""Orders, their lines (price snapshots) and their event timeline."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mall.tenancy.scoping import TenantOwnedModel


def _money(**kwargs: object) -> models.DecimalField:
    return models.DecimalField(max_digits=12, decimal_places=2, default=0, **kwargs)  # type: ignore[arg-type]


class Fulfillment(models.TextChoices):
    EXPRESS = "express", _("Express delivery")
    SAME_CITY = "same_city", _("Same-city delivery")
    PICKUP = "pickup", _("Store pickup")


class Order(TenantOwnedModel):
    class Status(models.TextChoices):
        PENDING_PAYMENT = "pending_payment", _("Pending payment")
        PAID = "paid", _("Paid")
        PARTIALLY_SHIPPED = "partially_shipped", _("Partially shipped")
        SHIPPED = "shipped", _("Shipped")
        RECEIVED = "received", _("Received")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")
        PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
        REFUNDED = "refunded", _("Refunded")

    PICKUP_MAX_ATTEMPTS = 5

    # YYYYMMDD + 10 random digits; unique per tenant, retried on a collision (services).
    number = models.CharField(max_length=32, verbose_name=_("number"))
    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="+", verbose_name=_("member")
    )
    channel = models.ForeignKey(
        "mall.Channel",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("channel"),
    )
    platform = models.CharField(max_length=16, blank=True, default="", verbose_name=_("platform"))
    status = models.CharField(
        max_length=24,
        choices=Status.choices,
        default=Status.PENDING_PAYMENT,
        verbose_name=_("status"),
    )
    fulfillment = models.CharField(
        max_length=16,
        choices=Fulfillment.choices,
        default=Fulfillment.EXPRESS,
        verbose_name=_("fulfillment"),
    )
    subtotal = _money(verbose_name=_("subtotal"))
    discount_total = _money(verbose_name=_("discount total"))
    shipping_fee = _money(verbose_name=_("shipping fee"))
    points_used = models.PositiveIntegerField(default=0, verbose_name=_("points used"))
    points_deduction = _money(verbose_name=_("points deduction"))
    payable = _money(verbose_name=_("payable"))
    paid_amount = _money(verbose_name=_("paid amount"))
    refunded_amount = _money(verbose_name=_("refunded amount"))
    # Snapshots taken at checkout (the order never re-reads the catalog or the campaigns).
    promotions = models.JSONField(default=list, blank=True, verbose_name=_("promotions"))
    gifts = models.JSONField(default=list, blank=True, verbose_name=_("gifts"))
    coupon_ids = models.JSONField(default=list, blank=True, verbose_name=_("coupon ids"))
    campaign_discounts = models.JSONField(
        default=list, blank=True, verbose_name=_("campaign discounts")
    )  # [[campaign_id, "12.00"]]
    address = models.JSONField(default=dict, blank=True, verbose_name=_("address"))
    store = models.ForeignKey(
        "orders.Store",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("store"),
    )
    store_snapshot = models.JSONField(default=dict, blank=True, verbose_name=_("store snapshot"))
    distance_km = models.DecimalField(
        max_digits=8, decimal_places=2, null=True, blank=True, verbose_name=_("distance km")
    )
    distribution = models.JSONField(
        default=dict, blank=True, verbose_name=_("distribution")
    )  # filled by distribution later
    remark = models.CharField(max_length=200, blank=True, default="", verbose_name=_("remark"))
    pickup_code = models.CharField(
        max_length=12, blank=True, default="", verbose_name=_("pickup code")
    )
    pickup_attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("pickup attempts"))
    payment_reference = models.CharField(
        max_length=64, blank=True, default="", verbose_name=_("payment reference")
    )
    expires_at = models.DateTimeField(null=True, blank=True, verbose_name=_("expires at"))
    paid_at = models.DateTimeField(null=True, blank=True, verbose_name=_("paid at"))
    shipped_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("shipped at")
    )  # every line shipped
    received_at = models.DateTimeField(null=True, blank=True, verbose_name=_("received at"))
    completed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("completed at"))
    cancelled_at = models.DateTimeField(null=True, blank=True, verbose_name=_("cancelled at"))
    cancel_reason = models.CharField(
        max_length=200, blank=True, default="", verbose_name=_("cancel reason")
    )
    # Set once, in the cancellation transaction, when stock/coupons/points/budgets went back.
    resources_released_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("resources released at")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
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


_S = Order.Status

# The order pipeline (``orders.services.transitions.order_transition`` applies it). Another
# partial refund of a partially refunded order is a move onto the same status, allowed there.
ORDER_TRANSITIONS: dict[str, frozenset[str]] = {
    _S.PENDING_PAYMENT: frozenset({_S.PAID, _S.CANCELLED}),
    _S.PAID: frozenset(
        {_S.PARTIALLY_SHIPPED, _S.SHIPPED, _S.RECEIVED, _S.PARTIALLY_REFUNDED, _S.REFUNDED}
    ),
    _S.PARTIALLY_SHIPPED: frozenset({_S.SHIPPED, _S.PARTIALLY_REFUNDED, _S.REFUNDED}),
    _S.SHIPPED: frozenset({_S.RECEIVED, _S.PARTIALLY_REFUNDED, _S.REFUNDED}),
    _S.RECEIVED: frozenset({_S.COMPLETED, _S.PARTIALLY_REFUNDED, _S.REFUNDED}),
    _S.PARTIALLY_REFUNDED: frozenset(
        {_S.PARTIALLY_SHIPPED, _S.SHIPPED, _S.RECEIVED, _S.COMPLETED, _S.REFUNDED}
    ),
    _S.COMPLETED: frozenset(),
    _S.CANCELLED: frozenset(),
    _S.REFUNDED: frozenset(),
}


class OrderLine(TenantOwnedModel):
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order")
    )
    sku = models.ForeignKey(
        "catalog.Sku",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sku"),
    )
    product_id = models.BigIntegerField(null=True, blank=True, verbose_name=_("product id"))
    sku_code = models.CharField(max_length=64, blank=True, default="", verbose_name=_("sku code"))
    title = models.CharField(max_length=120, verbose_name=_("title"))
    specs = models.JSONField(default=list, blank=True, verbose_name=_("specs"))
    spec_label = models.CharField(
        max_length=255, blank=True, default="", verbose_name=_("spec label")
    )
    image = models.CharField(max_length=255, blank=True, default="", verbose_name=_("image"))
    is_gift = models.BooleanField(default=False, verbose_name=_("is gift"))
    unit_price = _money(verbose_name=_("unit price"))
    item_price = _money(verbose_name=_("item price"))
    quantity = models.PositiveIntegerField(verbose_name=_("quantity"))
    subtotal = _money(verbose_name=_("subtotal"))
    discount = _money(verbose_name=_("discount"))  # item + campaigns + coupons
    points_deduction = _money(verbose_name=_("points deduction"))
    shipping_fee = _money(
        verbose_name=_("shipping fee")
    )  # this line's share of the order's shipping fee
    payable = _money(
        verbose_name=_("payable")
    )  # subtotal - discount - points_deduction + shipping_fee
    breakdown = models.JSONField(
        default=list, blank=True, verbose_name=_("breakdown")
    )  # allocated adjustments
    shipped_quantity = models.PositiveIntegerField(default=0, verbose_name=_("shipped quantity"))
    refunded_quantity = models.PositiveIntegerField(default=0, verbose_name=_("refunded quantity"))
    refunded_amount = _money(verbose_name=_("refunded amount"))

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
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

    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="events", verbose_name=_("order")
    )
    kind = models.CharField(
        max_length=32, verbose_name=_("kind")
    )  # status / shipment / pickup_failed / refund ...
    from_status = models.CharField(
        max_length=24, blank=True, default="", verbose_name=_("from status")
    )
    to_status = models.CharField(max_length=24, blank=True, default="", verbose_name=_("to status"))
    actor = models.CharField(
        max_length=64, blank=True, default="", verbose_name=_("actor")
    )  # member:1, staff:2, system
    note = models.CharField(max_length=255, blank=True, default="", verbose_name=_("note"))
    data = models.JSONField(default=dict, blank=True, verbose_name=_("data"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        ordering = ["id"]
        indexes = [models.Index(fields=["order", "id"], name="order_event_timeline")]

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind} {self.from_status}->{self.to_status}"


class PointsUse(TenantOwnedModel):
    """Points an order took from the member (order-owned until a points ledger exists).

    ``returned_at`` is set by the one guarded UPDATE that gives them back, so points return
    exactly once."""

    order = models.OneToOneField(
        Order, on_delete=models.CASCADE, related_name="points_use", verbose_name=_("order")
    )
    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="+", verbose_name=_("member")
    )
    points = models.PositiveIntegerField(verbose_name=_("points"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    returned_at = models.DateTimeField(null=True, blank=True, verbose_name=_("returned at"))

    class Meta:
        verbose_name = _("points use")
        verbose_name_plural = _("points uses")
        constraints = [
            models.CheckConstraint(condition=Q(points__gte=1), name="points_use_gte_1"),
        ]

    def __str__(self) -> str:
        return gettext("%(points)s points for order %(order)s") % {
            "points": self.points,
            "order": self.order_id,
        }
