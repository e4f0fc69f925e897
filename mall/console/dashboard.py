"""The console dashboard (经营概况): the tenant, its channels, today's counters, and the
business overview: to-do cards, KPIs against the previous period, and charts.

Apps add their own counters from their ``admin.py`` (imported once by admin autodiscovery)::

    register_dashboard_counter("orders_today", "Orders today", orders_today_count)

A counter is ``fn(tenant, day_start, day_end) -> int`` where ``[day_start, day_end)`` is
today in the tenant's time zone (aware datetimes); it should run one bounded query.

To-do cards, KPIs and charts are registered the same way (``register_dashboard_todo``,
``register_dashboard_kpi_source`` / ``register_dashboard_kpi``, ``register_dashboard_chart``);
see the section below and docs/console.md "Dashboard".
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.cache import cache
from django.db.models import Model
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mall.console.formatting import change_percent, format_change, format_cny, format_count
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
    label: Any,
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


# --- Business overview: to-do cards, KPIs and charts ------------------------------------------
#
# The apps register what they know from their ``admin.py`` (``mall`` never imports them). Each
# card, KPI and chart names the model whose console page it summarises (or links to): it is
# shown only to a role whose ``ModelAdmin.has_view_permission(request)`` is true for that model,
# so nobody sees a number they could not open. Each callback runs one bounded query whatever
# the number of rows; results are cached per tenant and role for ``DASHBOARD_CACHE_SECONDS``.

Number = Decimal | int
PERIOD_DAYS: tuple[tuple[str, int], ...] = (("today", 1), ("7d", 7), ("30d", 30))
PERIOD_LABELS: dict[str, Any] = {
    "today": _("Today"),
    "7d": _("Last 7 days"),
    "30d": _("Last 30 days"),
}
CHART_DAYS = 30
DASHBOARD_CACHE_SECONDS = 60


@dataclass(frozen=True)
class Period:
    """``[start, end)`` (``end`` is now) against the same length just before it,
    ``[prev_start, prev_end)``; days start at midnight in the tenant's time zone."""

    key: str
    days: int
    start: datetime
    end: datetime
    prev_start: datetime
    prev_end: datetime


def dashboard_periods(*, tenant: Tenant, now: datetime) -> list[Period]:
    """Today, the last 7 and the last 30 local days (each including today, up to ``now``),
    each with the previous period of equal length (e.g. yesterday up to the same time)."""
    tz = tenant.tz
    local_now = now.astimezone(tz)
    today = local_now.date()
    periods = []
    for key, days in PERIOD_DAYS:
        start = datetime.combine(today - timedelta(days=days - 1), time.min, tzinfo=tz)
        prev_start = datetime.combine(today - timedelta(days=2 * days - 1), time.min, tzinfo=tz)
        # Same wall-clock time ``days`` days earlier (correct across DST changes too).
        prev_end = datetime.combine(
            today - timedelta(days=days), local_now.timetz().replace(tzinfo=None), tzinfo=tz
        )
        periods.append(
            Period(key, days, start=start, end=now, prev_start=prev_start, prev_end=prev_end)
        )
    return periods


def chart_days(*, tenant: Tenant, now: datetime) -> list[date]:
    """The last ``CHART_DAYS`` local dates, oldest first, today last."""
    today = now.astimezone(tenant.tz).date()
    return [today - timedelta(days=n) for n in range(CHART_DAYS - 1, -1, -1)]


def chart_window(*, tenant: Tenant, now: datetime) -> tuple[datetime, datetime]:
    """``[start of the oldest chart day, now)`` in the tenant's time zone."""
    first = chart_days(tenant=tenant, now=now)[0]
    return datetime.combine(first, time.min, tzinfo=tenant.tz), now


TodoFn = Callable[[Tenant, datetime], int]
QueryFn = Callable[[Tenant, datetime], dict[str, str]]
# metric key -> period key -> (current, previous)
KpiValues = dict[str, dict[str, tuple[Number, Number]]]
KpiSourceFn = Callable[[Tenant, list[Period]], KpiValues]


@dataclass(frozen=True)
class ChartData:
    """Categories (dates, product titles, platform codes ...) and one list of values per
    series, in the order of the categories."""

    categories: list[str]
    series: dict[str, list[Number]]


ChartFn = Callable[[Tenant, datetime], ChartData]


@dataclass(frozen=True)
class TodoCard:
    key: str
    label: Any
    fn: TodoFn  # (tenant, now) -> count, one query
    model: type[Model]  # the list the card links to
    query: dict[str, str] | QueryFn  # changelist filter
    order: int = 100


@dataclass(frozen=True)
class Kpi:
    key: str  # metric key answered by its source
    label: Any
    source: str
    model: type[Model]  # the page behind the number (visibility)
    kind: str = "count"  # "count" | "money"
    help: Any = ""
    order: int = 100


@dataclass(frozen=True)
class ChartSeries:
    key: str
    label: Any
    kind: str = "money"  # "count" | "money"


