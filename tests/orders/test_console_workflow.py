"""Console order workflow (issue 11 item 4): status tabs with counts, Ship with a courier from
the list and a quantity per line, batch shipping from an XLSX (all or nothing), pickup-code
verification page, after-sales by buttons with the money shown first, readable address and
commission chain, a changelist whose query count does not grow with the rows."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import Workbook

from mall.tenancy.models import Staff
from orders import services
from orders.models import Order, Shipment
from tests.distribution.factories import distributor
from tests.mall.factories import StaffFactory, UserFactory
from tests.members.factories import MemberFactory
from tests.orders.conftest import pay, refund_finished
from tests.orders.factories import StoreFactory

pytestmark = pytest.mark.django_db
ORDERS = "/console/orders/order/"


def _console(tenant: Any, role: str = Staff.Role.OWNER) -> Client:
    staff = StaffFactory(
        tenant=tenant, role=role, user=UserFactory(username=f"{role}@{tenant.slug}")
    )
    client = Client()
    client.force_login(staff.user)
    return client


def _xlsx(rows: list[list[Any]], header: bool = True) -> SimpleUploadedFile:
    workbook = Workbook()
    sheet = workbook.active
    if header:
        sheet.append(["订单号", "快递公司", "运单号"])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(
        "ship.xlsx",
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def _tab_count(html: str, key: str) -> int:
    match = re.search(
        rf'data-tab="{key}"[^>]*>[^<]*<span class="console-tab-count">(\d+)</span>', html
    )
    assert match, f"no tab {key}"
    return int(match.group(1))


def test_ship_with_a_courier_from_the_list(tenant: Any, make_sku: Any, place: Any) -> None:
    console = _console(tenant)
    order = pay(place([(make_sku(), 2)]))

    listing = console.get(ORDERS).content.decode()
    ship_url = f"{ORDERS}{order.pk}/ship/"
    assert f'href="{ship_url}"' in listing  # the row's Ship action
    detail = console.get(f"{ORDERS}{order.pk}/change/").content.decode()
    assert f'href="{ship_url}"' in detail  # the detail page's Ship button

    page = console.get(ship_url).content.decode()
    assert '<option value="shunfeng">SF Express (shunfeng)</option>' in page  # English in tests
    assert '<option value="jtexpress">' in page and '<option value="debangwuliu">' in page
    line = order.lines.get()
    assert f'name="qty_{line.pk}"' in page and 'value="2"' in page  # default: all of it

    missing = console.post(ship_url, {"carrier": "", "tracking_no": "", f"qty_{line.pk}": "2"})
    assert missing.status_code == 200
    errors = missing.context["form"].errors
    assert "carrier" in errors and "tracking_no" in errors
    unknown = console.post(
        ship_url, {"carrier": "pigeon", "tracking_no": "X1", f"qty_{line.pk}": "2"}
    )
    assert "carrier" in unknown.context["form"].errors

    done = console.post(
        ship_url, {"carrier": "shunfeng", "tracking_no": "SF123", f"qty_{line.pk}": "2"}
    )
    assert done.status_code == 302
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED
    shipment = Shipment.objects.get(order=order)
    assert (shipment.carrier, shipment.tracking_no) == ("shunfeng", "SF123")
    assert f'href="{ship_url}"' not in console.get(f"{ORDERS}{order.pk}/change/").content.decode()


def test_partial_ship_by_line_quantities(tenant: Any, make_sku: Any, place: Any) -> None:
    console = _console(tenant)
    pay(place([(make_sku(), 1)]))  # a first order, shipped elsewhere
    order = pay(place([(make_sku("10.00"), 3), (make_sku("20.00"), 2)]))
    first, second = order.lines.order_by("pk")
    url = f"{ORDERS}{order.pk}/ship/"

    too_many = console.post(
        url, {"carrier": "zhongtong", "tracking_no": "ZT1", f"qty_{first.pk}": "4"}
    )
    assert too_many.status_code == 200
    assert f"qty_{first.pk}" in too_many.context["form"].errors  # next to the line's box
    nothing = console.post(
        url,
        {"carrier": "zhongtong", "tracking_no": "ZT1", f"qty_{first.pk}": 0, f"qty_{second.pk}": 0},
    )
    assert "at least one item" in nothing.content.decode()

    response = console.post(
        url,
        {"carrier": "zhongtong", "tracking_no": "ZT1", f"qty_{first.pk}": 1, f"qty_{second.pk}": 0},
    )
    assert response.status_code == 302
    order.refresh_from_db()
    first.refresh_from_db()
    second.refresh_from_db()
    assert order.status == Order.Status.PARTIALLY_SHIPPED
    assert (first.shipped_quantity, second.shipped_quantity) == (1, 0)

    page = console.get(url).content.decode()  # the rest: 2 of the first line, 2 of the second
    assert f'name="qty_{first.pk}" value="2"' in page.replace('type="number" ', "")
    response = console.post(
        url,
        {"carrier": "yuantong", "tracking_no": "YT2", f"qty_{first.pk}": 2, f"qty_{second.pk}": 2},
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED
    assert sorted(Shipment.objects.filter(order=order).values_list("carrier", flat=True)) == [
        "yuantong",
        "zhongtong",
    ]


def test_a_role_that_must_not_ship_gets_403(tenant: Any, make_sku: Any, place: Any) -> None:
    order = pay(place([(make_sku(), 1)]))
    for role in (Staff.Role.FINANCE, Staff.Role.SERVICE):
        console = _console(tenant, role)
        assert console.get(f"{ORDERS}{order.pk}/ship/").status_code == 403
        posted = console.post(
            f"{ORDERS}{order.pk}/ship/", {"carrier": "shunfeng", "tracking_no": "SF1"}
        )
        assert posted.status_code == 403
        assert console.get(f"{ORDERS}ship-batch/").status_code == 403
        assert console.get(f"{ORDERS}pickup/").status_code == 403
        listing = console.get(ORDERS).content.decode()
        assert f"{ORDERS}{order.pk}/ship/" not in listing
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_batch_shipping_reports_bad_rows_and_applies_nothing_then_all(
    tenant: Any, make_sku: Any, place: Any
) -> None:
    console = _console(tenant)
    sku = make_sku(stock=20)
    a, b, c = (pay(place([(sku, 1)])) for _ in range(3))
    unpaid = place([(sku, 1)])
    url = f"{ORDERS}ship-batch/"
    assert "ship-batch/" in console.get(ORDERS).content.decode()  # linked from the list

    bad = console.post(
        url,
        {
            "file": _xlsx(
                [
                    [a.number, "顺丰", "SF001"],
                    [b.number, "pigeon post", "X1"],
                    [c.number, "zhongtong", ""],
                    [unpaid.number, "yunda", "YD1"],
                ]
            )
        },
    )
    assert bad.status_code == 200
    problems = {p["row"]: p["reason"] for p in bad.context["problems"]}
    assert set(problems) == {3, 4, 5}  # spreadsheet rows (row 1 is the header)
    assert "pigeon post" in problems[3]
    assert "tracking number" in problems[4]
    assert "cannot be shipped" in problems[5]
    html = bad.content.decode()
    assert "nothing was shipped" in html and "pigeon post" in html
    assert Shipment.objects.filter(tenant=tenant).count() == 0
    assert set(
        Order.objects.filter(pk__in=[a.pk, b.pk, c.pk]).values_list("status", flat=True)
    ) == {"paid"}

    good = console.post(
        url,
        {
            "file": _xlsx(
                [
                    [a.number, "顺丰", "SF001"],
                    [b.number, "J&T Express", "JT002"],
                    [c.number, " zhongtong ", " ZT003 "],
                ]
            )
        },
    )
    assert good.status_code == 302
    shipped = dict(Shipment.objects.filter(tenant=tenant).values_list("order__number", "carrier"))
    assert shipped == {a.number: "shunfeng", b.number: "jtexpress", c.number: "zhongtong"}
    assert set(
        Order.objects.filter(pk__in=[a.pk, b.pk, c.pk]).values_list("status", flat=True)
    ) == {"shipped"}

    not_xlsx = console.post(url, {"file": SimpleUploadedFile("x.xlsx", b"not a workbook")})
    assert not_xlsx.status_code == 200 and "file" in not_xlsx.context["form"].errors


def test_pickup_verification_page_linked_from_the_list(
    tenant: Any, make_sku: Any, place: Any
) -> None:
    console = _console(tenant)
    order = pay(
        place(
            [(make_sku(), 1)],
            fulfillment="pickup",
            store_id=StoreFactory(tenant=tenant).pk,
            address_id=None,
        )
    )
    listing = console.get(ORDERS).content.decode()
    assert f'href="{ORDERS}pickup/"' in listing
    assert f'href="{ORDERS}{order.pk}/pickup/"' in listing  # the row's action

    wrong = console.post(f"{ORDERS}pickup/", {"number": order.number, "code": "00000000x"})
    assert wrong.status_code == 200
    assert "Wrong pickup code" in str(wrong.context["form"].errors["code"])
    assert "attempts left" in str(wrong.context["form"].errors["code"])
    unknown = console.post(f"{ORDERS}pickup/", {"number": "nope", "code": order.pickup_code})
    assert "number" in unknown.context["form"].errors

    ok = console.post(f"{ORDERS}pickup/", {"number": order.number, "code": order.pickup_code})
    assert ok.status_code == 302
    order.refresh_from_db()
    assert order.status == Order.Status.RECEIVED


def test_after_sale_approve_and_refund_by_buttons(
    tenant: Any,
    member: Any,
    make_sku: Any,
    place: Any,
    refunds: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    console = _console(tenant, Staff.Role.SERVICE)
    order = pay(place([(make_sku("40.00"), 2)]))
    services.order_ship(tenant=tenant, order=order, actor="x", carrier="sf", tracking_no="SF1")
    line = order.lines.get()
    after_sale = services.after_sale_request(
        tenant=tenant,
        member=member,
        order=order,
        type="return_refund",
        reason="too small",
        lines=[services.AfterSaleLineInput(line.pk, 1)],
        actor="m",
    )
    assert after_sale.amount == Decimal("40.00")
    base = f"/console/orders/aftersale/{after_sale.pk}/"
    detail = console.get(f"{base}change/").content.decode()
    assert f'href="{base}approve/"' in detail and f'href="{base}refuse/"' in detail
    assert f'href="{base}refund/"' not in detail  # not before the goods are back

    confirm = console.get(f"{base}approve/").content.decode()
    assert "¥40.00" in confirm  # the money is shown before confirming
    assert console.post(f"{base}approve/", {"restock": "on"}).status_code == 302
    after_sale.refresh_from_db()
    assert (after_sale.status, after_sale.restock) == ("approved", True)

    services.after_sale_return_ship(
        tenant=tenant, after_sale=after_sale, actor="m", carrier="sf", tracking_no="SFR1"
    )
    assert f'href="{base}receive/"' in console.get(f"{base}change/").content.decode()
    assert console.post(f"{base}receive/", {"restock": "on"}).status_code == 302
    assert f'href="{base}refund/"' in console.get(f"{base}change/").content.decode()

    confirm = console.get(f"{base}refund/").content.decode()
    assert 'id="refund-amount">¥40.00<' in confirm
    assert refunds == []  # nothing happens on the confirmation page
    with django_capture_on_commit_callbacks(execute=True):
        done = console.post(f"{base}refund/", follow=True)
    assert "¥40.00 goes back to the buyer" in done.content.decode()
    assert [call["amount"] for call in refunds] == [Decimal("40.00")]
    refund_finished(tenant, refunds[0])
    after_sale.refresh_from_db()
    order.refresh_from_db()
    assert after_sale.status == "refunded"
    assert (order.refunded_amount, order.status) == (Decimal("40.00"), "partially_refunded")

    # A button pressed again (e.g. a second tab) is a message, never a 500.
    again = console.post(f"{base}refund/", follow=True)
    assert again.status_code == 200 and "cannot be done now" in again.content.decode()


def test_after_sale_refuse_needs_a_reason_and_errors_are_messages(
    tenant: Any, member: Any, make_sku: Any, place: Any, monkeypatch: Any
) -> None:
    console = _console(tenant)
    order = pay(place([(make_sku(), 1)]))
    after_sale = services.after_sale_request(
        tenant=tenant, member=member, order=order, type="refund", reason="r", actor="m"
    )
    base = f"/console/orders/aftersale/{after_sale.pk}/"
    empty = console.post(f"{base}refuse/", {"reason": ""})
    assert empty.status_code == 200 and "reason" in empty.context["form"].errors

    from mall.errors import ConflictError

    def boom(**kw: Any) -> None:
        raise ConflictError("invalid_transition", "Someone else decided first.")

    monkeypatch.setattr(services, "after_sale_approve", boom)
    failed = console.post(f"{base}approve/", follow=True)
    assert failed.status_code == 200 and "Someone else decided first." in failed.content.decode()
    monkeypatch.undo()

    assert console.post(f"{base}refuse/", {"reason": "used goods"}).status_code == 302
    after_sale.refresh_from_db()
    assert (after_sale.status, after_sale.reject_reason) == ("rejected", "used goods")
    operator = _console(tenant, Staff.Role.OPERATOR)
    assert operator.get(f"{base}approve/").status_code == 403


def test_status_tabs_count_and_filter(tenant: Any, member: Any, make_sku: Any, place: Any) -> None:
    console = _console(tenant)
    sku = make_sku(stock=50)
    place([(sku, 1)])
    place([(sku, 1)])  # two pending payment
    to_ship = pay(place([(sku, 1)]))
    shipped = pay(place([(sku, 1)]))
    services.order_ship(tenant=tenant, order=shipped, actor="x", carrier="sf", tracking_no="1")
    cancelled = place([(sku, 1)])
    services.order_cancel(tenant=tenant, order=cancelled, actor="x", reason="no")
    in_after_sale = pay(place([(sku, 1)]))
    services.after_sale_request(
        tenant=tenant, member=member, order=in_after_sale, type="refund", reason="r", actor="m"
    )

    html = console.get(ORDERS).content.decode()
    counts = {
        key: _tab_count(html, key)
        for key in (
            "all",
            "pending_payment",
            "to_ship",
            "shipped",
            "completed",
            "cancelled",
            "after_sale",
        )
    }
    assert counts == {
        "all": 6,
        "pending_payment": 2,
        "to_ship": 2,
        "shipped": 1,
        "completed": 0,
        "cancelled": 1,
        "after_sale": 1,
    }
    listed = console.get(ORDERS, {"tab": "to_ship"}).context["cl"].result_list
    assert {o.pk for o in listed} == {to_ship.pk, in_after_sale.pk}
    listed = console.get(ORDERS, {"tab": "after_sale"}).context["cl"].result_list
    assert [o.pk for o in listed] == [in_after_sale.pk]


def test_order_page_shows_address_and_commission_chain_as_text(
    tenant: Any, make_sku: Any, place: Any
) -> None:
    console = _console(tenant)
    order = pay(place([(make_sku(), 1)]))
    upline = distributor(tenant, member=MemberFactory(tenant=tenant, nickname="Li Si"))
    direct = distributor(
        tenant, parent=upline, member=MemberFactory(tenant=tenant, nickname="Wang Wu")
    )
    Order.objects.filter(pk=order.pk).update(
        distribution={
            "enabled": True,
            "chain": [
                {"tier": 1, "distributor_id": direct.pk},
                {"tier": 2, "distributor_id": upline.pk},
            ],
        }
    )
    html = console.get(f"{ORDERS}{order.pk}/change/").content.decode()
    assert "Zhang San 13800138000, Guangdong Shenzhen Nanshan, 1 Keji Road" in html
    assert f"Tier 1: Wang Wu (share code {direct.share_code})" in html
    assert f"Tier 2: Li Si (share code {upline.share_code})" in html
    assert '"province"' not in html and '"distributor_id"' not in html  # no raw JSON


def _orders(place: Any, sku: Any, n: int) -> None:
    for _ in range(n):
        pay(place([(sku, 1)]))


def test_order_changelist_queries_do_not_grow_with_rows(
    tenant: Any, make_sku: Any, place: Any, django_assert_num_queries: Any
) -> None:
    console = _console(tenant)
    sku = make_sku(stock=100)
    _orders(place, sku, 2)
    console.get(ORDERS)  # warm the session and caches
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as two:
        assert console.get(ORDERS).status_code == 200
    _orders(place, sku, 8)
    with django_assert_num_queries(len(two.captured_queries)):
        response = console.get(ORDERS)
    assert len(response.context["cl"].result_list) == 10
