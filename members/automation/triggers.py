"""The swept triggers members answers itself: birthday, dormant, card expiring.

Each answers ``(member_id, period_key)`` pairs for a rule now, with a catch-up window so that a
sweep that did not run for a while (deploy, outage) still fires, once:

- birthday, N days before: members whose next birthday is within the next N days (today
  included), period = the birthday's year. 29 February counts as 28 February in other years.
- dormant N days: members whose last paid order (``MemberRfm.last_paid_at``, moved forward at
  once when an order is paid) is N to N+7 days old, period = that order's time.
- card expiring within N days: member cards ending between now and N days, period = the end.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import reduce
from operator import or_

from django.db.models import Q
from django.utils import timezone

from mall.tenancy.models import Tenant
from members.models import Member, MemberCard
from members.segments.models import MemberRfm

CATCH_UP_DAYS = 7


def _local_today(tenant_id: int, now: datetime) -> dt.date:
    tenant = Tenant.objects.get(pk=tenant_id)
    return timezone.localtime(now, tenant.tz).date()


def _birthday_in(year: int, birthday: dt.date) -> dt.date:
    day = birthday.day
    if birthday.month == 2 and day == 29 and not calendar.isleap(year):
        day = 28
    return dt.date(year, birthday.month, day)


def birthday_candidates(
    *, tenant_id: int, days: int | None, hours: int | None, now: datetime
) -> Iterable[tuple[int, str]]:
    today = _local_today(tenant_id, now)
    window = [today + timedelta(days=i) for i in range((days or 0) + 1)]
    pairs = {(d.month, d.day) for d in window}
    if any(d.month == 2 and d.day == 28 and not calendar.isleap(d.year) for d in window):
        pairs.add((2, 29))
    q = reduce(or_, (Q(birthday__month=m, birthday__day=d) for m, d in sorted(pairs)))
    rows = (
        Member.objects.for_tenant(tenant_id)
        .filter(is_active=True, merged_into__isnull=True, birthday__isnull=False)
        .filter(q)
        .values_list("pk", "birthday")
    )
    out = []
    for member_id, birthday in rows:
        this_year = _birthday_in(today.year, birthday)
        occurs = this_year if this_year >= today else _birthday_in(today.year + 1, birthday)
        out.append((member_id, str(occurs.year)))
    return out


def dormant_candidates(
    *, tenant_id: int, days: int | None, hours: int | None, now: datetime
) -> Iterable[tuple[int, str]]:
    boundary = now - timedelta(days=days or 0)
    rows = (
        MemberRfm.objects.for_tenant(tenant_id)
        .filter(
            last_paid_at__lte=boundary,
            last_paid_at__gt=boundary - timedelta(days=CATCH_UP_DAYS),
        )
        .values_list("member_id", "last_paid_at")
    )
    return [(member_id, paid_at.isoformat()) for member_id, paid_at in rows]


def card_expiring_candidates(
    *, tenant_id: int, days: int | None, hours: int | None, now: datetime
) -> Iterable[tuple[int, str]]:
    rows = (
        MemberCard.objects.for_tenant(tenant_id)
        .filter(ends_at__gt=now, ends_at__lte=now + timedelta(days=days or 0))
        .values_list("member_id", "ends_at")
    )
    return [(member_id, ends_at.isoformat()) for member_id, ends_at in rows]
