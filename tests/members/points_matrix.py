"""Points and check-in's part of the cross-tenant matrix, merged into
tests/security/factories.py like tests/members/card_matrix.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from django.utils import timezone

from mall.tenancy.models import Tenant
from members.models import (
    CheckIn,
    CheckInReward,
    Member,
    PointsLedger,
    PointsLot,
    PointsLotMove,
    PointsSettings,
)
from tests.security.matrix import MARKER, MemberOnly, ObjectRoute


def _member(t: Tenant) -> Member:
    return Member.objects.create(tenant=t, nickname=MARKER)


def _lot(t: Tenant) -> PointsLot:
    return PointsLot.objects.create(
        tenant=t,
        member=_member(t),
        points=10,
        remaining=10,
        expires_at=timezone.now() + timedelta(days=30),
        reason="adjust",
        ref=MARKER,
    )


def _entry(t: Tenant) -> PointsLedger:
    lot = _lot(t)
    return PointsLedger.objects.create(
        tenant=t,
        member=lot.member,
        delta=10,
        reason="adjust",
        note=MARKER,
        order_number=MARKER[:32],
        lot=lot,
        balance_after=10,
        actor=MARKER[:64],
    )


def _move(t: Tenant) -> PointsLotMove:
    entry = _entry(t)
    assert entry.lot is not None
    return PointsLotMove.objects.create(tenant=t, entry=entry, lot=entry.lot, points=-1)


def _settings(t: Tenant) -> PointsSettings:
    found = PointsSettings.objects.for_tenant(t).first()
    return found or PointsSettings.objects.create(tenant=t)


def _reward(t: Tenant) -> CheckInReward:
    day = CheckInReward.objects.for_tenant(t).count() + 1
    return CheckInReward.objects.create(tenant=t, day=day, points=3)


def _checkin(t: Tenant) -> CheckIn:
    return CheckIn.objects.create(
        tenant=t, member=_member(t), date=date(2026, 12, 1), streak=1, rewards=[MARKER]
    )


MODEL_FACTORIES: dict[str, Callable[[Tenant], Any]] = {
    "members.PointsLot": _lot,
    "members.PointsLedger": _entry,
    "members.PointsLotMove": _move,
    "members.PointsSettings": _settings,
    "members.CheckInReward": _reward,
    "members.CheckIn": _checkin,
}

NOT_IN_CONSOLE: dict[str, str] = {
    "members.PointsLot": "lots behind the ledger; their expiry shows on the ledger rows",
    "members.PointsLotMove": "which lots a ledger row took from or gave back to (internal)",
    "members.CheckIn": "shown to the member (GET /api/v1/me/check-in); rewards are ledger rows",
}

ROUTES: dict[str, Any] = {
    "api/v1/me/points": MemberOnly(),
    "api/v1/me/check-in": MemberOnly(methods=("get", "post")),
    "api/merchant/v1/members/<int:pk>/points": ObjectRoute(
        "members.Member", methods=("post",), body={"delta": 1, "reason": "matrix"}
    ),
}
