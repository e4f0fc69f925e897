"""The stock ledger: every stock change writes one StockMovement (see catalog/inventory.py)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from mall.tenancy.scoping import TenantOwnedModel


class StockMovement(TenantOwnedModel):
    """One change of a SKU's sellable stock, with the stock that resulted."""

    class Reason(models.TextChoices):
        RESERVE = "reserve", "Reserved by an order"
        RELEASE = "release", "Released (order cancelled or expired)"
        DEDUCT = "deduct", "Sold without reservation"
        RESTOCK = "restock", "Restocked (return or delivery)"
        ADJUST = "adjust", "Manual adjustment"
        SYNC = "sync", "Absolute stock set (ERP/WMS sync)"
        IMPORT = "import", "Imported"
        CONSOLE = "console", "Console edit"

    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="movements")
    reason = models.CharField(max_length=16, choices=Reason.choices)
    # Order number, import batch, idempotency key... unique per (reason, sku) when set.
    reference = models.CharField(max_length=128, blank=True, default="")
    quantity = models.IntegerField()
    stock_after = models.IntegerField()
    note = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
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
