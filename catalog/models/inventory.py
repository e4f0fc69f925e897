"""The stock ledger: every stock change writes one StockMovement (see catalog/inventory.py)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from mall.tenancy.scoping import TenantOwnedModel


class StockMovement(TenantOwnedModel):
    """One change of a SKU's sellable stock, with the stock that resulted."""

    class Reason(models.TextChoices):
        RESERVE = "reserve", _("Reserved by an order")
        RELEASE = "release", _("Released (order cancelled or expired)")
        DEDUCT = "deduct", _("Sold without reservation")
        RESTOCK = "restock", _("Restocked (return or delivery)")
        ADJUST = "adjust", _("Manual adjustment")
        SYNC = "sync", _("Absolute stock set (ERP/WMS sync)")
        IMPORT = "import", _("Imported")
        CONSOLE = "console", _("Console edit")

    sku = models.ForeignKey(
        "catalog.Sku", verbose_name=_("sku"), on_delete=models.PROTECT, related_name="movements"
    )
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    # Order number, import batch, idempotency key... unique per (reason, sku) when set.
    reference = models.CharField(_("reference"), max_length=128, blank=True, default="")
    quantity = models.IntegerField(_("quantity"))
    stock_after = models.IntegerField(_("stock after"))
    note = models.CharField(_("note"), max_length=255, blank=True, default="")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "reason", "reference", "sku"],
                condition=~Q(reference=""),
                name="uniq_stock_movement_reference",
            ),
            models.CheckConstraint(condition=Q(stock_after__gte=0), name="movement_stock_gte_0"),
        ]
        indexes = [
            models.Index(fields=["sku", "-id"], name="movement_sku_recent"),
            models.Index(fields=["tenant", "reference"], name="movement_reference"),
        ]

    def __str__(self) -> str:
        return f"{self.reason} {self.quantity:+d} sku {self.sku_id} -> {self.stock_after}"
