"""Product sales are counted when an order is paid and taken back by refunded quantities, so
the shopper list's ``ordering=-sales`` puts the best seller first."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from catalog.models import Product
from mall.tenancy.services import api_key_create
from orders.models import Order
from tests.catalog.factories import ProductFactory, SkuFactory
from tests.conftest import shopper_client
from tests.mall.factories import ChannelFactory
from tests.members.factories import AddressFactory, MemberFactory, access_token_for

pytestmark = pytest.mark.django_db


def _listed(client: APIClient) -> list[tuple[int, int]]:
    answer = client.get("/api/v1/products", {"ordering": "-sales"})
    assert answer.status_code == 200, answer.content
    return [(item["id"], item["sales"]) for item in answer.json()["results"]]


def test_paid_orders_count_sales_and_refunds_take_them_back(
    tenant: Any, django_capture_on_commit_callbacks: Any
) -> None:
    channel = ChannelFactory(tenant=tenant, app_id="wx-sales-sandbox", is_sandbox=True)
    member = MemberFactory(tenant=tenant)
    client = shopper_client(channel.app_id, access_token_for(member))
    best = SkuFactory(product=ProductFactory(tenant=tenant), price=Decimal("10.00"), stock=9)
    newer = SkuFactory(product=ProductFactory(tenant=tenant), price=Decimal("10.00"), stock=9)
    assert newer.product_id > best.product_id  # without sales, -sales lists the newer first

    created = client.post(
        "/api/v1/orders",
        {
            "lines": [{"sku_id": best.pk, "quantity": 3}],
            "address_id": AddressFactory(tenant=tenant, member=member).pk,
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    number = created.json()["number"]
    assert Product.objects.get(pk=best.product_id).sales_count == 0  # placing is not selling
    with django_capture_on_commit_callbacks(execute=True):
        trade = client.post(f"/api/v1/orders/{number}/pay", {"gateway": "sandbox"}, format="json")
        client.post(f"/api/v1/payments/sandbox/{trade.json()['out_trade_no']}/complete")
    assert Order.objects.get(number=number).status == "paid"
    assert _listed(client) == [(best.product_id, 3), (newer.product_id, 0)]

    # One of the three comes back: the refund, once finished, takes one sale back.
    _key, raw = api_key_create(tenant=tenant, scopes=["orders"])
    merchant = APIClient()
    merchant.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    line_id = Order.objects.get(number=number).lines.get().pk
    with django_capture_on_commit_callbacks(execute=True):
        requested = client.post(
            f"/api/v1/orders/{number}/after-sales",
            {"type": "refund", "lines": [{"line_id": line_id, "quantity": 1}], "reason": "one"},
            format="json",
        )
        approved = merchant.post(f"/api/merchant/v1/after-sales/{requested.json()['id']}/approve")
    assert approved.status_code == 200, approved.content
    assert Order.objects.get(number=number).status == "partially_refunded"
    assert Product.objects.get(pk=best.product_id).sales_count == 2
    cache.clear()  # list pages may show a sale count up to PRODUCT_PAGE_CACHE_TTL old
    assert _listed(client) == [(best.product_id, 2), (newer.product_id, 0)]

    # A payment notified twice counts once.
    from orders import services

    order = Order.objects.get(number=number)
    assert services.order_mark_paid(
        tenant=tenant,
        number=number,
        amount=order.payable,
        payment_reference=order.payment_reference,
    )
    assert Product.objects.get(pk=best.product_id).sales_count == 2
