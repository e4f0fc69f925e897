"""Check-in (签到): once per member per day in the shop's time zone, streaks, day-N rewards.

The member's row lock serializes a member's check-ins (20 simultaneous requests: one creates
the day's row, the others find it); the unique ``(member, date)`` constraint backs it up.
The streak is yesterday's streak + 1, else 1. Rewards: the active rule of day 0 (every
check-in) plus the rule of the streak's day N, all in the same transaction: points (a lot,
``checkin`` reason, idempotent per member and day), a coupon and growth through the hooks of
``members.checkin.rewards``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from mall.tenancy.models import Tenant
from members import lock_objects
from members.checkin import rewards as hooks
from members.checkin.models import CheckIn, CheckInReward
from members.models import Member
from members.points.models import Reason
from members.points.services import points_earn


@dataclass(frozen=True)
class CheckInResult:
    checkin: CheckIn
    created: bool


def local_today(tenant: Tenant, now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(tenant.tz).date()


def checkin_do(*, tenant: Tenant, member: Member, now: datetime | None = None) -> CheckInResult:
    """Check the member in for today (shop's time zone); again the same day answers the
    day's check-in with ``created`` False and gives nothing more."""
    now = now or timezone.now()
    today = local_today(tenant, now)
    with transaction.atomic():
        lock_objects.members_for_update(tenant=tenant, ids=[member.pk]).first()
        found = CheckIn.objects.for_tenant(tenant).filter(member_id=member.pk, date=today).first()
        if found is not None:
            return CheckInResult(found, False)
        yesterday = (
            CheckIn.objects.for_tenant(tenant)
            .filter(member_id=member.pk, date=today - timedelta(days=1))
            .values_list("streak", flat=True)
            .first()
        )
        streak = (yesterday or 0) + 1
        rules = list(
            CheckInReward.objects.for_tenant(tenant).filter(is_active=True, day__in=[0, streak])
        )
        ref = f"checkin:{member.pk}:{today.isoformat()}"
        given: list[dict[str, Any]] = []
        points = sum(r.points for r in rules)
        growth = sum(r.growth for r in rules)
        if points:
            points_earn(
                tenant=tenant,
                member_id=member.pk,
                points=points,
                reason=Reason.CHECKIN,
                ref=ref,
                actor="member",
                now=now,
            )
            given.append({"type": "points", "points": points})
        for rule in rules:
            if rule.coupon_template_id and hooks.grant_coupon(
                tenant=tenant,
                member_id=member.pk,
                template_id=rule.coupon_template_id,
                ref=f"{ref}:{rule.day}",
            ):
                given.append({"type": "coupon", "template_id": rule.coupon_template_id})
        if growth:
            hooks.grant_growth(tenant=tenant, member_id=member.pk, amount=growth, ref=ref)
            given.append({"type": "growth", "growth": growth})
        checkin = CheckIn.objects.create(
            tenant=tenant, member=member, date=today, streak=streak, rewards=given
        )
    return CheckInResult(checkin, True)
