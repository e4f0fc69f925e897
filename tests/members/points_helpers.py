"""Helpers of the points tests: the ledger invariant, checked from the tables."""

from __future__ import annotations

from typing import Any

from django.db.models import Sum

from members.models import Member, PointsLedger, PointsLot, PointsLotMove


def assert_invariant(tenant: Any, member: Member) -> int:
    """balance == sum(remaining of unexpired lots) - debt == sum(ledger deltas), and every lot
    accounts for each of its points (remaining + expired + debt paid + net taken). Returns
    the balance."""
    fresh = Member.objects.for_tenant(tenant).get(pk=member.pk)
    lots = PointsLot.objects.for_tenant(tenant).filter(member_id=member.pk)
    remaining = lots.filter(expired=False).aggregate(s=Sum("remaining"))["s"] or 0
    ledger = (
        PointsLedger.objects.for_tenant(tenant)
        .filter(member_id=member.pk)
        .aggregate(s=Sum("delta"))["s"]
        or 0
    )
    assert fresh.points == remaining - fresh.points_debt
    assert fresh.points == ledger
    assert fresh.points_debt >= 0
    for lot in lots:
        moved = (
            PointsLotMove.objects.for_tenant(tenant).filter(lot=lot).aggregate(s=Sum("points"))["s"]
            or 0
        )
        assert lot.points == lot.remaining + lot.expired_points + lot.debt_paid - moved, lot.pk
        assert not (lot.expired and lot.remaining)
    return fresh.points
