"""Concurrency on PostgreSQL (real threads, real transactions): no overselling, one order per
Idempotency-Key, and carts filled while stock was ample still sell only what is left."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection

from catalog.models import Sku, StockMovement
from mall.api.errors import ApplicationError, status_for
from orders import services
from orders.models import Order
from tests.catalog.factories import ProductFactory, SkuFactory
from tests.conftest import shopper_client
from tests.members.factories import AddressFactory, MemberFactory, access_token_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
# PostgreSQL allows 100 connections by default (shared with other test runs): the workers
# start together at a barrier, at most this many at a time.
WORKERS = 40


@pytest.fixture(autouse=True)
def _needs_postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL) for real row locks and concurrent commits")


def _run(count: int, fn: Callable[[int], Any]) -> list[Any]:
    barrier = threading.Barrier(min(count, WORKERS))

    def task(n: int) -> Any:
        try:
            if n < WORKERS:
                barrier.wait()
            return fn(n)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return list(pool.map(task, range(count)))


def _buyers(tenant: Any, count: int) -> list[tuple[Any, Any]]:
    result = []
    for _ in range(count):
        member = MemberFactory(tenant=tenant)
        result.append((member, AddressFactory(tenant=tenant, member=member)))
    return result


def test_200_buyers_for_100_units_make_exactly_100_orders(tenant: Any, channel: Any) -> None:
    sku = SkuFactory(product=ProductFactory(tenant=tenant), stock=100)
    buyers = _buyers(tenant, 200)

    def buy(n: int) -> str:
        member, address = buyers[n]
        try:
            services.order_place(
                tenant=tenant,
                member=member,
                channel=channel,
                address_id=address.pk,
                lines=[services.CheckoutLine(sku.pk, 1)],
            )
        except ApplicationError as exc:
            assert status_for(exc) == 409
            assert exc.details["problems"][0]["sku_id"] == sku.pk
            return exc.code
        return "ok"

    outcomes = _run(200, buy)

    assert outcomes.count("ok") == 100
    assert outcomes.count("out_of_stock") == 100
    assert Sku.objects.get(pk=sku.pk).stock == 0
    assert Order.objects.filter(tenant=tenant).count() == 100
    movements = StockMovement.objects.filter(sku=sku, reason="reserve")
    assert movements.count() == 100
    assert sorted(movements.values_list("stock_after", flat=True)) == list(range(100))


def test_same_idempotency_key_ten_times_at_once_is_one_order(tenant: Any, channel: Any) -> None:
    sku = SkuFactory(product=ProductFactory(tenant=tenant), stock=50)
    member = MemberFactory(tenant=tenant)
    address = AddressFactory(tenant=tenant, member=member)
    token = access_token_for(member)
    body = {"lines": [{"sku_id": sku.pk, "quantity": 2}], "address_id": address.pk}

    def post(n: int) -> tuple[int, Any]:
        client = shopper_client(channel.app_id, token)
        response = client.post("/api/v1/orders", body, format="json", HTTP_IDEMPOTENCY_KEY="same")
        return response.status_code, response.json()

    answers = _run(10, post)

    assert {status for status, _ in answers} == {201}
    assert all(answer == answers[0][1] for _, answer in answers)
    assert Order.objects.filter(tenant=tenant).count() == 1
    assert Sku.objects.get(pk=sku.pk).stock == 48


def test_sixty_full_carts_after_stock_cut_to_twenty_make_exactly_twenty_orders(
    tenant: Any, channel: Any
) -> None:
    from rest_framework.test import APIClient

    from mall.tenancy.services import api_key_create

    sku = SkuFactory(product=ProductFactory(tenant=tenant), stock=500)
    buyers = _buyers(tenant, 60)
    tokens = [access_token_for(member) for member, _ in buyers]
    for token in tokens:  # carts filled while stock is ample
        response = shopper_client(channel.app_id, token).post(
            "/api/v1/cart/items", {"sku_id": sku.pk, "quantity": 1}
        )
        assert response.status_code == 201
    _key, raw = api_key_create(tenant=tenant, scopes=["catalog"])
    erp = APIClient()
    erp.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    cut = erp.put(f"/api/merchant/v1/skus/{sku.pk}/stock", {"stock": 20}, format="json")
    assert cut.status_code == 200, cut.content

    def checkout(n: int) -> int:
        client = shopper_client(channel.app_id, tokens[n])
        body = {"from_cart": True, "address_id": buyers[n][1].pk}
        return client.post("/api/v1/orders", body, format="json").status_code

    statuses = _run(60, checkout)

    assert statuses.count(201) == 20
    assert statuses.count(409) == 40
    assert Order.objects.filter(tenant=tenant).count() == 20
    assert Sku.objects.get(pk=sku.pk).stock == 0


def test_multi_sku_orders_in_opposite_line_order_neither_deadlock_nor_oversell(
    tenant: Any, channel: Any
) -> None:
    product = ProductFactory(tenant=tenant)
    tea, cup = SkuFactory(product=product, stock=30), SkuFactory(product=product, stock=45)
    buyers = _buyers(tenant, 40)

    def buy(n: int) -> str:
        member, address = buyers[n]
        pair = [services.CheckoutLine(tea.pk, 1), services.CheckoutLine(cup.pk, 2)]
        try:
            services.order_place(
                tenant=tenant,
                member=member,
                channel=channel,
                address_id=address.pk,
                lines=pair if n % 2 else pair[::-1],
            )
        except ApplicationError as exc:
            assert status_for(exc) == 409
            return f"{exc.code}:{sorted(p['sku_id'] for p in exc.details['problems'])}"
        return "ok"

    outcomes = _run(40, buy)

    # Cups run out first (45 / 2 = 22 orders): every later order fails naming the cup, and
    # takes nothing (its tea stays on the shelf). A deadlock would surface as an exception.
    assert outcomes.count("ok") == 22
    assert set(outcomes) - {"ok"} == {f"out_of_stock:{[cup.pk]}"}
    assert Sku.objects.get(pk=tea.pk).stock == 8
    assert Sku.objects.get(pk=cup.pk).stock == 1
    assert StockMovement.objects.filter(reason="reserve").count() == 44
    assert Order.objects.filter(tenant=tenant).count() == 22
