"""Degraded mode: with Redis unreachable, reads fall back to the database, throttles fail open
(with a warning), and writes that need Redis answer 503 ``service_unavailable``."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import cache
from django.test import override_settings

from mall import cache as mall_cache
from mall.settings.base import redis_cache_settings
from mall.tenancy.models import Channel
from mall.versions import versions_local_clear
from tests.catalog.factories import CategoryFactory, ProductFactory, SkuFactory
from tests.conftest import shopper_client
from tests.mall.factories import ChannelFactory
from tests.mall.test_api_plumbing import assert_error
from tests.members.factories import AddressFactory, MemberFactory, access_token_for

# Nothing listens on port 1: every connection is refused at once.
DEAD_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture
def redis_down() -> Any:
    """The shared cache points at a Redis that does not answer (as in production settings)."""
    with override_settings(CACHES={"default": redis_cache_settings(DEAD_REDIS)}):
        mall_cache.breaker_reset()
        versions_local_clear()
        yield
    mall_cache.breaker_reset()
    versions_local_clear()


@pytest.fixture
def shop(tenant: Any) -> dict[str, Any]:
    channel = ChannelFactory(tenant=tenant, app_id="wx-degraded", is_sandbox=True)
    category = CategoryFactory(tenant=tenant, name="Tea")
    product = ProductFactory(tenant=tenant, category=category, title="Green tea")
    sku = SkuFactory(product=product, price=Decimal("12.50"), stock=5)
    member = MemberFactory(tenant=tenant)
    address = AddressFactory(tenant=tenant, member=member)
    return {
        "channel": channel,
        "category": category,
        "product": product,
        "sku": sku,
        "member": member,
        "address": address,
    }


def test_the_settings_cache_ignores_an_unreachable_redis(redis_down: Any) -> None:
    assert cache.get("anything", "fallback") == "fallback"
    cache.set("anything", 1)
    assert cache.get_many(["a", "b"]) == {}
    assert cache.get_or_set("v", 7, None) == 7
    assert not mall_cache.cache_available()


def test_reads_login_quote_and_order_work_without_redis(
    shop: dict[str, Any], redis_down: Any
) -> None:
    api = shopper_client(shop["channel"].app_id)

    categories = api.get("/api/v1/categories")
    assert categories.status_code == 200, categories.content
    assert [c["name"] for c in categories.json()["results"]] == ["Tea"]

    products = api.get("/api/v1/products")
    assert products.status_code == 200, products.content
    assert [p["title"] for p in products.json()["results"]] == ["Green tea"]

    detail = api.get(f"/api/v1/products/{shop['product'].pk}")
    assert detail.status_code == 200, detail.content
    assert detail.json()["skus"][0]["price"] == "12.50"

    login = api.post("/api/v1/auth/wechat/login", {"code": "degraded"}, format="json")
    assert login.status_code == 201, login.content  # the member was created
    assert login.json()["access"] and login.json()["created"] is True

    buyer = shopper_client(shop["channel"].app_id, access_token_for(shop["member"]))
    body = {
        "lines": [{"sku_id": shop["sku"].pk, "quantity": 2}],
        "address_id": shop["address"].pk,
        "fulfillment": "express",
    }
    quote = buyer.post("/api/v1/checkout/quote", body, format="json")
    assert quote.status_code == 200, quote.content
    assert quote.json()["subtotal"] == "25.00"

    order = buyer.post("/api/v1/orders", body, format="json", HTTP_IDEMPOTENCY_KEY="deg-1")
    assert order.status_code == 201, order.content
    assert order.json()["subtotal"] == "25.00"
    shop["sku"].refresh_from_db()
    assert shop["sku"].stock == 3


def test_throttles_fail_open_with_a_warning(
    shop: dict[str, Any], redis_down: Any, caplog: Any, settings: Any
) -> None:
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "login": "1/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    api = shopper_client(shop["channel"].app_id)
    with caplog.at_level(logging.WARNING, logger="mall.api.throttling"):
        answers = [
            api.post("/api/v1/auth/wechat/login", {"code": "c"}, format="json").status_code
            for _ in range(3)
        ]
    assert answers == [201, 200, 200]  # created, then the same member again
    warnings = [r for r in caplog.records if r.name == "mall.api.throttling"]
    assert warnings and all(r.levelno == logging.WARNING for r in warnings), caplog.text
    assert "'login' not enforced" in warnings[0].getMessage()


@pytest.mark.urls("tests.mall.urls")
def test_a_write_that_needs_redis_answers_503_with_retry_after(
    redis_down: Any, channel: Channel
) -> None:
    from rest_framework.test import APIClient

    from tests.mall import urls as test_urls

    assert test_urls.NEEDS_REDIS_PATH
    response = APIClient().post(
        test_urls.NEEDS_REDIS_PATH, {}, format="json", HTTP_X_APP_ID=channel.app_id
    )
    error = assert_error(response, 503, "service_unavailable")
    assert int(response["Retry-After"]) > 0
    assert error["message"]
