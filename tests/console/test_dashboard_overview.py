"""The business overview on the console dashboard: to-do cards, KPIs against the previous
period, charts — exact amounts on known days, the tenant's day boundary, role visibility,
a constant number of queries and the short cache."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from distribution.models import Commission, Distributor, Withdrawal
from mall.console.dashboard import DashboardData
from mall.console.formatting import change_percent, format_change, format_cny
from mall.tenancy.models import Staff, Tenant
from members.models import Member
from orders.models import AfterSale, Fulfillment, Order, OrderLine
from payments.models import Payment, Refund, ShippingUpload
from tests.catalog.factories import ProductFactory, SkuFactory
from tests.distribution.factories import distributor
from tests.mall.factories import TenantFactory
from tests.members.factories import MemberFactory
from tests.promotions.factories import CampaignFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
# 2026-03-10 12:00 in Shanghai (04:00 UTC).
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=SHANGHAI)


def local(days_ago: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, 10, hour, minute, tzinfo=SHANGHAI) - timedelta(days=days_ago)


def make_order(
    tenant: Tenant,
    member: Member,
    amount: str,
    paid_at: datetime | None,
    *,
    platform: str = "wechat",
    status: str = Order.Status.PAID,
    fulfillment: str = Fulfillment.EXPRESS,
    product: Any = None,
    title: str = "Item",
    campaigns: list[list[Any]] | None = None,
) -> Order:
    value = Decimal(amount)
    order = Order.objects.create(
        tenant=tenant,
        member=member,
        number=f"D{Order.objects.count() + 1:012d}",
        platform=platform,
        status=status,
        fulfillment=fulfillment,
        subtotal=value,
        payable=value,
        paid_amount=value if paid_at else Decimal("0"),
        paid_at=paid_at,
        campaign_discounts=campaigns or [],
    )
    OrderLine.objects.create(
        tenant=tenant,
        order=order,
        product_id=product.pk if product else None,
        title=title,
        quantity=1,
        unit_price=value,
        subtotal=value,
        payable=value,
    )
    return order


def payment_for(order: Order, purpose: str = "order") -> Payment:
    return Payment.objects.create(
        tenant_id=order.tenant_id,
        purpose=purpose,
        reference=order.number,
        gateway="sandbox",
        out_trade_no=f"P{order.pk:08d}{purpose[:2]}",
        amount=order.payable,
        status=Payment.Status.SUCCEEDED,
        paid_at=order.paid_at,
    )


def refund(payment: Payment, amount: str, status: str, ref: str, at: datetime | None) -> Refund:
    return Refund.objects.create(
        tenant_id=payment.tenant_id,
        payment=payment,
        amount=Decimal(amount),
        out_refund_no=f"R-{ref}",
        request_ref=ref,
        status=status,
        refunded_at=at,
    )


@pytest.fixture
def shop(shop_a: Tenant) -> dict[str, Any]:
    """Orders paid on known local days (see the expected figures in the tests)."""
    m1, m2, m3 = (MemberFactory(tenant=shop_a) for _ in range(3))
    tea = ProductFactory(tenant=shop_a, title="Green tea")
    oolong = ProductFactory(tenant=shop_a, title="Oolong")
    cups = ProductFactory(tenant=shop_a, title="Cups")
    spring = CampaignFactory(tenant=shop_a, name="Spring sale")
    a = make_order(shop_a, m1, "100.00", local(0, 10), product=tea, title="Green tea",
                   campaigns=[[spring.pk, "20.00"]])  # fmt: skip
    make_order(shop_a, m1, "50.50", local(0, 11), platform="alipay", product=oolong,
               title="Oolong", status=Order.Status.PARTIALLY_SHIPPED,
               fulfillment=Fulfillment.SAME_CITY)  # fmt: skip
    make_order(shop_a, m2, "80.00", local(1, 9), platform="h5", product=tea, title="Green tea",
               status=Order.Status.SHIPPED, campaigns=[[spring.pk, "10.00"]])  # fmt: skip
    make_order(shop_a, m3, "40.00", local(1, 13), product=cups, title="Cups",
               fulfillment=Fulfillment.PICKUP)  # fmt: skip
    make_order(shop_a, m2, "200.00", local(10, 15), product=oolong, title="Oolong",
               status=Order.Status.COMPLETED)  # fmt: skip
    make_order(shop_a, m2, "300.00", local(40, 15), status=Order.Status.COMPLETED)
    make_order(shop_a, m3, "70.00", None, status=Order.Status.PENDING_PAYMENT)
    other = TenantFactory(slug="other-shop")
    make_order(other, MemberFactory(tenant=other), "999.00", local(0, 9))

    # Refunds: 30.00 today counts; a failed one is a to-do; automatic and card refunds do not.
    pay_a = payment_for(a)
    refund(pay_a, "30.00", Refund.Status.SUCCEEDED, "r1", local(0, 11, 30))
    refund(pay_a, "12.00", Refund.Status.FAILED, "r2", None)
    refund(pay_a, "5.00", Refund.Status.SUCCEEDED, f"{Refund.AUTO_PREFIX}{pay_a.pk}", local(0, 11))
    card = payment_for(a, purpose="card")
    refund(card, "7.00", Refund.Status.SUCCEEDED, "r4", local(0, 11))

    # After-sales: one open, one done.
    for status in (AfterSale.Status.REQUESTED, AfterSale.Status.REFUNDED):
        AfterSale.objects.create(
            tenant=shop_a,
            order=a,
            member=m1,
            type=AfterSale.Type.REFUND,
            status=status,
            reason="broken",
            amount=Decimal("10.00"),
        )

    # SKUs: one at its threshold, one above, one out of stock without a threshold.
    SkuFactory(product=tea, stock=5, low_stock_threshold=5)
    SkuFactory(product=oolong, stock=10, low_stock_threshold=5)
    SkuFactory(product=cups, stock=0, low_stock_threshold=0)

    # WeChat shipping uploads: failed, pending for 2 hours, pending for 10 minutes.
    for n, status in enumerate(("failed", "pending", "pending")):
        up = ShippingUpload.objects.create(
            tenant=shop_a,
            payment=pay_a,
            purpose="order",
            reference=f"S{n}",
            logistics_type=1,
            status=status,
        )
        age = timedelta(hours=2) if n == 1 else timedelta(minutes=10)
        ShippingUpload.objects.filter(pk=up.pk).update(updated_at=NOW - age)

    # Distributors: d1 earns and withdrew, d2 approved only, d3 pending, d4 rejected,
    # d5 frozen with a reversed commission only.
    d1 = distributor(shop_a)
    distributor(shop_a)
    distributor(shop_a, status=Distributor.Status.PENDING)
    distributor(shop_a, status=Distributor.Status.REJECTED)
    d5 = distributor(shop_a, status=Distributor.Status.FROZEN)
    line = OrderLine.objects.filter(order=a).get()
    for tier, (who, status) in enumerate(
        [(d1, Commission.Status.SETTLED), (d5, Commission.Status.REVERSED)], start=1
    ):
        Commission.objects.create(tenant=shop_a, order=a, order_line=line, beneficiary=who,
                                  buyer=m1, tier=tier, base_amount=Decimal("100.00"),
                                  amount=Decimal("10.00"), status=status)  # fmt: skip
    for status in (Withdrawal.Status.PAID, Withdrawal.Status.REQUESTED):
        Withdrawal.objects.create(
            tenant=shop_a,
            distributor=d1,
            amount=Decimal("5.00"),
            fee=Decimal("0"),
            net_amount=Decimal("5.00"),
            status=status,
        )
    return {"spring": spring}


def dashboard(client: Client, at: datetime = NOW) -> tuple[DashboardData, str]:
    with time_machine.travel(at, tick=False):
        response = client.get("/console/")
    assert response.status_code == 200
    return response.context["dashboard"], response.content.decode()


def kpi_table(data: DashboardData) -> dict[str, dict[str, tuple[str, str]]]:
    return {k.key: {c.period: (c.display, c.change_display) for c in k.cells} for k in data.kpis}


def chart(data: DashboardData, key: str) -> dict[str, Any]:
    return next(c for c in data.charts if c.key == key).config


def test_owner_sees_exact_kpis_against_the_previous_period(
    shop: dict[str, Any], client_a: Client
) -> None:
    data, html = dashboard(client_a)

    kpis = kpi_table(data)
    # Today (00:00-12:00) against yesterday 00:00-12:00: 150.50 vs 80.00.
    assert kpis["gmv"]["today"] == ("¥150.50", "+88.1%")
    assert kpis["paid_orders"]["today"] == ("2", "+100.0%")
    assert kpis["paying_members"]["today"] == ("1", "0.0%")
    assert kpis["average_order_value"]["today"] == ("¥75.25", "-5.9%")
    # 7 days: 4 orders, 270.50 from 3 members, against 200.00 (10 days ago).
    assert kpis["gmv"]["7d"] == ("¥270.50", "+35.3%")
    assert kpis["paid_orders"]["7d"] == ("4", "+300.0%")
    assert kpis["paying_members"]["7d"] == ("3", "+200.0%")
    assert kpis["average_order_value"]["7d"] == ("¥67.63", "-66.2%")
    # 30 days: 470.50 against 300.00 (40 days ago).
    assert kpis["gmv"]["30d"] == ("¥470.50", "+56.8%")
    assert kpis["paid_orders"]["30d"] == ("5", "+400.0%")
    # Refunds: only the 30.00 order refund that succeeded today; nothing before: no change.
    assert kpis["refunds"]["today"] == ("¥30.00", "—")
    assert kpis["refunds"]["30d"] == ("¥30.00", "—")
    assert "¥150.50" in html and "+88.1%" in html
    assert "¥999" not in html  # another shop's order


def test_owner_sees_todo_cards_with_counts_linking_to_filtered_lists(
    shop: dict[str, Any], client_a: Client
) -> None:
    data, html = dashboard(client_a)

    todos = {t.key: (t.count, t.url) for t in data.todos}
    assert todos["orders_to_ship"] == (
        2,
        "/console/orders/order/?status__in=paid%2Cpartially_shipped"
        "&fulfillment__in=express%2Csame_city",
    )
    assert todos["after_sales_open"][0] == 1
    assert todos["low_stock_skus"] == (1, "/console/catalog/sku/?stock_state=low")
    assert todos["withdrawals_to_approve"] == (
        1,
        "/console/distribution/withdrawal/?status__exact=requested",
    )
    assert todos["refunds_failed"] == (1, "/console/payments/refund/?status__exact=failed")
    assert todos["shipping_uploads_failed"][0] == 1
    assert todos["shipping_uploads_stuck"][0] == 1
    assert 'href="/console/catalog/sku/?stock_state=low"' in html


@pytest.mark.parametrize(
    ("key", "expected_count"),
    [
        ("orders_to_ship", 2),
        ("after_sales_open", 1),
        ("low_stock_skus", 1),
        ("withdrawals_to_approve", 1),
        ("refunds_failed", 1),
        ("shipping_uploads_failed", 1),
        ("shipping_uploads_stuck", 1),
    ],
)
def test_each_todo_link_opens_a_list_with_the_same_rows(
    shop: dict[str, Any], client_a: Client, key: str, expected_count: int
) -> None:
    data, _ = dashboard(client_a)
    card = next(t for t in data.todos if t.key == key)

    with time_machine.travel(NOW, tick=False):
        response = client_a.get(card.url)

    assert response.status_code == 200
    assert response.context["cl"].result_count == expected_count


def test_charts_hold_exact_sales_by_day_platform_products_campaigns_and_funnel(
    shop: dict[str, Any], client_a: Client
) -> None:
    data, html = dashboard(client_a)

    by_day = chart(data, "sales_by_day")
    assert len(by_day["labels"]) == 30
    assert by_day["labels"][-1] == "2026-03-10" and by_day["labels"][0] == "2026-02-09"
    amounts = dict(zip(by_day["labels"], by_day["datasets"][0]["data"], strict=True))
    orders = dict(zip(by_day["labels"], by_day["datasets"][1]["data"], strict=True))
    assert amounts["2026-03-10"] == 150.50 and orders["2026-03-10"] == 2
    assert amounts["2026-03-09"] == 120.00 and orders["2026-03-09"] == 2
    assert amounts["2026-02-28"] == 200.00
    assert sum(amounts.values()) == 470.50  # 40 days ago is outside the chart

    platforms = chart(data, "sales_by_platform")
    assert platforms["labels"] == ["WeChat mini program", "Alipay mini program", "H5"]
    assert platforms["datasets"][0]["data"] == [340.00, 50.50, 80.00]
    assert platforms["datasets"][1]["data"] == [3, 1, 1]

    products = chart(data, "top_products")
    assert products["labels"] == ["Oolong", "Green tea", "Cups"]
    assert products["datasets"][0]["data"] == [250.50, 180.00, 40.00]

    campaigns = chart(data, "campaign_results")
    assert campaigns["labels"] == ["Spring sale"]
    assert [d["data"] for d in campaigns["datasets"]] == [[30.00], [180.00], [2]]

    funnel = chart(data, "distributor_funnel")
    assert funnel["labels"] == ["Applied", "Approved", "Earning commission", "Withdrawn"]
    assert funnel["datasets"][0]["data"] == [5, 3, 1, 1]

    # The same numbers as a table under each chart.
    assert "<td>¥250.50</td>" in html


def test_day_boundary_is_the_tenants_midnight(shop_a: Tenant, client_a: Client) -> None:
    # 00:01 and 23:59 Shanghai fall on the same UTC day (16:01 and 15:59 UTC on 03-09), but
    # on two local days.
    member = MemberFactory(tenant=shop_a)
    make_order(shop_a, member, "23.59", datetime(2026, 3, 9, 23, 59, tzinfo=SHANGHAI))
    make_order(shop_a, member, "0.01", datetime(2026, 3, 10, 0, 1, tzinfo=SHANGHAI))

    data, _ = dashboard(client_a, at=datetime(2026, 3, 10, 0, 30, tzinfo=SHANGHAI))

    kpis = kpi_table(data)
    assert kpis["gmv"]["today"] == ("¥0.01", "—")  # yesterday up to 00:30: nothing
    assert kpis["gmv"]["7d"] == ("¥23.60", "—")
    by_day = chart(data, "sales_by_day")
    amounts = dict(zip(by_day["labels"], by_day["datasets"][0]["data"], strict=True))
    assert amounts["2026-03-10"] == 0.01
    assert amounts["2026-03-09"] == 23.59


def test_day_boundary_follows_the_tenants_time_zone(shop_a: Tenant, client_a: Client) -> None:
    Tenant.objects.filter(pk=shop_a.pk).update(timezone="UTC")
    member = MemberFactory(tenant=shop_a)
    make_order(shop_a, member, "23.59", datetime(2026, 3, 9, 23, 59, tzinfo=UTC))
    make_order(shop_a, member, "0.01", datetime(2026, 3, 10, 0, 1, tzinfo=UTC))

    data, _ = dashboard(client_a, at=datetime(2026, 3, 10, 0, 30, tzinfo=UTC))

    assert kpi_table(data)["gmv"]["today"] == ("¥0.01", "—")
    amounts = chart(data, "sales_by_day")["datasets"][0]["data"]
    assert amounts[-2:] == [23.59, 0.01]


def test_service_staff_sees_no_finance_cards_or_money(
    shop: dict[str, Any],
    shop_a: Tenant,
    make_staff: Callable[..., Staff],
    console_client: Callable[[Staff], Client],
) -> None:
    service = console_client(make_staff(shop_a, Staff.Role.SERVICE))

    data, html = dashboard(service)

    todo_keys = {t.key for t in data.todos}
    assert "refunds_failed" not in todo_keys
    assert "shipping_uploads_failed" not in todo_keys
    assert "shipping_uploads_stuck" not in todo_keys
    assert {"orders_to_ship", "after_sales_open", "low_stock_skus"} <= todo_keys
    assert [k.key for k in data.kpis] == ["paid_orders", "paying_members"]
    assert [c.key for c in data.charts] == ["distributor_funnel"]
    assert "¥" not in html
    assert "/console/payments/" not in html
    # Every card it is shown opens.
    for card in data.todos:
        with time_machine.travel(NOW, tick=False):
            assert service.get(card.url).status_code == 200


def test_finance_staff_sees_money(
    shop: dict[str, Any],
    shop_a: Tenant,
    make_staff: Callable[..., Staff],
    console_client: Callable[[Staff], Client],
) -> None:
    finance = console_client(make_staff(shop_a, Staff.Role.FINANCE))

    data, _ = dashboard(finance)

    assert kpi_table(data)["gmv"]["today"] == ("¥150.50", "+88.1%")
    assert "refunds_failed" in {t.key for t in data.todos}
    assert "orders_to_ship" in {t.key for t in data.todos}
    for card in data.todos:
        with time_machine.travel(NOW, tick=False):
            assert finance.get(card.url).status_code == 200


def _dashboard_queries(client: Client, at: datetime = NOW) -> int:
    with time_machine.travel(at, tick=False), CaptureQueriesContext(connection) as ctx:
        assert client.get("/console/").status_code == 200
    return len(ctx.captured_queries)


def test_dashboard_queries_do_not_grow_with_orders_and_products(
    shop: dict[str, Any],
    shop_a: Tenant,
    client_a: Client,
    django_assert_max_num_queries: Any,
) -> None:
    from django.core.cache import cache

    few = _dashboard_queries(client_a)
    members = MemberFactory.create_batch(5, tenant=shop_a)
    for n in range(30):
        product = ProductFactory(tenant=shop_a, title=f"Tea {n}")
        SkuFactory(product=product, stock=1, low_stock_threshold=3)
        make_order(shop_a, members[n % 5], f"{n + 1}.00", local(n % 30, 9), product=product,
                   title=product.title, campaigns=[[shop["spring"].pk, "1.00"]])  # fmt: skip
    cache.clear()

    many = _dashboard_queries(client_a)

    assert many == few
    # Session, user, staff, memberships, channels, 3 counters + 7 cards, 2 KPI sources and
    # 5 charts (about 25); the bound leaves room for the theme's own queries.
    with time_machine.travel(NOW, tick=False), django_assert_max_num_queries(30):
        cache.clear()
        client_a.get("/console/")


def test_figures_are_cached_for_a_minute(
    shop: dict[str, Any], shop_a: Tenant, client_a: Client
) -> None:
    first_queries = _dashboard_queries(client_a)
    make_order(shop_a, MemberFactory(tenant=shop_a), "1.00", NOW - timedelta(minutes=1))

    cached_queries = _dashboard_queries(client_a, at=NOW + timedelta(seconds=30))
    cached, _ = dashboard(client_a, at=NOW + timedelta(seconds=59))
    fresh, _ = dashboard(client_a, at=NOW + timedelta(seconds=61))

    assert cached_queries < first_queries
    assert kpi_table(cached)["paid_orders"]["today"][0] == "2"  # stale for up to 60 s
    assert kpi_table(fresh)["paid_orders"]["today"][0] == "3"


def test_money_and_change_formatting() -> None:
    assert format_cny(Decimal("1234.5")) == "¥1,234.50"
    assert format_cny(Decimal("0")) == "¥0.00"
    assert format_cny(Decimal("-3")) == "-¥3.00"
    assert format_cny(Decimal("1234567.005")) == "¥1,234,567.01"
    assert format_change(change_percent(Decimal("112.5"), Decimal("100"))) == "+12.5%"
    assert format_change(change_percent(90, 100)) == "-10.0%"
    assert format_change(change_percent(5, 0)) == "—"


def test_charts_are_drawn_with_the_bundled_chart_js_when_it_is_installed(
    shop: dict[str, Any], client_a: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "mall.console.site.chart_js_url", lambda: "/static/unfold/js/chart/chart.js"
    )

    _, html = dashboard(client_a)

    assert '<script src="/static/unfold/js/chart/chart.js"></script>' in html
    assert '<script src="/static/console/dashboard.js"></script>' in html
    assert '<canvas data-chart-config="chart-data-sales_by_day"' in html
    # The JSON for Chart.js, embedded with json_script.
    assert '<script id="chart-data-sales_by_day" type="application/json">' in html
    assert '"datasets": [{"label": "Paid amount", "money": true, "data": [0.0,' in html
    assert not re.search(r'(src|href)="(https?:)?//', html)  # nothing from a CDN


def test_without_chart_js_the_charts_are_tables(
    shop: dict[str, Any], client_a: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("mall.console.site.chart_js_url", lambda: None)  # unfold not installed

    _, html = dashboard(client_a)

    assert "<canvas" not in html
    assert "unfold/js/chart/chart.js" not in html
    assert '<details class="dashboard-chart-table" open>' in html
