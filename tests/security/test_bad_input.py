"""Bad input never answers 500: every write operation of the OpenAPI schema gets malformed JSON,
a JSON array, an empty object, and each documented field with a wrong-typed or extreme value,
as a logged-in member (shopper API) or a full-scope API key (open API), on real objects of the
caller's own tenant. Every answer must be < 500 and, when it is an error, in the contract shape.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from mall.tenancy.models import ApiKey
from mall.tenancy.services import api_key_create
from orders import services as order_services
from tests.catalog.factories import ProductFactory, SkuFactory
from tests.mall.factories import ChannelFactory, TenantFactory
from tests.members.factories import AddressFactory, MemberFactory
from tests.promotions.factories import CouponTemplateFactory

WRITE_METHODS = ("post", "put", "patch")
# Values that break naive code: wrong types, extremes, nesting, odd text.
WRONG_VALUES: list[Any] = [
    "not-a-number",
    -1,
    10**20,
    1.5,
    None,
    {"nested": {"deep": [1, 2]}},
    [None, "x", -5],
    "",
    "9" * 400,
    "0x1F; DROP TABLE x",
    True,
    "2026-13-45T99:99:99",
]


def _schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    ops = []
    for path, methods in _schema()["paths"].items():
        if not (path.startswith("/api/v1/") or path.startswith("/api/merchant/v1/")):
            continue
        for method, op in methods.items():
            if method in WRITE_METHODS:
                ops.append((path, method, op))
    return ops


def _fields(schema: dict[str, Any], op: dict[str, Any]) -> list[str]:
    content = op.get("requestBody", {}).get("content", {})
    body = content.get("application/json") or next(iter(content.values()), {})
    ref = body.get("schema", {}).get("$ref", "")
    component = schema["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {}) if ref else {}
    return sorted(component.get("properties", {}))


@dataclass
class World:
    shopper: APIClient
    merchant: APIClient
    params: dict[str, Any]


@pytest.fixture
def world(db: Any) -> World:
    tenant = TenantFactory(slug="fuzz", name="Fuzz")
    channel = ChannelFactory(tenant=tenant, app_id="wx-fuzz", is_sandbox=True)
    member = MemberFactory(tenant=tenant, points=100)
    address = AddressFactory(tenant=tenant, member=member)
    product = ProductFactory(tenant=tenant)
    sku = SkuFactory(product=product, price=Decimal("10.00"), stock=50)
    template = CouponTemplateFactory(tenant=tenant)
    order = order_services.order_place(
        tenant=tenant,
        member=member,
        channel=channel,
        lines=[order_services.CheckoutLine(sku.pk, 1)],
        address_id=address.pk,
    )
    refresh = RefreshToken()
    refresh["tenant_id"] = tenant.pk
    refresh["member_id"] = member.pk
    shopper = APIClient()
    shopper.credentials(
        HTTP_X_APP_ID=channel.app_id, HTTP_AUTHORIZATION=f"Bearer {refresh.access_token}"
    )
    _, key = api_key_create(tenant=tenant, scopes=list(ApiKey.Scope.values))
    merchant = APIClient()
    merchant.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    params = {
        "pk": address.pk,
        "id": address.pk,
        "product_id": product.pk,
        "sku_id": sku.pk,
        "template_id": template.pk,
        "slug": tenant.slug,
        "number": order.number,
    }
    return World(shopper, merchant, params)


def _url(path: str, params: dict[str, Any]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(params.get(m.group(1), 999999)), path)


def _check(response: Any, label: str, gateway: bool = False) -> None:
    assert response.status_code < 500, (label, response.status_code, response.content[:300])
    if gateway:
        return  # gateway callbacks answer in the gateway's own format (docs/payments.md)
    if response.status_code >= 400 and response.get("Content-Type", "").startswith(
        "application/json"
    ):
        error = response.json().get("error")
        assert isinstance(error, dict) and isinstance(error.get("code"), str), (label, error)
        assert isinstance(error.get("message"), str) and isinstance(error.get("details"), dict)


OPERATIONS = _operations()


@pytest.mark.parametrize(
    ("path", "method", "op"), OPERATIONS, ids=[f"{m} {p}" for p, m, _ in OPERATIONS]
)
def test_write_operations_never_answer_500(
    world: World, path: str, method: str, op: dict[str, Any]
) -> None:
    client = world.merchant if path.startswith("/api/merchant/") else world.shopper
    url = _url(path, world.params)
    gateway = "/payments/notify/" in path
    call = getattr(client, method)

    def check(data: str, label: str) -> None:
        _check(call(url, data=data, content_type="application/json"), label, gateway)

    check("{not json", "malformed")
    check("[1, 2]", "array")
    check("{}", "empty")
    check('"text"', "scalar")
    fields = _fields(_schema_cache(), op)
    for field in fields:
        for value in WRONG_VALUES:
            check(json.dumps({field: value}), f"{field}={value!r}")
    _check(
        call(
            url,
            data=json.dumps(dict.fromkeys(fields, WRONG_VALUES[5])),
            content_type="application/json",
        ),
        "all nested",
    )


_SCHEMA: dict[str, Any] = {}


def _schema_cache() -> dict[str, Any]:
    if not _SCHEMA:
        _SCHEMA.update(_schema())
    return _SCHEMA


def _read_operations() -> list[tuple[str, dict[str, Any]]]:
    ops = []
    for path, methods in _schema_cache()["paths"].items():
        if path.startswith(("/api/v1/", "/api/merchant/v1/")) and "get" in methods:
            ops.append((path, methods["get"]))
    return ops


READS = _read_operations()
BAD_QUERY_VALUES = ["abc", "-1", "99999999999999999999", "", "2026-13-45", "1.5", "%00", "x" * 300]


@pytest.mark.parametrize(("path", "op"), READS, ids=[p for p, _ in READS])
def test_read_operations_never_answer_500_on_bad_query_parameters(
    world: World, path: str, op: dict[str, Any]
) -> None:
    client = world.merchant if path.startswith("/api/merchant/") else world.shopper
    url = _url(path, world.params)
    names = [p["name"] for p in op.get("parameters", []) if p.get("in") == "query"]
    for name in {*names, "page", "page_size"}:
        for value in BAD_QUERY_VALUES:
            _check(client.get(url, {name: value}), f"{name}={value!r}")
