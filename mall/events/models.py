from django.db import models

from mall.tenancy.scoping import TenantOwnedModel


class OutboxEvent(TenantOwnedModel):
    """A domain event recorded in the same transaction as the change that caused it.

    The webhook issue delivers these (``order.paid``, ``product.stock_low`` ...) with retries;
    recording them transactionally means an event exists iff its change committed.
    """

    name = models.CharField(max_length=64, db_index=True)
    payload = models.JSONField(default=dict)
    # e.g. "sku:42" or "order:2026..." — lets consumers de-duplicate and find the subject.
    subject = models.CharField(max_length=128, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["tenant", "name", "id"])]

    def __str__(self) -> str:
        return f"{self.name} {self.subject}"
