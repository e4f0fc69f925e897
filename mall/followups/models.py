from django.db import models
from django.utils.translation import gettext_lazy as _

from mall.tenancy.scoping import TenantOwnedModel


class FollowUp(TenantOwnedModel):
    """Work that must happen after a state change, recorded in the change's transaction.

    A row exists iff its change committed. The relay publishes it to Celery after commit and
    again from the beat sweep until a worker has run it to the end, so a broker outage or a
    killed worker delays the work and never loses it. The task it names must be idempotent.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    # A registered Celery task name, e.g. "distribution.tasks.commissions_create".
    task = models.CharField(_("task"), max_length=100)
    kwargs = models.JSONField(_("arguments"), default=dict)
    # What the work is about, e.g. "commissions_create:order:42": recording the same key again
    # while the first is pending is one piece of work; after it is done it arms it again.
    key = models.CharField(_("key"), max_length=200)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True, default="")
    due_at = models.DateTimeField(_("due at"))
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    # A runner holds the row until then; a killed worker's lease runs out and the sweep
    # publishes the row again.
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "key"], name="uniq_followup_key_per_tenant")
        ]
        indexes = [
            models.Index(
                fields=["due_at"],
                name="followup_pending_due",
                condition=models.Q(status="pending"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.task} {self.key} ({self.status})"


# ``mall.followups.services`` applies it (guarded UPDATEs): a run ends done or, out of
# attempts, failed; an operator retry or a new record of the same key arms it again.
FOLLOW_UP_TRANSITIONS: dict[str, frozenset[str]] = {
    FollowUp.Status.PENDING: frozenset({FollowUp.Status.DONE, FollowUp.Status.FAILED}),
    FollowUp.Status.DONE: frozenset({FollowUp.Status.PENDING}),
    FollowUp.Status.FAILED: frozenset({FollowUp.Status.PENDING}),
}
