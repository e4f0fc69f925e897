"""Merchant open API (scope orders): sync by updated_since, detail, ship, after-sale handling."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from rest_framework.test import APIClient

from mall.tenancy.services import api_key_create
from orders import services
from orders.models import Order
from tests.orders.conftest import pay

pytestmark = pytest.mark.django_db


def test_sync_lists_changed_orders_oldest_change_first(
    merchant: Any, tenant: Any, make_sku: Any, place: Any
) -> None:
    sku = make_sku()
    a, b = place([(sku, 1)]), place([(sku, 1)])
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    Order.objects.filter(pk=a.pk).update(updated_at=t0 + dt.timedelta(hours=2))
    Order.objects.filter(pk=b.pk).update(updated_at=t0)

    body = merchant.get("/api/merchant/v1/orders").json()
    assert [o["number"] for o in body["results"]] == [b.number, a.number]
    since = merchant.get(
        "/api/merchant/v1/orders", {"updated_since": "2026-01-01T09:00:00+08:00"}
    ).json()
    assert [o["number"] for o in since["results"]] == [a.number]
    assert merchant.get("/api/merchant/v1/orders", {"status": "paid"}).json()["count"] == 0
    detail = merchant.get(f"/api/merchant/v1/orders/{a.number}").json()
    assert detail["member_id"] == a.member_id and detail["lines"][0]["sku_id"] == sku.pk
    bad = merchant.get("/api/merchant/v1/orders", {"updated_since": "yesterday"})
    assert bad.status_code == 400


def test_ship_partially_then_rest_and_refuse_cancelled(
    merchant: Any, tenant: Any, make_sku: Any, place: Any
) -> None:
    order = pay(place([(make_sku(), 2)]))
    line_id = order.lines.get().pk
    url = f"/api/merchant/v1/orders/{order.number}/ship"
    first = merchant.post(
        url,
        {"carrier": "sf", "tracking_no": "SF1", "lines": [{"line_id": line_id, "quantity": 1}]},
        format="json",
    )
    assert first.status_code == 201, first.content
    assert first.json()["lines"] == [{"line_id": line_id, "quantity": 1}]
    order.refresh_from_db()
    assert order.status == "partially_shipped"
    assert (
        merchant.post(url, {"carrier": "sf", "tracking_no": "SF2"}, format="json").status_code
        == 201
    )
    order.refresh_from_db()
    assert order.status == "shipped"

    cancelled = place([(make_sku(), 1)])
    services.order_cancel(tenant=tenant, order=cancelled, actor="system")
    response = merchant.post(
        f"/api/merchant/v1/orders/{cancelled.number}/ship",
        {"carrier": "sf", "tracking_no": "X"},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "invalid_transition"


def test_after_sale_approve_reject_refund(
    merchant: Any,
    tenant: Any,
    member: Any,
    make_sku: Any,
    place: Any,
    refunds: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    order = pay(place([(make_sku("40.00"), 2)]))
    first = services.after_sale_request(
        tenant=tenant,
        member=member,
        order=order,
        type="refund",
        reason="r",
        actor="m",
        lines=[services.AfterSaleLineInput(order.lines.get().pk, 1)],
    )
    with django_capture_on_commit_callbacks(execute=True):
        approved = merchant.post(
            f"/api/merchant/v1/after-sales/{first.pk}/approve", {"restock": True}, format="json"
        )
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "refunding" and approved.json()["restock"] is True
    assert [c["amount"] for c in refunds] == [first.amount]
    with django_capture_on_commit_callbacks(execute=True):
        again = merchant.post(f"/api/merchant/v1/after-sales/{first.pk}/refund")
    assert again.json()["status"] == "refunding"
    assert len(refunds) == 2 and refunds[0] == refunds[1]  # same request_ref: one refund

    second = services.after_sale_request(
        tenant=tenant, member=member, order=order, type="refund", reason="r2", actor="m"
    )
    rejected = merchant.post(f"/api/merchant/v1/after-sales/{second.pk}/reject", {})
    assert rejected.status_code == 400
    rejected = merchant.post(
        f"/api/merchant/v1/after-sales/{second.pk}/reject", {"reason": "no"}, format="json"
    )
    assert rejected.json()["status"] == "rejected"


def test_scope_and_tenant_isolation(
    tenant: Any, other_tenant: Any, make_sku: Any, place: Any, member: Any
) -> None:
    order = pay(place([(make_sku(), 1)]))
    after_sale = services.after_sale_request(
        tenant=tenant, member=member, order=order, type="refund", reason="r", actor="m"
    )
    _k, catalog_only = api_key_create(tenant=tenant, scopes=["catalog"])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {catalog_only}")
    assert api.get("/api/merchant/v1/orders").status_code == 403

    _k, foreign = api_key_create(tenant=other_tenant, scopes=["orders"])
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {foreign}")
    assert api.get("/api/merchant/v1/orders").json()["count"] == 0
    assert api.get(f"/api/merchant/v1/orders/{order.number}").status_code == 404
    assert (
        api.post(
            f"/api/merchant/v1/orders/{order.number}/ship",
            {"carrier": "a", "tracking_no": "b"},
            format="json",
        ).status_code
        == 404
    )
    for action in ("approve", "reject", "refund", "receive"):
        response = api.post(
            f"/api/merchant/v1/after-sales/{after_sale.pk}/{action}",
            {"reason": "x"},
            format="json",
        )
        assert response.status_code == 404, action
    order.refresh_from_db()
    assert order.status == "paid"
