"""After-sales: refund-only and return-and-refund requests, their lines and timeline."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from mall.tenancy.scoping import TenantOwnedModel


class AfterSale(TenantOwnedModel):
    class Type(models.TextChoices):
        REFUND = "refund", "Refund only"
        RETURN_REFUND = "return_refund", "Return and refund"

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        APPROVED = "approved", "Approved"  # return: waiting for the buyer to send goods back
        RETURN_SHIPPED = "return_shipped", "Goods sent back"
        RETURN_RECEIVED = "return_received", "Goods received back"
        REFUNDING = "refunding", "Refund in progress"
        REFUNDED = "refunded", "Refunded"
        REJECTED = "rejected", "Rejected"
        CANCELLED = "cancelled", "Withdrawn"

    OPEN_STATUSES = (
        Status.REQUESTED,
        Status.APPROVED,
        Status.RETURN_SHIPPED,
        Status.RETURN_RECEIVED,
        Status.REFUNDING,
    )

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="after_sales")
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+")
    type = models.CharField(max_length=16, choices=Type.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.REQUESTED)
    reason = models.CharField(max_length=200)
    amount = models.DecimalField(max_digits=12, decimal_places=2)  # to refund
    includes_shipping = models.BooleanField(default=False)
    reject_reason = models.CharField(max_length=200, blank=True, default="")
    restock = models.BooleanField(default=False)  # merchant's choice, applied on refund
    return_carrier = models.CharField(max_length=32, blank=True, default="")
    return_tracking_no = models.CharField(max_length=64, blank=True, default="")
    refund_reference = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    refunded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="after_sale_amount_gte_0"),
        ]
        indexes = [models.Index(fields=["tenant", "status", "-id"], name="after_sale_status")]

    def __str__(self) -> str:
        return f"after-sale {self.pk} of order {self.order_id}"


class AfterSaleLine(TenantOwnedModel):
    after_sale = models.ForeignKey(AfterSale, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(
        "orders.OrderLine", on_delete=models.PROTECT, related_name="after_sale_lines"
    )
    quantity = models.PositiveIntegerField()
    amount = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="after_sale_line_qty"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="after_sale_line_amount"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} of line {self.order_line_id}"


class AfterSaleEvent(TenantOwnedModel):
    after_sale = models.ForeignKey(AfterSale, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=32, default="status")
    from_status = models.CharField(max_length=20, blank=True, default="")
    to_status = models.CharField(max_length=20, blank=True, default="")
    actor = models.CharField(max_length=64, blank=True, default="")
    note = models.CharField(max_length=255, blank=True, default="")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.after_sale_id} {self.from_status}->{self.to_status}"
