"""Read paths of the console dashboard about orders (registered in ``orders/admin.py``).

Every function runs one query whatever the number of orders: to-do counts, the sales KPIs of
every period (one conditional aggregate), sales by local day, by platform, the top products
and the campaign results of the last 30 days. "Paid" means ``paid_at`` inside the window:
refunds made later do not change a day's paid amount (they are the refunds KPI).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, Max, Q, Sum
from django.db.models.functions import TruncDate
from django.utils.translation import gettext_lazy as _

from mall.console.dashboard import (
    ChartData,
    ChartSeries,
    KpiValues,
    Number,
    Period,
    chart_days,
    chart_window,
    register_dashboard_chart,
    register_dashboard_kpi,
    register_dashboard_kpi_source,
    register_dashboard_todo,
)
from mall.money import quantize
from mall.rawsql import as_decimal
from mall.tenancy.models import Channel, Tenant
from orders.models import AfterSale, Fulfillment, Order, OrderLine
from orders.sql import campaign_discount_totals

ZERO = Decimal("0.00")
TO_SHIP_STATUSES = (Order.Status.PAID, Order.Status.PARTIALLY_SHIPPED)
SHIPPING_FULFILMENTS = tuple(f.value for f in Fulfillment if f != Fulfillment.PICKUP)
PLATFORMS = tuple(Channel.Platform.values)  # wechat, alipay, h5: always shown
TOP_PRODUCTS = 10
TOP_CAMPAIGNS = 10


# --- To-do cards ------------------------------------------------------------------------------


def orders_to_ship_count(tenant: Tenant, now: datetime) -> int:
    """Paid or partially shipped orders delivered by courier or same-city (not pickup)."""
    return (
        Order.objects.for_tenant(tenant)
        .filter(status__in=TO_SHIP_STATUSES, fulfillment__in=SHIPPING_FULFILMENTS)
        .count()
    )


ORDERS_TO_SHIP_QUERY = {
    "status__in": ",".join(TO_SHIP_STATUSES),
    "fulfillment__in": ",".join(SHIPPING_FULFILMENTS),
}


def after_sales_open_count(tenant: Tenant, now: datetime) -> int:
    """After-sales still open (requested, approved, goods sent back or received, refunding)."""
    return AfterSale.objects.for_tenant(tenant).filter(status__in=AfterSale.OPEN_STATUSES).count()


AFTER_SALES_OPEN_QUERY = {"status__in": ",".join(AfterSale.OPEN_STATUSES)}


# --- KPIs -------------------------------------------------------------------------------------


def _paid_between(start: datetime, end: datetime) -> Q:
    return Q(paid_at__gte=start, paid_at__lt=end)


def sales_kpis(
    tenant: Tenant, periods: list[Period]
) -> dict[str, dict[str, tuple[Number, Number]]]:
    """GMV (paid amount), paid orders, paying members and average order value of every period
    and of the period before it, in one query."""
    aggregates: dict[str, Any] = {}
    for p in periods:
        for side, (start, end) in (("cur", (p.start, p.end)), ("prev", (p.prev_start, p.prev_end))):
            window = _paid_between(start, end)
            aggregates[f"{p.key}_{side}_gmv"] = Sum("paid_amount", filter=window, default=ZERO)
            aggregates[f"{p.key}_{side}_orders"] = Count("id", filter=window)
            aggregates[f"{p.key}_{side}_members"] = Count("member_id", filter=window, distinct=True)
    earliest = min(p.prev_start for p in periods)
    latest = max(p.end for p in periods)
    row = (
        Order.objects.for_tenant(tenant)
        .filter(_paid_between(earliest, latest))
        .aggregate(**aggregates)
    )

    def pair(period: str, name: str) -> tuple[Number, Number]:
        return row[f"{period}_cur_{name}"], row[f"{period}_prev_{name}"]

    def aov(period: str, side: str) -> Decimal:
        orders = row[f"{period}_{side}_orders"]
        return quantize(row[f"{period}_{side}_gmv"] / orders) if orders else ZERO

    result: KpiValues = {
        "gmv": {},
        "paid_orders": {},
        "paying_members": {},
        "average_order_value": {},
    }
    for p in periods:
        gmv, prev_gmv = pair(p.key, "gmv")
        result["gmv"][p.key] = (quantize(gmv), quantize(prev_gmv))
        result["paid_orders"][p.key] = pair(p.key, "orders")
        result["paying_members"][p.key] = pair(p.key, "members")
        result["average_order_value"][p.key] = (aov(p.key, "cur"), aov(p.key, "prev"))
    return result


# --- Charts -----------------------------------------------------------------------------------


def sales_by_day(tenant: Tenant, now: datetime) -> ChartData:
    """Paid amount and paid orders of each of the last 30 local days (days without sales: 0)."""
    start, end = chart_window(tenant=tenant, now=now)
    rows = (
        Order.objects.for_tenant(tenant)
        .filter(_paid_between(start, end))
        .annotate(day=TruncDate("paid_at", tzinfo=tenant.tz))
        .values("day")
        .annotate(amount=Sum("paid_amount"), orders=Count("id"))
        .order_by("day")
    )
    by_day = {r["day"]: r for r in rows}
    days = chart_days(tenant=tenant, now=now)
    return ChartData(
        categories=[d.isoformat() for d in days],
        series={
            "amount": [quantize(by_day[d]["amount"]) if d in by_day else ZERO for d in days],
            "orders": [by_day[d]["orders"] if d in by_day else 0 for d in days],
        },
    )


def sales_by_platform(tenant: Tenant, now: datetime) -> ChartData:
    """Paid amount and orders of the last 30 days by the platform the order was placed on
    (WeChat, Alipay, H5; any other value as it is)."""
    start, end = chart_window(tenant=tenant, now=now)
    rows = {
        r["platform"]: r
        for r in Order.objects.for_tenant(tenant)
        .filter(_paid_between(start, end))
        .values("platform")
        .annotate(amount=Sum("paid_amount"), orders=Count("id"))
        .order_by("platform")
    }
    platforms = [*PLATFORMS, *sorted(p for p in rows if p not in PLATFORMS)]
    return ChartData(
        categories=platforms,
        series={
            "amount": [quantize(rows[p]["amount"]) if p in rows else ZERO for p in platforms],
            "orders": [rows[p]["orders"] if p in rows else 0 for p in platforms],
        },
    )


def platform_label(code: str) -> Any:
    if code in PLATFORMS:
        return Channel.Platform(code).label
    return code or "—"


def top_products(tenant: Tenant, now: datetime) -> ChartData:
    """The 10 products with the highest paid amount (sum of the lines' payable, gifts left
    out) in orders paid in the last 30 days; the title is the one snapshotted on the line."""
    start, end = chart_window(tenant=tenant, now=now)
    rows = list(
        OrderLine.objects.for_tenant(tenant)
        .filter(order__paid_at__gte=start, order__paid_at__lt=end, is_gift=False)
        .values("product_id")
        .annotate(amount=Sum("payable"), quantity=Sum("quantity"), title=Max("title"))
        .order_by("-amount", "product_id")[:TOP_PRODUCTS]
    )
    return ChartData(
        categories=[r["title"] for r in rows],
        series={
            "amount": [quantize(r["amount"]) for r in rows],
            "quantity": [r["quantity"] for r in rows],
        },
    )


def campaign_results(tenant: Tenant, now: datetime) -> ChartData:
    """Per campaign (the 10 that gave most), over orders paid in the last 30 days: the
    discount it gave (``Order.campaign_discounts``), the orders it applied to and their paid
    amount. One query (the order's campaign list is unnested in SQL)."""
    start, end = chart_window(tenant=tenant, now=now)
    rows = campaign_discount_totals(tenant_id=tenant.pk, start=start, end=end, limit=TOP_CAMPAIGNS)
    return ChartData(
        categories=[name or f"#{campaign_id}" for campaign_id, name, *_ in rows],
        series={
            "discount": [quantize(as_decimal(r[2]) or ZERO) for r in rows],
            "paid": [quantize(as_decimal(r[4]) or ZERO) for r in rows],
            "orders": [int(r[3]) for r in rows],
        },
    )


def dashboard_register() -> None:
    """Called once from ``orders/admin.py``. Money figures are shown to the roles that may open
    the payments list (owner, admin, finance); counts to those who may open the list they
    count."""
    from members.models import Member
    from payments.models import Payment

    register_dashboard_todo(
        "orders_to_ship",
        _("Orders to ship"),
        orders_to_ship_count,
        model=Order,
        query=ORDERS_TO_SHIP_QUERY,
        order=10,
    )
    register_dashboard_todo(
        "after_sales_open",
        _("After-sales to handle"),
        after_sales_open_count,
        model=AfterSale,
        query=AFTER_SALES_OPEN_QUERY,
        order=20,
    )
    register_dashboard_kpi_source("orders_sales", sales_kpis)
    register_dashboard_kpi(
        "gmv",
        _("Paid amount (GMV)"),
        source="orders_sales",
        model=Payment,
        kind="money",
        help=_("What buyers paid for orders paid in the period, before later refunds."),
        order=10,
    )
    register_dashboard_kpi(
        "paid_orders",
        _("Paid orders"),
        source="orders_sales",
        model=Order,
        help=_("Orders paid in the period."),
        order=20,
    )
    register_dashboard_kpi(
        "paying_members",
        _("Paying members"),
        source="orders_sales",
        model=Member,
        help=_("Different members who paid at least one order in the period."),
        order=30,
    )
    register_dashboard_kpi(
        "average_order_value",
        _("Average order value"),
        source="orders_sales",
        model=Payment,
        kind="money",
        help=_("Paid amount divided by paid orders."),
        order=40,
    )
    amount = ChartSeries("amount", _("Paid amount"), "money")
    orders = ChartSeries("orders", _("Paid orders"), "count")
    register_dashboard_chart(
        "sales_by_day",
        _("Sales by day (last 30 days)"),
        sales_by_day,
        model=Payment,
        type="line",
        series=[amount, orders],
        order=10,
    )
    register_dashboard_chart(
        "sales_by_platform",
        _("Sales by platform (last 30 days)"),
        sales_by_platform,
        model=Payment,
        type="bar",
        series=[amount, orders],
        category_label=platform_label,
        order=20,
    )
    register_dashboard_chart(
        "top_products",
        _("Top 10 products by paid amount (last 30 days)"),
        top_products,
        model=Payment,
        type="bar",
        horizontal=True,
        series=[amount, ChartSeries("quantity", _("Units sold"), "count")],
        order=30,
    )
    register_dashboard_chart(
        "campaign_results",
        _("Campaign results (last 30 days)"),
        campaign_results,
        model=Payment,
        type="bar",
        horizontal=True,
        series=[
            ChartSeries("discount", _("Discount given"), "money"),
            ChartSeries("paid", _("Paid amount of its orders"), "money"),
            ChartSeries("orders", _("Orders"), "count"),
        ],
        help=_("Orders paid in the last 30 days that a campaign discounted."),
        order=40,
    )
