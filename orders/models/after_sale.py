"""After-sales: refund-only and return-and-refund requests, their lines and timeline."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mall.tenancy.scoping import TenantOwnedModel


class AfterSale(TenantOwnedModel):
    class Type(models.TextChoices):
        REFUND = "refund", _("Refund only")
        RETURN_REFUND = "return_refund", _("Return and refund")

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        APPROVED = "approved", _("Approved")  # return: waiting for the buyer to send goods back
        RETURN_SHIPPED = "return_shipped", _("Goods sent back")
        RETURN_RECEIVED = "return_received", _("Goods received back")
        REFUNDING = "refunding", _("Refund in progress")
        REFUNDED = "refunded", _("Refunded")
        REJECTED = "rejected", _("Rejected")
        CANCELLED = "cancelled", _("Withdrawn")

    OPEN_STATUSES = (
        Status.REQUESTED,
        Status.APPROVED,
        Status.RETURN_SHIPPED,
        Status.RETURN_RECEIVED,
        Status.REFUNDING,
    )

    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.PROTECT,
        related_name="after_sales",
        verbose_name=_("order"),
    )
    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="+", verbose_name=_("member")
    )
    type = models.CharField(max_length=16, choices=Type.choices, verbose_name=_("type"))
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.REQUESTED, verbose_name=_("status")
    )
    reason = models.CharField(max_length=200, verbose_name=_("reason"))
    amount = models.DecimalField(
        max_digits=12, decimal_places=2, verbose_name=_("amount")
    )  # to refund
    includes_shipping = models.BooleanField(default=False, verbose_name=_("includes shipping"))
    reject_reason = models.CharField(
        max_length=200, blank=True, default="", verbose_name=_("reject reason")
    )
    restock = models.BooleanField(
        default=False, verbose_name=_("restock")
    )  # merchant's choice, applied on refund
    return_carrier = models.CharField(
        max_length=32, blank=True, default="", verbose_name=_("return carrier")
    )
    return_tracking_no = models.CharField(
        max_length=64, blank=True, default="", verbose_name=_("return tracking no")
    )
    refund_reference = models.CharField(
        max_length=64, blank=True, default="", verbose_name=_("refund reference")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))
    refunded_at = models.DateTimeField(null=True, blank=True, verbose_name=_("refunded at"))

    class Meta:
        verbose_name = _("after-sale")
        verbose_name_plural = _("after-sales")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="after_sale_amount_gte_0"),
        ]
        indexes = [models.Index(fields=["tenant", "status", "-id"], name="after_sale_status")]

    def __str__(self) -> str:
        return gettext("after-sale %(id)s of order %(order)s") % {
            "id": self.pk,
            "order": self.order_id,
        }


_A = AfterSale.Status

# ``orders.services.after_sales`` applies it; leaving ``refunding`` when payments never created
# the refund is the one extra way out (``AFTER_SALE_REFUND_ABORT_TARGETS``, only through
# ``after_sale_refund_abort``).
AFTER_SALE_TRANSITIONS: dict[str, frozenset[str]] = {
    _A.REQUESTED: frozenset({_A.APPROVED, _A.REJECTED, _A.CANCELLED}),
    _A.APPROVED: frozenset({_A.RETURN_SHIPPED, _A.REFUNDING, _A.CANCELLED}),
    _A.RETURN_SHIPPED: frozenset({_A.RETURN_RECEIVED}),
    _A.RETURN_RECEIVED: frozenset({_A.REFUNDING}),
    _A.REFUNDING: frozenset({_A.REFUNDED}),
    _A.REFUNDED: frozenset(),
    _A.REJECTED: frozenset(),
    _A.CANCELLED: frozenset(),
}
AFTER_SALE_REFUND_ABORT_TARGETS = frozenset({_A.APPROVED, _A.RETURN_RECEIVED, _A.CANCELLED})


class AfterSaleLine(TenantOwnedModel):
    after_sale = models.ForeignKey(
        AfterSale, on_delete=models.CASCADE, related_name="lines", verbose_name=_("after sale")
    )
    order_line = models.ForeignKey(
        "orders.OrderLine",
        on_delete=models.PROTECT,
        related_name="after_sale_lines",
        verbose_name=_("order line"),
    )
    quantity = models.PositiveIntegerField(verbose_name=_("quantity"))
    amount = models.DecimalField(max_digits=12, decimal_places=2, verbose_name=_("amount"))

    class Meta:
        verbose_name = _("after-sale line")
        verbose_name_plural = _("after-sale lines")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="after_sale_line_qty"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="after_sale_line_amount"),
        ]

    def __str__(self) -> str:
        return gettext("%(quantity)s of line %(line)s") % {
            "quantity": self.quantity,
            "line": self.order_line_id,
        }


class AfterSaleEvent(TenantOwnedModel):
    after_sale = models.ForeignKey(
        AfterSale, on_delete=models.CASCADE, related_name="events", verbose_name=_("after sale")
    )
    kind = models.CharField(max_length=32, default="status", verbose_name=_("kind"))
    from_status = models.CharField(
        max_length=20, blank=True, default="", verbose_name=_("from status")
    )
    to_status = models.CharField(max_length=20, blank=True, default="", verbose_name=_("to status"))
    actor = models.CharField(max_length=64, blank=True, default="", verbose_name=_("actor"))
    note = models.CharField(max_length=255, blank=True, default="", verbose_name=_("note"))
    data = models.JSONField(default=dict, blank=True, verbose_name=_("data"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("after-sale event")
        verbose_name_plural = _("after-sale events")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.after_sale_id} {self.from_status}->{self.to_status}"
