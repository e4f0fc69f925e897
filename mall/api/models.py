from django.db import models
from django.utils.translation import gettext_lazy as _

from mall.tenancy.scoping import TenantOwnedModel


class IdempotencyRecord(TenantOwnedModel):
    """The first answer to a POST carrying an ``Idempotency-Key``, replayed on repeats."""

    class State(models.TextChoices):
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")

    # Who sent it: "member:<id>", "apikey:<id>", "staff:<id>" or "anon:<channel id>".
    principal = models.CharField(_("principal"), max_length=64)
    key = models.CharField(_("key"), max_length=128)
    method = models.CharField(_("method"), max_length=8)
    path = models.CharField(_("path"), max_length=255)
    request_hash = models.CharField(_("request hash"), max_length=64)
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.IN_PROGRESS
    )
    response_status = models.PositiveSmallIntegerField(_("response status"), null=True, blank=True)
    response_body = models.JSONField(_("response body"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "principal", "key"], name="uniq_idempotency_key_per_principal"
            )
        ]
