"""Check-in (签到): once per member per day in the shop's time zone, with streak rewards."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from mall.tenancy.scoping import TenantOwnedModel


class CheckInReward(TenantOwnedModel):
    """What a check-in gives on day ``day`` of a streak (``day`` 0: on every check-in, added
    to the day's own rule). ``coupon_template_id`` names a promotions coupon template (issued
    through ``members.checkin.rewards`` hooks); ``growth`` goes to the growth hook."""

    day = models.PositiveIntegerField(_("streak day"))
    points = models.PositiveIntegerField(_("points"), default=0)
    coupon_template_id = models.PositiveIntegerField(_("coupon template id"), null=True, blank=True)
    growth = models.PositiveIntegerField(_("growth"), default=0)
    is_active = models.BooleanField(_("is active"), default=True)

    class Meta:
        verbose_name = _("check-in reward")
        verbose_name_plural = _("check-in rewards")
        ordering = ["day"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "day"], name="uniq_checkin_reward_day"),
        ]

    def __str__(self) -> str:
        return f"day {self.day}: {self.points} points"


class CheckIn(TenantOwnedModel):
    """One day a member checked in (``date`` in the shop's time zone)."""

    member = models.ForeignKey(
        "members.Member", verbose_name=_("member"), on_delete=models.CASCADE, related_name="+"
    )
    date = models.DateField(_("date"))
    streak = models.PositiveIntegerField(_("streak"))
    rewards = models.JSONField(_("rewards"), default=list)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("check-in")
        verbose_name_plural = _("check-ins")
        ordering = ["-date"]
        constraints = [
            models.UniqueConstraint(fields=["member", "date"], name="uniq_checkin_member_date"),
            models.CheckConstraint(condition=models.Q(streak__gte=1), name="checkin_streak_gte_1"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} {self.date} ({self.streak})"
