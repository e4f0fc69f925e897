"""The console dashboard: the tenant, its channels and today's counters.

Apps add their own counters from their ``admin.py`` (imported once by admin autodiscovery)::

    register_dashboard_counter("orders_today", "Orders today", orders_today_count)

A counter is ``fn(tenant, day_start, day_end) -> int`` where ``[day_start, day_end)`` is
today in the tenant's time zone (aware datetimes); it should run one bounded query.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.utils import timezone

from mall.tenancy.models import Channel, Tenant

CounterFn = Callable[[Tenant, datetime, datetime], int]


@dataclass(frozen=True)
class DashboardCounter:
    key: str
    label: str
    fn: CounterFn
    roles: frozenset[str] | None = None  # None: every role sees it
    order: int = 100


@dataclass
class _Registry:
    counters: dict[str, DashboardCounter] = field(default_factory=dict)


_registry = _Registry()


def register_dashboard_counter(
    key: str,
    label: str,
    fn: CounterFn,
    *,
    roles: Iterable[str] | None = None,
    order: int = 100,
) -> None:
    """Add (or replace, by ``key``) a dashboard counter."""
    _registry.counters[key] = DashboardCounter(
        key=key,
        label=label,
        fn=fn,
        roles=frozenset(roles) if roles is not None else None,
        order=order,
    )


def unregister_dashboard_counter(key: str) -> None:
    _registry.counters.pop(key, None)


def dashboard_counters() -> list[DashboardCounter]:
    return sorted(_registry.counters.values(), key=lambda c: (c.order, c.key))


def tenant_day_bounds(*, tenant: Tenant, now: datetime | None = None) -> tuple[datetime, datetime]:
    """Start and end of the tenant's current local day, as aware datetimes."""
    tz = tenant.tz
    local_now = (now or timezone.now()).astimezone(tz)
    today = local_now.date()
    start = datetime.combine(today, time.min, tzinfo=tz)
    end = datetime.combine(today + timedelta(days=1), time.min, tzinfo=tz)
    return start, end


@dataclass(frozen=True)
class DashboardData:
    tenant: Tenant
    channels: list[Channel]
    counters: list[tuple[str, str, int]]  # (key, label, value)
    day_start: datetime
    day_end: datetime


def dashboard_data(*, tenant: Tenant, role: str, now: datetime | None = None) -> DashboardData:
    """Everything the dashboard shows: one query for channels plus one per counter."""
    day_start, day_end = tenant_day_bounds(tenant=tenant, now=now)
    channels = list(
        Channel.objects.for_tenant(tenant)
        .only("id", "tenant_id", "platform", "name", "app_id", "is_sandbox", "is_active")
        .order_by("platform", "id")
    )
    counters = [
        (c.key, c.label, int(c.fn(tenant, day_start, day_end)))
        for c in dashboard_counters()
        if c.roles is None or role in c.roles
    ]
    return DashboardData(
        tenant=tenant,
        channels=channels,
        counters=counters,
        day_start=day_start,
        day_end=day_end,
    )
