"""Shipments (express and same-city) and the lines they carry."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from mall.tenancy.scoping import TenantOwnedModel


class Shipment(TenantOwnedModel):
    class Kind(models.TextChoices):
        EXPRESS = "express", "Express"
        SAME_CITY = "same_city", "Same-city"

    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="shipments")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.EXPRESS)
    carrier = models.CharField(max_length=32, blank=True, default="")  # e.g. "shunfeng"
    tracking_no = models.CharField(max_length=64, blank=True, default="")
    courier_name = models.CharField(max_length=50, blank=True, default="")
    courier_phone = models.CharField(max_length=20, blank=True, default="")
    tracking = models.JSONField(default=list, blank=True)  # last events fetched from courier
    tracking_state = models.CharField(max_length=32, blank=True, default="")
    tracking_checked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="same_city") | (~Q(carrier="") & ~Q(tracking_no="")),
                name="shipment_express_has_tracking",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.carrier} {self.tracking_no}".strip() or f"shipment {self.pk}"


class ShipmentLine(TenantOwnedModel):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(
        "orders.OrderLine", on_delete=models.CASCADE, related_name="shipment_lines"
    )
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="shipment_line_qty_gte_1"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} of line {self.order_line_id}"
