"""How the parts of members reach each other (filled in ``MembersConfig.ready()``).

Points, tiers, check-in and automation are sub-packages of one app; each exposes a hook list
so that none imports the others' services at import time. This module holds the adapters:

- the points earned on an order are multiplied by the tier's and the running card's
  multipliers (``members.points.rules``);
- a check-in's growth reward goes to the growth ledger (``members.checkin.rewards``);
- automation's "grant points" action and the tier's birthday points earn a lot each, once per
  reference (``members.automation.actions``, ``promotions.services.member_packs``);
- the "points expiring" automation trigger reads the lots expiring in the next N days.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from mall.tenancy.models import Tenant
from members.models import Member
from members.points.models import PointsLot, Reason


def checkin_growth(*, tenant: Tenant, member_id: int, amount: int, ref: str) -> None:
    from members.tiers.services import growth_grant

    growth_grant(tenant=tenant, member=member_id, amount=amount, reason="checkin", ref=ref)


def automation_points(
    *,
    tenant_id: int,
    member_ids: Sequence[int],
    points: int,
    reason: str,
    references: Mapping[int, str],
) -> None:
    """Automation's grant: one lot per member, idempotent per execution reference."""
    from members.points.services import points_earn

    tenant = Tenant.objects.get(pk=tenant_id)
    for member_id in sorted(member_ids):
        points_earn(
            tenant=tenant,
            member_id=member_id,
            points=points,
            reason=Reason.AUTOMATION,
            ref=references[member_id],
            note=reason[:200],
            actor="automation",
        )


def birthday_points(*, tenant: Tenant, member: Member, points: int, reason: str, ref: str) -> None:
    """The tier's birthday gift in points, once per benefit grant key."""
    from members.points.services import points_earn

    points_earn(
        tenant=tenant,
        member_id=member.pk,
        points=points,
        reason=Reason.BIRTHDAY,
        ref=ref[:64],
        note=reason[:200],
        actor="tier benefits",
    )


def points_expiring_candidates(
    *, tenant_id: int, days: int | None, hours: int | None, now: datetime
) -> Iterable[tuple[int, str]]:
    """Members with points expiring within ``days``; the period is the expiry day, so a
    member is reached once per expiring batch of lots."""
    rows = (
        PointsLot.objects.for_tenant(tenant_id)
        .filter(
            expired=False,
            remaining__gt=0,
            expires_at__gt=now,
            expires_at__lte=now + timedelta(days=days or 0),
        )
        .values_list("member_id", "expires_at")
        .distinct()
    )
    return sorted({(member_id, expires_at.date().isoformat()) for member_id, expires_at in rows})
