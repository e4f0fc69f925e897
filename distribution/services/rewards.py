"""Monthly team rewards: a ladder on the team's settled sales, idempotent per distributor-month.

Team sales of month M = the commission bases (net of refunds) of every commission the
distributor earned at any tier that settled in M (tenant's time zone): each order line of its
downline counts once. The highest ladder step whose ``min_sales`` is exceeded gives the rate.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import DecimalField, ExpressionWrapper, F, Sum

from distribution.models import (
    Commission,
    DistributionSettings,
    LedgerEntry,
    TeamReward,
    ladder_validate,
)
from distribution.services.ledger import ledger_add
from mall.money import quantize
from mall.tenancy.models import Tenant

_NET_BASE = ExpressionWrapper(
    F("base_amount") - F("reversed_base"),
    output_field=DecimalField(max_digits=14, decimal_places=2),
)


def month_bounds(tenant: Tenant, month: date) -> tuple[datetime, datetime]:
    start = date(month.year, month.month, 1)
    end = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    return (
        datetime.combine(start, time.min, tzinfo=tenant.tz),
        datetime.combine(end, time.min, tzinfo=tenant.tz),
    )


def ladder_rate(ladder: list[tuple[Decimal, Decimal]], sales: Decimal) -> Decimal:
    rate = Decimal(0)
    for min_sales, step_rate in ladder:
        if sales > min_sales:
            rate = step_rate
    return rate


def team_rewards_compute(*, tenant: Tenant, month: date) -> int:
    """Write the month's rewards of this tenant's distributors; returns rewards created."""
    config = DistributionSettings.objects.for_tenant(tenant).first()
    if config is None or not config.enabled:
        return 0
    ladder = ladder_validate(config.reward_ladder)
    if not ladder:
        return 0
    start, end = month_bounds(tenant, month)
    month_start = start.date()
    sales = (
        Commission.objects.for_tenant(tenant)
        .filter(settled_at__gte=start, settled_at__lt=end)
        .exclude(status=Commission.Status.PENDING)
        .order_by()
        .values("beneficiary_id")
        .annotate(sales=Sum(_NET_BASE))
    )
    done = set(
        TeamReward.objects.for_tenant(tenant)
        .filter(month=month_start)
        .values_list("distributor_id", flat=True)
    )
    created = 0
    for row in sales:
        distributor_id, team_sales = row["beneficiary_id"], row["sales"]
        if distributor_id in done:
            continue
        rate = ladder_rate(ladder, team_sales)
        amount = quantize(team_sales * rate)
        if amount <= 0:
            continue
        try:
            with transaction.atomic():
                reward = TeamReward.objects.create(
                    tenant=tenant,
                    distributor_id=distributor_id,
                    month=month_start,
                    team_sales=team_sales,
                    rate=rate,
                    amount=amount,
                )
                ledger_add(
                    tenant_id=tenant.pk,
                    distributor_id=distributor_id,
                    kind=LedgerEntry.Kind.REWARD,
                    amount=amount,
                    reference=f"reward:{distributor_id}:{month_start:%Y-%m}",
                    note=f"team reward {month_start:%Y-%m} ({rate} of {team_sales})",
                )
        except IntegrityError:  # another run wrote it meanwhile
            continue
        created += 1 if reward else 0
    return created


def previous_month(today: date) -> date:
    first = date(today.year, today.month, 1)
    return date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)


def team_rewards_compute_all(*, today: date | None = None) -> int:
    """Beat: last month's rewards for every tenant with distribution on (idempotent)."""
    from django.utils import timezone

    created = 0
    for config in DistributionSettings.objects.filter(enabled=True).select_related("tenant"):
        tenant = config.tenant
        local_today = today or timezone.localtime(timezone.now(), tenant.tz).date()
        created += team_rewards_compute(tenant=tenant, month=previous_month(local_today))
    return created
