"""Console: order list with search and filters, detail with timeline, ship / partial ship,
pickup verification, after-sale actions, XLSX export, dashboard counter; tenant scoping."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook

from mall.tenancy.models import Staff
from orders import services
from orders.models import AfterSale, Order
from tests.mall.factories import StaffFactory, TenantFactory, UserFactory
from tests.orders.conftest import pay
from tests.orders.factories import StoreFactory

pytestmark = pytest.mark.django_db


def _console(tenant: Any, role: str = Staff.Role.OWNER) -> Client:
    staff = StaffFactory(
        tenant=tenant, role=role, user=UserFactory(username=f"{role}@{tenant.slug}")
    )
    client = Client()
    client.force_login(staff.user)
    return client


def test_list_search_detail_and_export(tenant: Any, make_sku: Any, place: Any) -> None:
    console = _console(tenant)
    sku = make_sku()
    paid = pay(place([(sku, 2)]))
    unpaid = place([(sku, 1)])

    listing = console.get("/console/orders/order/")
    assert listing.status_code == 200
    assert paid.number in listing.content.decode() and unpaid.number in listing.content.decode()
    found = console.get("/console/orders/order/", {"q": paid.number}).content.decode()
    assert paid.number in found and unpaid.number not in found
    filtered = console.get("/console/orders/order/", {"status__exact": "pending_payment"})
    assert paid.number not in filtered.content.decode()
    detail = console.get(f"/console/orders/order/{paid.pk}/change/").content.decode()
    assert "timeline" in detail.lower() and "pending_payment" in detail

    export = console.get("/console/orders/order/export/", {"status__exact": "paid"})
    assert export.status_code == 200
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True))
    assert rows[0][0] == "number"
    assert [r[0] for r in rows[1:]] == [paid.number]
    assert rows[1][9] == float(paid.payable) or str(rows[1][9]) == str(paid.payable)


def test_ship_and_partial_ship_pages(tenant: Any, make_sku: Any, place: Any) -> None:
    console = _console(tenant)
    order = pay(place([(make_sku(), 2)]))
    line = order.lines.get()
    url = f"/console/orders/order/{order.pk}/ship/"
    assert console.get(url).status_code == 200
    response = console.post(
        url, {"carrier": "shunfeng", "tracking_no": "SF1", f"qty_{line.pk}": "1"}
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == "partially_shipped"
    response = console.post(
        url, {"carrier": "shunfeng", "tracking_no": "SF2", f"qty_{line.pk}": "5"}
    )
    assert response.status_code == 200
    assert "less than or equal to 1" in response.content.decode()
    console.post(url, {"carrier": "shunfeng", "tracking_no": "SF2", f"qty_{line.pk}": "1"})
    order.refresh_from_db()
    assert order.status == "shipped"


def test_pickup_verification_page(tenant: Any, make_sku: Any, place: Any) -> None:
    console = _console(tenant)
    order = pay(
        place(
            [(make_sku(), 1)],
            fulfillment="pickup",
            store_id=StoreFactory(tenant=tenant).pk,
            address_id=None,
        )
    )
    url = f"/console/orders/order/{order.pk}/pickup/"
    wrong = console.post(url, {"code": "nope"})
    assert "Wrong pickup code" in wrong.content.decode()
    assert console.post(url, {"code": order.pickup_code}).status_code == 302
    order.refresh_from_db()
    assert order.status == "received"


def test_after_sale_actions(tenant: Any, member: Any, make_sku: Any, place: Any) -> None:
    console = _console(tenant)
    order = pay(place([(make_sku(), 1)]))
    after_sale = services.after_sale_request(
        tenant=tenant, member=member, order=order, type="refund", reason="r", actor="m"
    )
    console.post(
        "/console/orders/aftersale/",
        {
            "action": "reject",
            "_selected_action": [after_sale.pk],
            "reason": "",
        },
    )
    assert AfterSale.objects.get(pk=after_sale.pk).status == "requested"
    console.post(
        "/console/orders/aftersale/",
        {
            "action": "reject",
            "_selected_action": [after_sale.pk],
            "reason": "used goods",
        },
    )
    after_sale.refresh_from_db()
    assert (after_sale.status, after_sale.reject_reason) == ("rejected", "used goods")


def test_other_tenant_and_roles(tenant: Any, make_sku: Any, place: Any) -> None:
    order = pay(place([(make_sku(), 1)]))
    stranger = _console(TenantFactory(slug="shop-z"))
    assert stranger.get(f"/console/orders/order/{order.pk}/change/").status_code == 404
    assert stranger.get(f"/console/orders/order/{order.pk}/ship/").status_code == 404
    assert order.number not in stranger.get("/console/orders/order/").content.decode()
    export = stranger.get("/console/orders/order/export/")
    assert len(list(load_workbook(io.BytesIO(export.content)).active.iter_rows())) == 1
    finance = _console(tenant, Staff.Role.FINANCE)
    assert finance.get(f"/console/orders/order/{order.pk}/ship/").status_code == 403
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_dashboard_counts_orders_today(tenant: Any, make_sku: Any, place: Any) -> None:
    from mall.console.dashboard import dashboard_data

    place([(make_sku(), 1)])
    data = dashboard_data(tenant=tenant, role="owner")
    assert {k: v for k, _, v in data.counters}["orders_today"] == 1
