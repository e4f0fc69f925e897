"""Shipments (express and same-city) and the lines they carry."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mall.tenancy.scoping import TenantOwnedModel


class Shipment(TenantOwnedModel):
    class Kind(models.TextChoices):
        EXPRESS = "express", _("Express")
        SAME_CITY = "same_city", _("Same-city")

    order = models.ForeignKey(
        "orders.Order", on_delete=models.CASCADE, related_name="shipments", verbose_name=_("order")
    )
    kind = models.CharField(
        max_length=16, choices=Kind.choices, default=Kind.EXPRESS, verbose_name=_("kind")
    )
    carrier = models.CharField(
        max_length=32, blank=True, default="", verbose_name=_("carrier")
    )  # e.g. "shunfeng"
    tracking_no = models.CharField(
        max_length=64, blank=True, default="", verbose_name=_("tracking no")
    )
    courier_name = models.CharField(
        max_length=50, blank=True, default="", verbose_name=_("courier name")
    )
    courier_phone = models.CharField(
        max_length=20, blank=True, default="", verbose_name=_("courier phone")
    )
    tracking = models.JSONField(
        default=list, blank=True, verbose_name=_("tracking")
    )  # last events fetched from courier
    tracking_state = models.CharField(
        max_length=32, blank=True, default="", verbose_name=_("tracking state")
    )
    tracking_checked_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("tracking checked at")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="same_city") | (~Q(carrier="") & ~Q(tracking_no="")),
                name="shipment_express_has_tracking",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.carrier} {self.tracking_no}".strip() or gettext("shipment %(id)s") % {
            "id": self.pk
        }


class ShipmentLine(TenantOwnedModel):
    shipment = models.ForeignKey(
        Shipment, on_delete=models.CASCADE, related_name="lines", verbose_name=_("shipment")
    )
    order_line = models.ForeignKey(
        "orders.OrderLine",
        on_delete=models.CASCADE,
        related_name="shipment_lines",
        verbose_name=_("order line"),
    )
    quantity = models.PositiveIntegerField(verbose_name=_("quantity"))

    class Meta:
        verbose_name = _("shipment line")
        verbose_name_plural = _("shipment lines")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="shipment_line_qty_gte_1"),
        ]

    def __str__(self) -> str:
        return gettext("%(quantity)s of line %(line)s") % {
            "quantity": self.quantity,
            "line": self.order_line_id,
        }
