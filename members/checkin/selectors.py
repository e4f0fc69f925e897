"""Reads of check-ins: a month's calendar and the current streak."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db.models import Q

from members.checkin.models import CheckIn
from members.models import Member


def month_end(month: date) -> date:
    """The first day of the month after ``month``."""
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def checkin_month(*, member: Member, month: date, today: date) -> dict[str, Any]:
    """The month's check-ins (``month`` is its first day) and the streak as of ``today`` (0
    when neither today nor yesterday was checked in). One query."""
    end = month_end(month)
    yesterday = today - timedelta(days=1)
    rows = list(
        CheckIn.objects.for_tenant(member.tenant_id)
        .filter(member_id=member.pk)
        .filter(Q(date__gte=month, date__lt=end) | Q(date__in=[today, yesterday]))
        .order_by("date")
        .values_list("date", "streak")
    )
    by_date = dict(rows)
    return {
        "month": f"{month:%Y-%m}",
        "days": [{"date": d, "streak": s} for d, s in rows if month <= d < end],
        "streak": by_date.get(today) or by_date.get(yesterday) or 0,
        "checked_in_today": today in by_date,
    }