@dataclass(frozen=True)
class Chart:
    key: str
    title: Any
    fn: ChartFn
    model: type[Model]
    type: str  # Chart.js type: "line" | "bar"
    series: tuple[ChartSeries, ...]
    horizontal: bool = False
    category_label: Callable[[str], Any] | None = None  # e.g. platform code -> name
    help: Any = ""
    order: int = 100


@dataclass
class _OverviewRegistry:
    todos: dict[str, TodoCard] = field(default_factory=dict)
    kpi_sources: dict[str, KpiSourceFn] = field(default_factory=dict)
    kpis: dict[str, Kpi] = field(default_factory=dict)
    charts: dict[str, Chart] = field(default_factory=dict)


_overview = _OverviewRegistry()


def register_dashboard_todo(
    key: str,
    label: Any,
    fn: TodoFn,
    *,
    model: type[Model],
    query: dict[str, str] | QueryFn | None = None,
    order: int = 100,
) -> None:
    """A to-do card: a count linking to ``model``'s console list filtered by ``query``."""
    _overview.todos[key] = TodoCard(key, label, fn, model, query or {}, order)


def register_dashboard_kpi_source(key: str, fn: KpiSourceFn) -> None:
    """A function answering several KPIs for every period in one query."""
    _overview.kpi_sources[key] = fn


def register_dashboard_kpi(
    key: str,
    label: Any,
    *,
    source: str,
    model: type[Model],
    kind: str = "count",
    help: Any = "",
    order: int = 100,
) -> None:
    _overview.kpis[key] = Kpi(key, label, source, model, kind, help, order)


def register_dashboard_chart(
    key: str,
    title: Any,
    fn: ChartFn,
    *,
    model: type[Model],
    type: str,
    series: Iterable[ChartSeries],
    horizontal: bool = False,
    category_label: Callable[[str], Any] | None = None,
    help: Any = "",
    order: int = 100,
) -> None:
    _overview.charts[key] = Chart(
        key, title, fn, model, type, tuple(series), horizontal, category_label, help, order
    )


def unregister_dashboard_item(key: str) -> None:
    """Remove a to-do card, KPI source, KPI or chart registered under ``key``."""
    for registry in (_overview.todos, _overview.kpi_sources, _overview.kpis, _overview.charts):
        registry.pop(key, None)


def overview_queries() -> int:
    """The most queries the overview runs uncached: one per card, KPI source and chart."""
    return len(_overview.todos) + len(_overview.kpi_sources) + len(_overview.charts)


# --- Computing (cached) -----------------------------------------------------------------------


def _cache_key(tenant: Tenant, role: str, keys: Iterable[str]) -> str:
    digest = hashlib.sha256("|".join(sorted(keys)).encode()).hexdigest()[:16]
    return f"console:dashboard:v1:{tenant.pk}:{role}:{digest}"


def _compute(
    *, tenant: Tenant, now: datetime, todos: list[TodoCard], kpis: list[Kpi], charts: list[Chart]
) -> dict[str, Any]:
    periods = dashboard_periods(tenant=tenant, now=now)
    kpi_values: KpiValues = {}
    for source in sorted({k.source for k in kpis}):
        answered = _overview.kpi_sources[source](tenant, periods)
        kpi_values.update({k.key: answered[k.key] for k in kpis if k.source == source})
    return {
        "now": now,
        "todos": {t.key: int(t.fn(tenant, now)) for t in todos},
        "todo_queries": {
            t.key: t.query(tenant, now) if callable(t.query) else dict(t.query) for t in todos
        },
        "kpis": kpi_values,
        "charts": {c.key: c.fn(tenant, now) for c in charts},
    }


# --- Presentation -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TodoView:
    key: str
    label: str
    count: int
    url: str


@dataclass(frozen=True)
class KpiCell:
    period: str
    current: Number
    previous: Number
    change: Decimal | None
    display: str
    previous_display: str
    change_display: str


@dataclass(frozen=True)
class KpiView:
    key: str
    label: str
    kind: str
    help: str
    url: str
    cells: list[KpiCell]


@dataclass(frozen=True)
class ChartView:
    key: str
    title: str
    help: str
    type: str
    config: dict[str, Any]  # embedded with json_script, drawn by static/console/dashboard.js
    headers: list[str]  # the same numbers as a table (also shown without JavaScript)
    rows: list[list[str]]


@dataclass(frozen=True)
class DashboardData:
    tenant: Tenant
    channels: list[Channel]
    counters: list[tuple[str, str, int]]  # (key, label, value)
    day_start: datetime
    day_end: datetime
    todos: list[TodoView] = field(default_factory=list)
    kpis: list[KpiView] = field(default_factory=list)
    period_labels: list[tuple[str, str]] = field(default_factory=list)
    charts: list[ChartView] = field(default_factory=list)
    computed_at: datetime | None = None
    cache_seconds: int = DASHBOARD_CACHE_SECONDS


def _display(value: Number, kind: str) -> str:
    return format_cny(value) if kind == "money" else format_count(int(value))


