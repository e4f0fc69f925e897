"""The OpenAPI schema tells the truth: lists, security, error responses, field types.

The fast half of the contract check (scripts/schemathesis.py is the slow one, against a running
server): rules over the generated schema, and real answers validated against it by schemathesis.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import requests
import schemathesis
from rest_framework.test import APIClient
from schemathesis.core.transport import Response

from tests.conftest import shopper_client
from tests.distribution.factories import distributor, enable
from tests.members.factories import MemberFactory, access_token_for

PUBLIC_SHOPPER_OPERATIONS = {
    ("get", "/api/v1/categories"),
    ("get", "/api/v1/products"),
    ("get", "/api/v1/products/{product_id}"),
    ("get", "/api/v1/campaigns"),
    ("get", "/api/v1/coupons"),
    ("get", "/api/v1/stores"),
    ("get", "/api/v1/member-cards"),
}
TOKENLESS_OPERATIONS = {
    ("post", "/api/v1/auth/wechat/login"),
    ("post", "/api/v1/auth/alipay/login"),
    ("post", "/api/v1/auth/refresh"),
}
# The lists that were described as bare arrays while they answer the paginated envelope.
PAGINATED_BY_HAND = [
    "/api/v1/campaigns",
    "/api/v1/coupons",
    "/api/v1/me/coupons",
    "/api/v1/orders",
    "/api/v1/stores",
    "/api/v1/distribution/team",
    "/api/v1/distribution/commissions",
    "/api/v1/distribution/withdrawals",
    "/api/merchant/v1/orders",
]
PAGINATES = re.compile(r"get_paginated_response|_paginate\(")
METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def schema(django_db_blocker: Any) -> dict[str, Any]:
    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema/?format=json")
    assert response.status_code == 200
    return json.loads(response.content)


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op)
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _success_schema(op: dict[str, Any]) -> dict[str, Any] | None:
    for code, response in op["responses"].items():
        if code.startswith("2"):
            content = response.get("content", {}).get("application/json")
            if content:
                return content["schema"]
    return None


def test_no_list_is_described_as_a_bare_array(schema: dict[str, Any]) -> None:
    bare = [
        f"{method.upper()} {path}"
        for method, path, op in _operations(schema)
        if (_success_schema(op) or {}).get("type") == "array"
    ]
    assert bare == []


@pytest.mark.parametrize("path", PAGINATED_BY_HAND)
def test_paginated_lists_are_described_as_the_envelope(schema: dict[str, Any], path: str) -> None:
    op = schema["paths"][path]["get"]
    page = _resolve(schema, _success_schema(op))
    assert set(page["required"]) >= {"count", "results"}
    assert page["properties"]["results"]["type"] == "array"
    assert {"count", "next", "previous", "results"} <= set(page["properties"])
    assert {"page", "page_size"} <= {p["name"] for p in op.get("parameters", [])}


def _views_paginating_by_hand() -> list[str]:
    """Paths (in the schema's spelling) of the GET views that page by hand (they call
    ``get_paginated_response`` or their module's ``_paginate``)."""
    import inspect

    from django.urls import URLPattern, URLResolver, get_resolver

    found = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                view = getattr(pattern.callback, "view_class", None)
                get = getattr(view, "get", None)
                if get is not None and PAGINATES.search(inspect.getsource(get)):
                    route = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", prefix + str(pattern.pattern))
                    found.append("/" + route)

    walk(get_resolver().url_patterns, "")
    return found


def test_every_view_paginating_by_hand_documents_the_envelope(schema: dict[str, Any]) -> None:
    paths = _views_paginating_by_hand()
    assert set(PAGINATED_BY_HAND) <= set(paths)
    wrong = []
    for path in paths:
        op = schema["paths"][path]["get"]
        page = _resolve(schema, _success_schema(op))
        if "results" not in page.get("properties", {}):
            wrong.append(path)
    assert wrong == []


def test_public_operations_admit_anonymous_callers(schema: dict[str, Any]) -> None:
    for method, path in PUBLIC_SHOPPER_OPERATIONS:
        security = schema["paths"][path][method]["security"]
        assert {} in security and {"MemberToken": []} in security, (method, path, security)
    for method, path in TOKENLESS_OPERATIONS:
        assert schema["paths"][path][method]["security"] == [], (method, path)
    for path, item in schema["paths"].items():
        if path.startswith("/api/v1/payments/notify/"):
            assert all(op["security"] == [] for m, op in item.items() if m in METHODS), path


def test_member_and_merchant_operations_need_their_token(schema: dict[str, Any]) -> None:
    for method, path, op in _operations(schema):
        if (method, path) in PUBLIC_SHOPPER_OPERATIONS | TOKENLESS_OPERATIONS:
            continue
        if path.startswith("/api/v1/payments/notify/"):
            continue
        expected = "ApiKey" if path.startswith("/api/merchant/") else "MemberToken"
        assert op["security"] == [{expected: []}], (method, path, op["security"])


def test_error_responses_are_documented_in_the_error_shape(schema: dict[str, Any]) -> None:
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    detail = _resolve(schema, error["properties"]["error"])
    assert set(detail["required"]) == {"code", "message", "details"}
    for method, path, op in _operations(schema):
        if path.startswith("/api/v1/payments/notify/"):
            continue  # each gateway's own answer
        codes = set(op["responses"])
        expected = {"403"}
        if path.startswith("/api/v1/"):
            expected |= {"400"}
        if op["security"]:
            expected |= {"401"}
        if "{" in path:
            expected |= {"400", "404"}
        if method != "get":
            expected |= {"409", "422"}
        if method in ("post", "put", "patch"):
            expected |= {"400", "413"}
        assert expected <= codes, (method, path, sorted(expected - codes))
        for code, response in op["responses"].items():
            if int(code) >= 400:
                ref = response["content"]["application/json"]["schema"]["$ref"]
                assert ref == "#/components/schemas/Error", (method, path, code)


def test_throttled_operations_document_429(schema: dict[str, Any]) -> None:
    for path in ("/api/v1/auth/wechat/login", "/api/v1/auth/alipay/login", "/api/v1/me/phone"):
        assert "429" in schema["paths"][path]["post"]["responses"], path


def test_json_bodies_are_documented_as_json_only(schema: dict[str, Any]) -> None:
    """The checkout body is nested: as multipart it cannot be sent, so only uploads say so."""
    for method, path, op in _operations(schema):
        content = set(op.get("requestBody", {}).get("content", {}))
        if path.endswith("/images"):
            assert content == {"multipart/form-data"}, path
        elif content:
            assert content == {"application/json"}, (method, path, content)


def test_url_fields_accept_what_the_server_accepts(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    member_avatar = components["Member"]["properties"]["avatar"]
    assert "format" not in member_avatar
    assert re.match(member_avatar["pattern"], "")
    assert re.match(member_avatar["pattern"], "https://img.example.com/a.png")
    update = components["PatchedMemberUpdateInputRequest"]["properties"]["avatar"]
    url_pattern = update["oneOf"][0]["pattern"]
    assert "format" not in update["oneOf"][0]
    assert re.match(url_pattern, "https://img.example.com/a.png")
    assert not re.match(url_pattern, "a:b")  # valid "uri", refused by Django's URLValidator


# --- real answers validated against the schema (schemathesis' own validation) ---------


@pytest.fixture(scope="module")
def openapi(schema: dict[str, Any]) -> Any:
    return schemathesis.openapi.from_dict(schema)


def _validate(openapi: Any, method: str, path: str, template: str, response: Any) -> None:
    request = requests.Request(method.upper(), "http://testserver" + path).prepare()
    answer = Response(
        status_code=response.status_code,
        headers={key: [value] for key, value in response.headers.items()},
        content=response.content,
        request=request,
        elapsed=0.0,
        verify=True,
    )
    openapi[template][method.upper()].validate_response(answer)


def test_me_with_an_empty_avatar_matches_the_schema(openapi: Any, channel: Any) -> None:
    member = MemberFactory(tenant=channel.tenant, avatar="")
    response = shopper_client(channel.app_id, access_token_for(member)).get("/api/v1/me")
    assert response.status_code == 200 and response.json()["avatar"] == ""
    _validate(openapi, "get", "/api/v1/me", "/api/v1/me", response)


def test_a_distributor_without_parent_matches_the_schema(openapi: Any, channel: Any) -> None:
    enable(channel.tenant)
    member = MemberFactory(tenant=channel.tenant)
    distributor(channel.tenant, member=member)
    client = shopper_client(channel.app_id, access_token_for(member))
    response = client.get("/api/v1/distribution/me")
    assert response.status_code == 200 and response.json()["parent_share_code"] is None
    _validate(openapi, "get", "/api/v1/distribution/me", "/api/v1/distribution/me", response)


def test_a_paginated_list_matches_the_schema(openapi: Any, channel: Any) -> None:
    member = MemberFactory(tenant=channel.tenant)
    response = shopper_client(channel.app_id, access_token_for(member)).get("/api/v1/orders")
    assert response.status_code == 200 and response.json()["results"] == []
    _validate(openapi, "get", "/api/v1/orders", "/api/v1/orders", response)


def test_an_anonymous_error_matches_the_schema(openapi: Any, channel: Any) -> None:
    response = shopper_client(channel.app_id).get("/api/v1/me")
    assert response.status_code == 401
    _validate(openapi, "get", "/api/v1/me", "/api/v1/me", response)
    missing = APIClient().get("/api/v1/categories")
    assert missing.status_code == 400
    _validate(openapi, "get", "/api/v1/categories", "/api/v1/categories", missing)
