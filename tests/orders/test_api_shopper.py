"""Shopper API: cart with flags, place order with Idempotency-Key, my orders from every
platform, buyer actions, after-sales; another tenant's objects are 404."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from catalog.models import Product
from orders.models import Order
from tests.conftest import shopper_client
from tests.mall.factories import ChannelFactory
from tests.members.factories import MemberFactory, access_token_for
from tests.orders.conftest import pay, stock
from tests.orders.factories import StoreFactory

pytestmark = pytest.mark.django_db


def _error(response: Any, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()["error"]
    assert body["code"] == code
    return body


def test_cart_add_merge_update_select_remove_and_flags(
    client: Any, tenant: Any, make_sku: Any
) -> None:
    a, b, c = make_sku("10.00", stock=5), make_sku("20.00", stock=1), make_sku("5.00")
    assert client.post("/api/v1/cart/items", {"sku_id": a.pk, "quantity": 2}).status_code == 201
    client.post("/api/v1/cart/items", {"sku_id": a.pk, "quantity": 1})
    client.post("/api/v1/cart/items", {"sku_id": b.pk, "quantity": 2})
    body = client.post("/api/v1/cart/items", {"sku_id": c.pk, "quantity": 1}).json()
    items = {i["sku_id"]: i for i in body["items"]}
    assert items[a.pk]["quantity"] == 3 and items[a.pk]["available"]
    assert items[b.pk]["problem"] == "insufficient_stock"
    Product.objects.filter(pk=c.product_id).update(status="off_shelf")

    body = client.get("/api/v1/cart").json()
    items = {i["sku_id"]: i for i in body["items"]}
    assert items[c.pk]["available"] is False and items[c.pk]["problem"] == "off_shelf"
    assert body["selected_subtotal"] == "30.00"  # only available, selected items count

    body = client.patch(f"/api/v1/cart/items/{items[a.pk]['id']}", {"selected": False}).json()
    assert body["selected_subtotal"] == "0.00"
    assert client.delete(f"/api/v1/cart/items/{items[c.pk]['id']}").status_code == 204
    assert len(client.get("/api/v1/cart").json()["items"]) == 2
    _error(
        client.post("/api/v1/cart/items", {"sku_id": 999999, "quantity": 1}), 404, "sku_not_found"
    )
    _error(
        client.post("/api/v1/cart/items", {"sku_id": a.pk, "quantity": 0}), 400, "validation_error"
    )


def test_cart_is_shared_across_platforms(tenant: Any, member: Any, make_sku: Any) -> None:
    alipay = ChannelFactory(tenant=tenant, platform="alipay", app_id="2021-shop-a")
    wechat = ChannelFactory(tenant=tenant, app_id="wx-shop-a-2")
    token = access_token_for(member)
    sku = make_sku()
    shopper_client(wechat.app_id, token).post("/api/v1/cart/items", {"sku_id": sku.pk})
    items = shopper_client(alipay.app_id, token).get("/api/v1/cart").json()["items"]
    assert [i["sku_id"] for i in items] == [sku.pk]


def test_place_order_with_idempotency_key_and_from_cart(
    client: Any, tenant: Any, address: Any, make_sku: Any
) -> None:
    a, b = make_sku("10.00"), make_sku("20.00")
    client.post("/api/v1/cart/items", {"sku_id": a.pk, "quantity": 2})
    client.post("/api/v1/cart/items", {"sku_id": b.pk, "quantity": 1})
    body = {"from_cart": True, "address_id": address.pk, "fulfillment": "express"}
    first = client.post("/api/v1/orders", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post("/api/v1/orders", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    order = first.json()
    assert order["status"] == "pending_payment"
    assert order["payable"] == "40.00" and order["subtotal"] == "40.00"
    assert {(x["sku_id"], x["quantity"], x["unit_price"]) for x in order["lines"]} == {
        (a.pk, 2, "10.00"),
        (b.pk, 1, "20.00"),
    }
    assert Order.objects.count() == 1
    assert (stock(a), stock(b)) == (8, 9)
    assert client.get("/api/v1/cart").json()["items"] == []
    other = client.post(
        "/api/v1/orders", {**body, "remark": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    _error(other, 409, "idempotency_key_reused")


def test_order_errors_in_contract_shape(client: Any, address: Any, make_sku: Any) -> None:
    sku = make_sku(stock=1)
    body = {"lines": [{"sku_id": sku.pk, "quantity": 3}], "address_id": address.pk}
    error = _error(client.post("/api/v1/orders", body, format="json"), 409, "out_of_stock")
    assert error["details"]["problems"][0]["sku_id"] == sku.pk
    _error(client.post("/api/v1/orders", {"lines": []}, format="json"), 400, "validation_error")
    _error(
        client.post(
            "/api/v1/orders",
            {**body, "lines": [{"sku_id": sku.pk, "quantity": 1}], "address_id": 999999},
            format="json",
        ),
        404,
        "address_not_found",
    )
    _error(
        client.post(
            "/api/v1/orders",
            {"lines": [{"sku_id": 999999, "quantity": 1}], "address_id": address.pk},
            format="json",
        ),
        404,
        "sku_not_found",
    )


def test_my_orders_list_detail_cancel_confirm(
    client: Any, tenant: Any, member: Any, make_sku: Any, place: Any
) -> None:
    sku = make_sku("12.50")
    unpaid = place([(sku, 1)])
    paid = pay(place([(sku, 2)]))
    someone = MemberFactory(tenant=tenant)
    from tests.members.factories import AddressFactory

    place([(sku, 1)], member=someone, address_id=AddressFactory(member=someone).pk)

    listed = client.get("/api/v1/orders").json()
    assert [o["number"] for o in listed["results"]] == [paid.number, unpaid.number]
    assert listed["count"] == 2
    only = client.get("/api/v1/orders", {"status": "paid"}).json()["results"]
    assert [o["number"] for o in only] == [paid.number]
    detail = client.get(f"/api/v1/orders/{paid.number}").json()
    assert detail["paid_amount"] == "25.00"
    assert [e["to_status"] for e in detail["timeline"]] == ["pending_payment", "paid"]

    cancelled = client.post(f"/api/v1/orders/{unpaid.number}/cancel").json()
    assert cancelled["status"] == "cancelled"
    _error(client.post(f"/api/v1/orders/{paid.number}/cancel"), 409, "invalid_transition")
    _error(client.post(f"/api/v1/orders/{paid.number}/confirm-receipt"), 409, "invalid_transition")
    from orders import services

    services.order_ship(tenant=tenant, order=paid, actor="x", carrier="sf", tracking_no="1")
    received = client.post(f"/api/v1/orders/{paid.number}/confirm-receipt").json()
    assert received["status"] == "received"
    assert received["shipments"][0]["tracking_no"] == "1"


def test_after_sale_request_and_detail(client: Any, tenant: Any, make_sku: Any, place: Any) -> None:
    order = pay(place([(make_sku("30.00"), 2)]))
    line_id = order.lines.get().pk
    response = client.post(
        f"/api/v1/orders/{order.number}/after-sales",
        {"type": "refund", "lines": [{"line_id": line_id, "quantity": 1}], "reason": "too many"},
        format="json",
    )
    assert response.status_code == 201, response.content
    after_sale = response.json()
    assert (after_sale["status"], after_sale["amount"]) == ("requested", "30.00")
    got = client.get(f"/api/v1/after-sales/{after_sale['id']}").json()
    assert got["lines"] == [{"line_id": line_id, "quantity": 1, "amount": "30.00"}]
    too_much = client.post(
        f"/api/v1/orders/{order.number}/after-sales",
        {"type": "refund", "reason": "all", "amount": "999.00"},
        format="json",
    )
    _error(too_much, 422, "refund_exceeds_paid")
    assert client.post(f"/api/v1/after-sales/{after_sale['id']}/cancel").json()["status"] == (
        "cancelled"
    )


def test_pickup_order_shows_the_code_to_the_buyer(client: Any, tenant: Any, make_sku: Any) -> None:
    store = StoreFactory(tenant=tenant)
    sku = make_sku()
    stores = client.get("/api/v1/stores").json()["results"]
    assert [s["id"] for s in stores] == [store.pk]
    order = client.post(
        "/api/v1/orders",
        {
            "lines": [{"sku_id": sku.pk, "quantity": 1}],
            "fulfillment": "pickup",
            "store_id": store.pk,
        },
        format="json",
    ).json()
    assert order["shipping_fee"] == "0.00" and order["store"]["name"] == store.name
    pay(Order.objects.get(number=order["number"]))
    assert len(client.get(f"/api/v1/orders/{order['number']}").json()["pickup_code"]) == 8


def test_another_tenants_orders_and_after_sales_are_404(
    tenant: Any, other_tenant: Any, other_channel: Any, make_sku: Any, place: Any, member: Any
) -> None:
    from orders import services

    order = pay(place([(make_sku(), 1)]))
    after_sale = services.after_sale_request(
        tenant=tenant, member=member, order=order, type="refund", reason="r", actor="m"
    )
    stranger = shopper_client(
        other_channel.app_id, access_token_for(MemberFactory(tenant=other_tenant))
    )
    for method, url in [
        ("get", f"/api/v1/orders/{order.number}"),
        ("post", f"/api/v1/orders/{order.number}/cancel"),
        ("post", f"/api/v1/orders/{order.number}/confirm-receipt"),
        ("get", f"/api/v1/after-sales/{after_sale.pk}"),
        ("post", f"/api/v1/after-sales/{after_sale.pk}/cancel"),
    ]:
        assert getattr(stranger, method)(url).status_code == 404, url
    assert stranger.get("/api/v1/orders").json()["count"] == 0
    order.refresh_from_db()
    assert order.status == "paid"
    assert Decimal(order.paid_amount) > 0


def test_order_answers_equal_a_fresh_detail_serializer(
    client: Any, tenant: Any, address: Any, make_sku: Any
) -> None:
    """The create and detail answers (one reused serializer per process) are exactly what a
    freshly built ``OrderDetailSerializer`` gives for the stored order, in every state."""
    import json

    from orders import selectors
    from orders import services as order_services
    from orders.api.serializers import OrderDetailSerializer

    sku = make_sku("19.90")
    body = {
        "lines": [{"sku_id": sku.pk, "quantity": 3}],
        "address_id": address.pk,
        "remark": "gift wrap",
    }
    created = client.post("/api/v1/orders", body, format="json")
    assert created.status_code == 201
    number = created.json()["number"]

    def fresh() -> Any:
        order = selectors.order_get_for_member(
            tenant=tenant, member=Order.objects.get(number=number).member, number=number
        )
        data = OrderDetailSerializer(order, context={"buyer": True}).data
        return json.loads(json.dumps(data, default=str))

    assert created.json() == fresh()
    assert client.get(f"/api/v1/orders/{number}").json() == fresh()
    order = pay(Order.objects.get(number=number))
    order_services.order_ship(tenant=tenant, order=order, actor="x", carrier="sf", tracking_no="9")
    shipped = client.get(f"/api/v1/orders/{number}").json()
    assert shipped == fresh() and shipped["shipments"][0]["tracking_no"] == "9"
    received = client.post(f"/api/v1/orders/{number}/confirm-receipt").json()
    assert received == fresh() and received["status"] == "received"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"lines": [{"sku_id": 0, "quantity": 1}]}, "lines"),
        ({"lines": [{"sku_id": 1, "quantity": 1}], "use_points": -1}, "use_points"),
        ({"lines": [{"sku_id": 1, "quantity": 1}], "fulfillment": "drone"}, "fulfillment"),
        ({"lines": "x"}, "lines"),
        ({"from_cart": False}, "lines"),
        ({"lines": [{"sku_id": 1, "quantity": 1}], "expected_payable": "-1"}, "expected_payable"),
    ],
)
def test_bad_order_bodies_name_the_field_and_leave_nothing(
    client: Any, body: dict, field: str
) -> None:
    error = _error(client.post("/api/v1/orders", body, format="json"), 400, "validation_error")
    assert field in error["details"]
    assert Order.objects.count() == 0
    # The reused input serializer keeps nothing from a failed request.
    _error(client.post("/api/v1/orders", {}, format="json"), 400, "validation_error")
