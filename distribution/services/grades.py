"""Automatic grade upgrades from the conditions stored on each grade.

A grade is reached when the distributor's team (approved distributors of its downline over
the three tiers) counts at least ``upgrade_team_size`` members, or its settled team sales (the
commission bases, net of refunds, of everything it earned at any tier that settled — the same
measure as the team rewards, over all time) reach ``upgrade_team_sales``. A condition of 0 is
not used; a grade with both at 0 is never reached automatically (it is given in the console).

Only upgrades: an approved distributor moves to the highest grade whose condition it meets
when that grade's level is above its current one; nothing is ever downgraded here (an operator
does that in the console). Idempotent: a second review finds nothing to change. The update is
guarded by the grade read, so a console change made meanwhile is not overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Sum
from django.utils import timezone

from distribution.models import Commission, DistributionSettings, Distributor, DistributorGrade
from mall.events.services import event_record
from mall.tenancy.models import Tenant

EVENT_GRADE_UPGRADED = "distributor.grade_upgraded"

_NET_BASE = ExpressionWrapper(
    F("base_amount") - F("reversed_base"),
    output_field=DecimalField(max_digits=14, decimal_places=2),
)


@dataclass(frozen=True)
class Upgrade:
    distributor_id: int
    from_grade_id: int | None
    to_grade_id: int
    team_size: int
    team_sales: Decimal


def grade_reached(
    *, grades: list[DistributorGrade], team_size: int, team_sales: Decimal
) -> DistributorGrade | None:
    """The highest grade whose (used) condition is met, else None."""
    best: DistributorGrade | None = None
    for grade in grades:
        by_size = grade.upgrade_team_size > 0 and team_size >= grade.upgrade_team_size
        by_sales = grade.upgrade_team_sales > 0 and team_sales >= grade.upgrade_team_sales
        if (by_size or by_sales) and (best is None or grade.level > best.level):
            best = grade
    return best


def _team_sizes(tenant: Tenant) -> dict[int, int]:
    """Approved team members per upline, over the three tiers (three grouped queries)."""
    approved = Distributor.objects.for_tenant(tenant).filter(status=Distributor.Status.APPROVED)
    sizes: dict[int, int] = {}
    for column in ("parent_id", "ancestor2_id", "ancestor3_id"):
        rows = (
            approved.filter(**{f"{column}__isnull": False})
            .order_by()
            .values(column)
            .annotate(n=Count("pk"))
        )
        for row in rows:
            sizes[row[column]] = sizes.get(row[column], 0) + row["n"]
    return sizes


def _team_sales(tenant: Tenant) -> dict[int, Decimal]:
    rows = (
        Commission.objects.for_tenant(tenant)
        .filter(settled_at__isnull=False)
        .order_by()
        .values("beneficiary_id")
        .annotate(sales=Sum(_NET_BASE))
    )
    return {row["beneficiary_id"]: row["sales"] or Decimal(0) for row in rows}


def distributor_grades_review(*, tenant: Tenant, now: datetime | None = None) -> list[Upgrade]:
    """Upgrade this tenant's approved distributors whose team reached a better grade."""
    now = now or timezone.now()
    grades = list(DistributorGrade.objects.for_tenant(tenant).order_by("level", "id"))
    targets = [g for g in grades if g.upgrade_team_size > 0 or g.upgrade_team_sales > 0]
    if not targets:
        return []
    levels = {g.pk: g.level for g in grades}
    sizes, sales = _team_sizes(tenant), _team_sales(tenant)
    candidates = (
        Distributor.objects.for_tenant(tenant)
        .filter(status=Distributor.Status.APPROVED)
        .filter(pk__in=set(sizes) | set(sales))
        .values_list("pk", "grade_id")
    )
    upgrades: list[Upgrade] = []
    for distributor_id, grade_id in candidates:
        size, amount = sizes.get(distributor_id, 0), sales.get(distributor_id, Decimal(0))
        reached = grade_reached(grades=targets, team_size=size, team_sales=amount)
        current_level = levels.get(grade_id, 0) if grade_id is not None else 0
        if reached is None or reached.level <= current_level:
            continue
        with transaction.atomic():
            changed = (
                Distributor.objects.for_tenant(tenant)
                .filter(pk=distributor_id, grade_id=grade_id, status=Distributor.Status.APPROVED)
                .update(grade=reached)
            )
            if not changed:  # changed in the console (or frozen) meanwhile
                continue
            upgrade = Upgrade(distributor_id, grade_id, reached.pk, size, amount)
            event_record(
                tenant=tenant,
                name=EVENT_GRADE_UPGRADED,
                subject=f"distributor:{distributor_id}",
                payload={
                    "distributor_id": distributor_id,
                    "from_grade_id": grade_id,
                    "to_grade_id": reached.pk,
                    "team_size": size,
                    "team_sales": str(amount),
                    "reviewed_at": now.isoformat(),
                },
            )
        upgrades.append(upgrade)
    return upgrades


def distributor_grades_review_all() -> int:
    """Beat: review every tenant with distribution on; returns the number of upgrades."""
    total = 0
    for config in DistributionSettings.objects.filter(enabled=True).select_related("tenant"):
        total += len(distributor_grades_review(tenant=config.tenant))
    return total
