"""Fulfillment: partial express shipments, same-city fee bands, store pickup with limited
attempts, courier adapters (local and Kuaidi100-style HTTP against a local fake)."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from mall.api.errors import ApplicationError, status_for
from orders import services
from orders.couriers import Kuaidi100Courier, LocalCourier, courier_adapter
from orders.models import Order, OrderEvent
from tests.members.factories import AddressFactory
from tests.orders.conftest import pay
from tests.orders.factories import StoreFactory

pytestmark = pytest.mark.django_db


def test_partial_shipments_then_the_rest(tenant: Any, make_sku: Any, place: Any) -> None:
    a, b = make_sku(), make_sku()
    order = pay(place([(a, 3), (b, 1)]))
    la, lb = order.lines.order_by("id")

    first = services.order_ship(
        tenant=tenant,
        order=order,
        actor="staff:1",
        carrier="sf",
        tracking_no="SF1",
        lines=[services.ShipLine(la.pk, 2)],
    )
    order.refresh_from_db()
    assert order.status == Order.Status.PARTIALLY_SHIPPED and order.shipped_at is None
    with pytest.raises(ApplicationError) as exc:
        services.order_ship(
            tenant=tenant,
            order=order,
            actor="staff:1",
            carrier="sf",
            tracking_no="SF2",
            lines=[services.ShipLine(la.pk, 2)],
        )
    assert exc.value.code == "invalid_lines" and exc.value.details["left"] == 1

    second = services.order_ship(
        tenant=tenant, order=order, actor="staff:1", carrier="yto", tracking_no="YT9"
    )
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED and order.shipped_at is not None
    assert [(x.order_line_id, x.quantity) for x in first.lines.all()] == [(la.pk, 2)]
    assert sorted((x.order_line_id, x.quantity) for x in second.lines.all()) == [
        (la.pk, 1),
        (lb.pk, 1),
    ]
    assert [x.shipped_quantity for x in order.lines.order_by("id")] == [3, 1]


def test_express_needs_carrier_and_tracking(tenant: Any, make_sku: Any, place: Any) -> None:
    order = pay(place([(make_sku(), 1)]))
    with pytest.raises(ApplicationError) as exc:
        services.order_ship(tenant=tenant, order=order, actor="x", carrier="sf")
    assert status_for(exc.value) == 422
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_same_city_fee_by_distance_band_and_range(
    tenant: Any, member: Any, make_sku: Any, place: Any
) -> None:
    store = StoreFactory(tenant=tenant)
    near = AddressFactory(
        tenant=tenant, member=member, latitude=Decimal("22.550000"), longitude=Decimal("114.050000")
    )  # ~1.1 km
    mid = AddressFactory(
        tenant=tenant, member=member, latitude=Decimal("22.580000"), longitude=Decimal("114.050000")
    )  # ~4.4 km
    far = AddressFactory(
        tenant=tenant, member=member, latitude=Decimal("22.800000"), longitude=Decimal("114.050000")
    )  # ~29 km
    sku = make_sku("20.00")
    order = place([(sku, 1)], fulfillment="same_city", store_id=store.pk, address_id=near.pk)
    assert order.shipping_fee == Decimal("5.00") and order.payable == Decimal("25.00")
    assert order.distance_km == Decimal("1.11")
    assert place(
        [(sku, 1)], fulfillment="same_city", store_id=store.pk, address_id=mid.pk
    ).shipping_fee == Decimal("12.00")
    with pytest.raises(ApplicationError) as exc:
        place([(sku, 1)], fulfillment="same_city", store_id=store.pk, address_id=far.pk)
    assert exc.value.code == "out_of_delivery_range"

    pay(order)
    with pytest.raises(ApplicationError):
        services.order_ship(tenant=tenant, order=order, actor="x")  # needs courier
    shipment = services.order_ship(
        tenant=tenant, order=order, actor="x", courier_name="Li", courier_phone="13900000000"
    )
    assert shipment.kind == "same_city"
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED


def test_pickup_code_verification_limits_attempts(tenant: Any, make_sku: Any, place: Any) -> None:
    store = StoreFactory(tenant=tenant)
    order = place(
        [(make_sku("30.00"), 1)], fulfillment="pickup", store_id=store.pk, address_id=None
    )
    assert order.shipping_fee == Decimal("0.00") and order.store_snapshot["name"] == store.name
    assert order.pickup_code == ""
    order = pay(order)
    assert len(order.pickup_code) == 8
    with pytest.raises(ApplicationError) as exc:
        services.order_ship(tenant=tenant, order=order, actor="x", carrier="sf", tracking_no="1")
    assert status_for(exc.value) == 409

    for left in (4, 3, 2, 1, 0):
        with pytest.raises(ApplicationError) as exc:
            services.order_pickup_verify(tenant=tenant, order=order, code="00000000x", actor="s")
        assert exc.value.code == "wrong_pickup_code"
        assert exc.value.details["attempts_left"] == left
    with pytest.raises(ApplicationError) as exc:
        services.order_pickup_verify(tenant=tenant, order=order, code=order.pickup_code, actor="s")
    assert exc.value.code == "pickup_locked"
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert OrderEvent.objects.filter(order=order, kind="pickup_failed").count() == 5

    order = services.order_pickup_code_reset(tenant=tenant, order=order, actor="owner")
    services.order_pickup_verify(tenant=tenant, order=order, code=order.pickup_code, actor="s")
    order.refresh_from_db()
    assert order.status == Order.Status.RECEIVED
    assert order.lines.get().shipped_quantity == 1
    # verifying again is a no-op
    services.order_pickup_verify(tenant=tenant, order=order, code="whatever", actor="s")


def test_local_courier_is_the_default(settings: Any) -> None:
    assert isinstance(courier_adapter(), LocalCourier)
    tracking = LocalCourier().track(carrier="sf", tracking_no="SF1")
    assert tracking.events and tracking.state == "in_transit"


def test_kuaidi100_query_is_signed_and_parsed(
    httpserver: HTTPServer, settings: Any, tenant: Any, make_sku: Any, place: Any
) -> None:
    settings.COURIER_BACKEND = "kuaidi100"
    settings.KUAIDI100_API_URL = httpserver.url_for("/poll/query.do")
    settings.KUAIDI100_CUSTOMER = "CUST01"
    settings.KUAIDI100_KEY = "secret-key"
    seen: list[dict[str, str]] = []

    def handle(request: Request) -> Response:
        form = request.form.to_dict()
        seen.append(form)
        expected = hashlib.md5((form["param"] + "secret-key" + "CUST01").encode()).hexdigest()
        if form["sign"] != expected.upper():
            return Response(json.dumps({"result": False, "message": "bad sign"}), 400)
        param = json.loads(form["param"])
        body = {
            "message": "ok",
            "state": "3",
            "com": param["com"],
            "nu": param["num"],
            "data": [
                {
                    "time": "2026-11-25 12:00:00",
                    "ftime": "2026-11-25 12:00:00",
                    "context": "Delivered, signed by buyer",
                    "areaName": "Shenzhen",
                },
                {
                    "time": "2026-11-24 09:00:00",
                    "ftime": "2026-11-24 09:00:00",
                    "context": "Collected",
                },
            ],
        }
        return Response(json.dumps(body), 200, content_type="application/json")

    httpserver.expect_request("/poll/query.do", method="POST").respond_with_handler(handle)
    order = pay(place([(make_sku(), 1)]))
    shipment = services.order_ship(
        tenant=tenant, order=order, actor="x", carrier="shunfeng", tracking_no="SF123"
    )
    shipment = services.shipment_tracking_refresh(tenant=tenant, shipment=shipment)

    assert isinstance(courier_adapter(), Kuaidi100Courier)
    assert json.loads(seen[0]["param"])["num"] == "SF123"
    assert json.loads(seen[0]["param"])["phone"] == "8000"  # last digits of the receiver
    shipment.refresh_from_db()
    assert shipment.tracking_state == "delivered"
    assert shipment.tracking[0]["text"] == "Delivered, signed by buyer"
    assert shipment.tracking[0]["location"] == "Shenzhen"


def test_kuaidi100_refusal_is_a_courier_error(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/q").respond_with_json({"result": False, "message": "no"}, 400)
    courier = Kuaidi100Courier(url=httpserver.url_for("/q"), customer="c", key="k")
    with pytest.raises(ApplicationError) as exc:
        courier.track(carrier="sf", tracking_no="1")
    assert (exc.value.code, status_for(exc.value)) == ("courier_error", 502)
