"""Reads of the points ledger (shopper API, console)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import F, QuerySet, Sum
from django.utils import timezone

from members.models import Member
from members.points.models import PointsLedger, PointsLot

EXPIRING_SOON_DAYS = 30


def points_expiring_soon(
    *, member: Member, now: datetime | None = None, days: int = EXPIRING_SOON_DAYS
) -> list[dict[str, Any]]:
    """``[{points, expires_at}]`` of the member's lots expiring within ``days``, by expiry
    (lots with the same expiry added up). One query."""
    now = now or timezone.now()
    return list(
        PointsLot.objects.for_tenant(member.tenant_id)
        .filter(
            member_id=member.pk,
            expired=False,
            remaining__gt=0,
            expires_at__gt=now,
            expires_at__lte=now + timedelta(days=days),
        )
        .values("expires_at")
        .annotate(points=Sum("remaining"))
        .order_by("expires_at")
        .values("points", "expires_at")
    )


def points_ledger_for_member(*, member: Member) -> QuerySet[PointsLedger]:
    """The member's ledger rows, newest first, with the expiry of the lot a row created."""
    return (
        PointsLedger.objects.for_tenant(member.tenant_id)
        .filter(member_id=member.pk)
        .annotate(expires_at=F("lot__expires_at"))
        .order_by("-id")
        .only("id", "delta", "reason", "order_number", "created_at")
    )
