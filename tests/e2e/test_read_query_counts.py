"""Read paths issue a constant number of queries: the same count for a few rows as for many
(no N+1), for the lists and details that shoppers, merchants and integrators poll most."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from mall.tenancy.models import ApiKey
from mall.tenancy.services import api_key_create
from orders import services as order_services
from tests.catalog.factories import ProductFactory, SkuFactory
from tests.conftest import shopper_client
from tests.members.factories import AddressFactory, MemberFactory, access_token_for
from tests.promotions.factories import CouponFactory, CouponTemplateFactory

pytestmark = pytest.mark.django_db


def _count(call: Callable[[], Any]) -> int:
    call()  # warm caches that are allowed to be warm (channel, schema of the page)
    with CaptureQueriesContext(connection) as ctx:
        response = call()
    assert response.status_code == 200, response.content[:500]
    return len(ctx.captured_queries)


@pytest.fixture
def buyer(tenant: Any) -> Any:
    return MemberFactory(tenant=tenant, points=0)


@pytest.fixture
def shopper(channel: Any, buyer: Any) -> APIClient:
    return shopper_client(channel.app_id, access_token_for(buyer))


@pytest.fixture
def merchant(tenant: Any) -> APIClient:
    _key, raw = api_key_create(tenant=tenant, scopes=list(ApiKey.Scope.values))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def _orders(tenant: Any, channel: Any, buyer: Any, count: int, lines: int = 2) -> list[Any]:
    address = AddressFactory(tenant=tenant, member=buyer)
    skus = [
        SkuFactory(product=ProductFactory(tenant=tenant), price=Decimal("10.00"), stock=1000)
        for _ in range(lines)
    ]
    return [
        order_services.order_place(
            tenant=tenant,
            member=buyer,
            channel=channel,
            lines=[order_services.CheckoutLine(sku.pk, 1) for sku in skus],
            address_id=address.pk,
        )
        for _ in range(count)
    ]


def test_order_lists_do_not_grow_with_the_number_of_orders(
    tenant: Any, channel: Any, buyer: Any, shopper: APIClient, merchant: APIClient
) -> None:
    _orders(tenant, channel, buyer, 2)
    few_shopper = _count(lambda: shopper.get("/api/v1/orders"))
    few_merchant = _count(lambda: merchant.get("/api/merchant/v1/orders"))

    _orders(tenant, channel, buyer, 10, lines=3)

    assert _count(lambda: shopper.get("/api/v1/orders")) == few_shopper
    assert _count(lambda: merchant.get("/api/merchant/v1/orders")) == few_merchant


def test_order_detail_does_not_grow_with_the_number_of_lines(
    tenant: Any, channel: Any, buyer: Any, shopper: APIClient, merchant: APIClient
) -> None:
    small = _orders(tenant, channel, buyer, 1, lines=1)[0]
    large = _orders(tenant, channel, buyer, 1, lines=8)[0]

    assert _count(lambda: shopper.get(f"/api/v1/orders/{small.number}")) == _count(
        lambda: shopper.get(f"/api/v1/orders/{large.number}")
    )
    assert _count(lambda: merchant.get(f"/api/merchant/v1/orders/{small.number}")) == _count(
        lambda: merchant.get(f"/api/merchant/v1/orders/{large.number}")
    )


def _cart_add(tenant: Any, shopper: APIClient) -> None:
    sku = SkuFactory(product=ProductFactory(tenant=tenant), price=Decimal("5.00"), stock=9)
    response = shopper.post("/api/v1/cart/items", {"sku_id": sku.pk, "quantity": 1}, format="json")
    assert response.status_code in (200, 201), response.content


def test_member_lists_do_not_grow_with_their_rows(
    tenant: Any, buyer: Any, shopper: APIClient, merchant: APIClient
) -> None:
    AddressFactory(tenant=tenant, member=buyer)
    template = CouponTemplateFactory(tenant=tenant, per_member_limit=20)
    CouponFactory(template=template, member=buyer, seq=1)
    MemberFactory.create_batch(2, tenant=tenant)
    _cart_add(tenant, shopper)
    few = {
        "addresses": _count(lambda: shopper.get("/api/v1/me/addresses")),
        "coupons": _count(lambda: shopper.get("/api/v1/me/coupons")),
        "members": _count(lambda: merchant.get("/api/merchant/v1/members")),
        "cart": _count(lambda: shopper.get("/api/v1/cart")),
    }

    for _ in range(8):
        AddressFactory(tenant=tenant, member=buyer)
    for seq in range(2, 12):
        CouponFactory(template=CouponTemplateFactory(tenant=tenant), member=buyer, seq=seq)
    MemberFactory.create_batch(12, tenant=tenant)
    for _ in range(6):
        _cart_add(tenant, shopper)

    many = {
        "addresses": _count(lambda: shopper.get("/api/v1/me/addresses")),
        "coupons": _count(lambda: shopper.get("/api/v1/me/coupons")),
        "members": _count(lambda: merchant.get("/api/merchant/v1/members")),
        "cart": _count(lambda: shopper.get("/api/v1/cart")),
    }
    assert many == few
