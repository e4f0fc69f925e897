"""Lifecycle automation: rules (trigger -> segment -> actions) and one execution per member and
period (the unique key that makes a rule fire at most once per member per period)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mall.tenancy.scoping import TenantOwnedModel


class AutomationRule(TenantOwnedModel):
    class Trigger(models.TextChoices):
        BIRTHDAY = "birthday", _("N days before the birthday")
        DORMANT = "dormant", _("N days since the last paid order")
        FIRST_PAID_ORDER = "first_paid_order", _("First paid order")
        TIER_UP = "tier_up", _("Tier up")
        TIER_DOWN = "tier_down", _("Tier down")
        POINTS_EXPIRING = "points_expiring", _("Points expiring within N days")
        CARD_EXPIRING = "card_expiring", _("Member card expiring within N days")
        CART_ABANDONED = "cart_abandoned", _("Cart left for N hours")

    # Triggers swept by beat (the others are events: ``automation_trigger``).
    SWEPT = frozenset(
        {
            Trigger.BIRTHDAY,
            Trigger.DORMANT,
            Trigger.POINTS_EXPIRING,
            Trigger.CARD_EXPIRING,
            Trigger.CART_ABANDONED,
        }
    )
    NEEDS_DAYS = frozenset(
        {Trigger.BIRTHDAY, Trigger.DORMANT, Trigger.POINTS_EXPIRING, Trigger.CARD_EXPIRING}
    )

    name = models.CharField(_("name"), max_length=64)
    is_active = models.BooleanField(_("is active"), default=True)
    trigger = models.CharField(_("trigger"), max_length=20, choices=Trigger.choices)
    days = models.PositiveIntegerField(_("days (N)"), null=True, blank=True)
    hours = models.PositiveIntegerField(_("hours (N)"), null=True, blank=True)
    segment = models.ForeignKey(
        "members.Segment",
        verbose_name=_("only members of the segment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Actions (any combination; at least one).
    coupon_template_id = models.PositiveIntegerField(_("issue the coupon"), null=True, blank=True)
    points = models.PositiveIntegerField(_("grant points"), default=0)
    tag = models.ForeignKey(
        "members.Tag",
        verbose_name=_("add the tag"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    notify = models.BooleanField(_("notify the member"), default=False)
    notify_title = models.CharField(_("notification title"), max_length=64, blank=True, default="")
    notify_text = models.CharField(_("notification text"), max_length=200, blank=True, default="")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("automation rule")
        verbose_name_plural = _("automation rules")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "name"], name="uniq_automation_rule_name_per_tenant"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.trigger in self.NEEDS_DAYS and self.days is None:
            errors["days"] = gettext("Give N (days) for this trigger.")
        if self.trigger == self.Trigger.CART_ABANDONED and not self.hours:
            errors["hours"] = gettext("Give N (hours) for this trigger.")
        if self.trigger == self.Trigger.BIRTHDAY and self.days is not None and self.days > 60:
            errors["days"] = gettext("At most 60 days before the birthday.")
        if not (self.coupon_template_id or self.points or self.tag_id or self.notify):
            errors["__all__"] = gettext("Choose at least one action.")
        if self.notify and not self.notify_title:
            errors["notify_title"] = gettext("A notification needs a title.")
        if errors:
            raise ValidationError(errors)


# Pending until the executor ran it: done (actions taken) or skipped (not in the segment).
# Set-based moves only (``transition_update``), from pending.
AUTOMATION_EXECUTION_TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"done", "skipped"}),
    "done": frozenset(),
    "skipped": frozenset(),
}


class AutomationExecution(TenantOwnedModel):
    """One firing of a rule for a member in one period (``period_key``: the birthday's year, the
    last paid order's date, the card's end date ...). Pending until the executor ran it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DONE = "done", _("Done")
        SKIPPED = "skipped", _("Skipped (not in the segment)")

    rule = models.ForeignKey(
        AutomationRule, verbose_name=_("rule"), on_delete=models.CASCADE, related_name="executions"
    )
    member = models.ForeignKey(
        "members.Member", verbose_name=_("member"), on_delete=models.CASCADE, related_name="+"
    )
    period_key = models.CharField(_("period"), max_length=64)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.PENDING
    )
    # What the actions did: coupon issued or the code it was refused with, points, tag, notified.
    coupon_id = models.PositiveBigIntegerField(_("coupon id"), null=True, blank=True)
    coupon_error = models.CharField(_("coupon error"), max_length=64, blank=True, default="")
    points = models.PositiveIntegerField(_("points granted"), default=0)
    tagged = models.BooleanField(_("tagged"), default=False)
    notified = models.BooleanField(_("notified"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    executed_at = models.DateTimeField(_("executed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("automation execution")
        verbose_name_plural = _("automation executions")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "member", "period_key"], name="uniq_automation_once_per_period"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "done", "skipped"]),
                name="automation_execution_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "rule", "status"]),
            models.Index(fields=["tenant", "member"]),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id}:{self.member_id}:{self.period_key}"
