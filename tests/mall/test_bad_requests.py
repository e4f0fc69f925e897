"""Bad requests answer the contract's error shape: deeply nested JSON (400 ``invalid_json``),
unknown routes and bugs with DEBUG on (JSON, never Django's HTML pages), malformed or
out-of-range pages (the same answers on every list)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from mall.api.parsers import json_depth_exceeds
from mall.tenancy.services import api_key_create
from tests.catalog.factories import ProductFactory, SkuFactory
from tests.conftest import shopper_client
from tests.mall.test_api_plumbing import assert_error
from tests.members.factories import MemberFactory, access_token_for

# As seen in the trial: 1,000 nested arrays, about 6 KB with the spacing.
DEEP_ARRAYS = ("[ " * 1000 + "1" + " ]" * 1000).encode()


def _post_raw(client: APIClient, path: str, body: bytes, **headers: Any) -> Any:
    return client.generic("POST", path, body, content_type="application/json", **headers)


def test_depth_counts_arrays_and_objects_but_not_strings() -> None:
    assert not json_depth_exceeds(b'{"a": [1, {"b": [[2]]}]}', 5)
    assert json_depth_exceeds(b'{"a": [1, {"b": [[2]]}]}', 4)
    # Brackets inside strings (escaped quotes too) are text, not nesting.
    assert not json_depth_exceeds(b'{"a": "[[[[[[[[[[{{{{{\\"[[[[[["}', 1)
    assert json_depth_exceeds(DEEP_ARRAYS, 64)
    assert json_depth_exceeds(b"[" * 5000, 64)  # unbalanced: refused before any parser recurses
    assert not json_depth_exceeds(b"[]" * 10_000, 1)


def test_login_without_token_refuses_deep_json(channel: Any) -> None:
    api = shopper_client(channel.app_id)
    response = _post_raw(api, "/api/v1/auth/wechat/login", DEEP_ARRAYS)
    assert_error(response, 400, "invalid_json")
    deep_object = b'{"code": ' + b'{"a": ' * 1000 + b"1" + b"}" * 1000 + b"}"
    assert_error(_post_raw(api, "/api/v1/auth/wechat/login", deep_object), 400, "invalid_json")


def test_quote_refuses_deep_json_on_both_parse_paths(channel: Any) -> None:
    member = MemberFactory(tenant=channel.tenant)
    sku = SkuFactory(product=ProductFactory(tenant=channel.tenant), price=Decimal("5.00"))
    api = shopper_client(channel.app_id, access_token_for(member))
    # orjson (the quote's fast path) reads 1,000 levels; the extra key is otherwise ignored.
    fast = (
        b'{"lines": [{"sku_id": %d, "quantity": 1}], "fulfillment": "pickup", "x": ' % sku.pk
        + DEEP_ARRAYS
        + b"}"
    )
    assert_error(_post_raw(api, "/api/v1/checkout/quote", fast), 400, "invalid_json")
    # Beyond orjson's own limit: DRF's parser path.
    deeper = b"[" * 3000 + b"]" * 3000
    assert_error(_post_raw(api, "/api/v1/checkout/quote", deeper), 400, "invalid_json")
    # A body as deep as the limit is still read.
    ok = b'{"lines": [{"sku_id": %d, "quantity": 1}], "fulfillment": "pickup"}' % sku.pk
    assert _post_raw(api, "/api/v1/checkout/quote", ok).status_code == 200


def test_open_api_refuses_deep_json(tenant: Any, settings: Any) -> None:
    _key, raw = api_key_create(tenant=tenant, scopes=["catalog"])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    error = assert_error(
        _post_raw(api, "/api/merchant/v1/products", DEEP_ARRAYS), 400, "invalid_json"
    )
    assert error["details"] == {"max_depth": settings.MALL_MAX_JSON_DEPTH}
    settings.MALL_MAX_JSON_DEPTH = 2
    assert_error(_post_raw(api, "/api/merchant/v1/products", b'{"a": [[1]]}'), 400, "invalid_json")


# --- DEBUG on: JSON all the same -------------------------------------------------------


@override_settings(DEBUG=True)
def test_unknown_api_route_is_json_404_with_debug(channel: Any) -> None:
    api = shopper_client(channel.app_id)
    assert_error(api.get("/api/v1/products/abc"), 404, "not_found")
    assert_error(api.get("/api/v1/no-such-thing"), 404, "not_found")


@pytest.mark.urls("tests.mall.urls")
@override_settings(DEBUG=True)
def test_a_bug_on_an_api_route_is_json_500_with_debug(channel: Any) -> None:
    api = APIClient(raise_request_exception=False)
    response = api.get("/api/v1/test-only/boom", HTTP_X_APP_ID=channel.app_id)
    assert_error(response, 500, "server_error")


@override_settings(DEBUG=True)
def test_pages_outside_the_api_keep_django_pages_with_debug(db: Any) -> None:
    from django.test import Client

    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


# --- pages ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/products", "/api/v1/orders", "/api/v1/campaigns"])
def test_paging_answers_are_the_same_on_every_list(channel: Any, path: str) -> None:
    """A malformed page is 400 ``invalid_page``; a page past the end is an empty page."""
    member = MemberFactory(tenant=channel.tenant)
    api = shopper_client(channel.app_id, access_token_for(member))
    ProductFactory(tenant=channel.tenant)
    for bad in ("abc", "0", "-1", "1.5", "２", "1e3"):
        error = assert_error(api.get(path, {"page": bad}), 400, "invalid_page")
        assert error["details"] == {"page": bad}
    first = api.get(path, {"page": 1})
    assert first.status_code == 200
    past = api.get(path, {"page": 999})
    assert past.status_code == 200, past.content
    body = past.json()
    assert body["results"] == [] and body["next"] is None
    assert body["count"] == first.json()["count"]
    assert "page=998" in body["previous"]
