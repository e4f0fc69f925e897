from django.db import models
from django.utils.translation import gettext_lazy as _

from mall.tenancy.scoping import TenantOwnedModel


class OutboxEvent(TenantOwnedModel):
    """A domain event recorded in the same transaction as the change that caused it.

    The webhook issue delivers these (``order.paid``, ``product.stock_low`` ...) with retries;
    recording them transactionally means an event exists iff its change committed.
    """

    name = models.CharField(_("name"), max_length=64, db_index=True)
    payload = models.JSONField(_("payload"), default=dict)
    # e.g. "sku:42" or "order:2026..." — lets consumers de-duplicate and find the subject.
    subject = models.CharField(_("subject"), max_length=128, blank=True, default="")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("outbox event")
        verbose_name_plural = _("outbox events")
        ordering = ["id"]
        indexes = [models.Index(fields=["tenant", "name", "id"])]

    def __str__(self) -> str:
        return f"{self.name} {self.subject}"
