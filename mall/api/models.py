from django.db import models

from mall.tenancy.scoping import TenantOwnedModel


class IdempotencyRecord(TenantOwnedModel):
    """The first answer to a POST carrying an ``Idempotency-Key``, replayed on repeats."""

    class State(models.TextChoices):
        IN_PROGRESS = "in_progress"
        DONE = "done"

    # Who sent it: "member:<id>", "apikey:<id>", "staff:<id>" or "anon:<channel id>".
    principal = models.CharField(max_length=64)
    key = models.CharField(max_length=128)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    state = models.CharField(max_length=16, choices=State.choices, default=State.IN_PROGRESS)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "principal", "key"], name="uniq_idempotency_key_per_principal"
            )
        ]