def _changelist_url(model: type[Model], query: dict[str, str] | None = None) -> str:
    opts = model._meta
    url = reverse(f"console:{opts.app_label}_{opts.model_name}_changelist")
    return f"{url}?{urlencode(query)}" if query else url


def _chart_view(chart: Chart, data: ChartData) -> ChartView:
    categories = [
        str(chart.category_label(c)) if chart.category_label else c for c in data.categories
    ]
    datasets = [
        {
            "label": str(s.label),
            "money": s.kind == "money",
            "data": [float(v) for v in data.series.get(s.key, [])],
        }
        for s in chart.series
    ]
    rows = [
        [category]
        + [_display(data.series[s.key][i], s.kind) for s in chart.series if s.key in data.series]
        for i, category in enumerate(categories)
    ]
    return ChartView(
        key=chart.key,
        title=str(chart.title),
        help=str(chart.help),
        type=chart.type,
        config={
            "type": chart.type,
            "horizontal": chart.horizontal,
            "labels": categories,
            "datasets": datasets,
        },
        headers=[""] + [str(s.label) for s in chart.series],
        rows=rows,
    )


def dashboard_data(
    *,
    tenant: Tenant,
    role: str,
    now: datetime | None = None,
    can_view: Callable[[type[Model]], bool] | None = None,
    use_cache: bool = True,
) -> DashboardData:
    """Everything the dashboard shows.

    Queries: one for the channels, one per counter, and (when not cached) one per visible
    to-do card, one per KPI source with a visible KPI and one per visible chart — none depends
    on the number of orders, products or members. ``can_view(model)`` answers whether the
    viewer may open ``model``'s console page; without it no card, KPI or chart is shown.
    """
    now = now or timezone.now()
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

    def visible(model: type[Model]) -> bool:
        return can_view is not None and can_view(model)

    todos = [t for t in sorted(_overview.todos.values(), key=_by_order) if visible(t.model)]
    kpis = [k for k in sorted(_overview.kpis.values(), key=_by_order) if visible(k.model)]
    charts = [c for c in sorted(_overview.charts.values(), key=_by_order) if visible(c.model)]

    raw: dict[str, Any] | None = None
    if todos or kpis or charts:
        parts: list[Any] = [*todos, *kpis, *charts]
        key = _cache_key(tenant, role, [x.key for x in parts])
        raw = cache.get(key) if use_cache else None
        if raw is not None and not (
            now - timedelta(seconds=DASHBOARD_CACHE_SECONDS) < raw["now"] <= now
        ):
            raw = None  # older than the TTL by the application's clock (or from the future)
        if raw is None:
            raw = _compute(tenant=tenant, now=now, todos=todos, kpis=kpis, charts=charts)
            if use_cache:
                cache.set(key, raw, DASHBOARD_CACHE_SECONDS)

    todo_views: list[TodoView] = []
    kpi_views: list[KpiView] = []
    chart_views: list[ChartView] = []
    if raw is not None:
        todo_views = [
            TodoView(
                key=t.key,
                label=str(t.label),
                count=raw["todos"][t.key],
                url=_changelist_url(t.model, raw["todo_queries"][t.key]),
            )
            for t in todos
        ]
        for k in kpis:
            cells = []
            for period, _days in PERIOD_DAYS:
                current, previous = raw["kpis"][k.key][period]
                change = change_percent(current, previous)
                cells.append(
                    KpiCell(
                        period=period,
                        current=current,
                        previous=previous,
                        change=change,
                        display=_display(current, k.kind),
                        previous_display=_display(previous, k.kind),
                        change_display=format_change(change),
                    )
                )
            kpi_views.append(
                KpiView(k.key, str(k.label), k.kind, str(k.help), _changelist_url(k.model), cells)
            )
        chart_views = [_chart_view(c, raw["charts"][c.key]) for c in charts]

    return DashboardData(
        tenant=tenant,
        channels=channels,
        counters=counters,
        day_start=day_start,
        day_end=day_end,
        todos=todo_views,
        kpis=kpi_views,
        period_labels=[(key, str(PERIOD_LABELS[key])) for key, _days in PERIOD_DAYS],
        charts=chart_views,
        computed_at=raw["now"] if raw is not None else None,
    )


def _by_order(item: TodoCard | Kpi | Chart) -> tuple[int, str]:
    return item.order, item.key


# Chart.js as django-unfold ships it (the console theme); nothing is loaded from a CDN.
CHART_JS_STATIC_PATH = "unfold/js/chart/chart.js"


@functools.cache
def chart_js_url() -> str | None:
    """The static URL of the bundled Chart.js, or ``None`` while it is not installed (the
    dashboard then shows its charts as tables only). Found by the static finders (an
    installed ``unfold`` app) or among the collected static files."""
    if finders.find(CHART_JS_STATIC_PATH) is None and not _collected(CHART_JS_STATIC_PATH):
        return None
    return static(CHART_JS_STATIC_PATH)


def _collected(path: str) -> bool:
    try:
        return bool(staticfiles_storage.exists(path))
    except Exception:  # noqa: BLE001 - a storage without a local root: treat as missing
        return False
