"""The shared API plumbing: tenant resolution, error shape, body limits, idempotency, docs."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml
from django.contrib.staticfiles import finders
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from mall.api.models import IdempotencyRecord
from mall.tenancy.models import Tenant
from mall.tenancy.services import api_key_create, api_key_revoke
from tests.conftest import shopper_client
from tests.mall import urls as test_urls
from tests.mall.factories import ChannelFactory, TenantFactory
from tests.members.factories import MemberFactory

ECHO = "/api/v1/test-only/echo"


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """The contract's error shape, exactly: {"error": {"code", "message", "details"}}."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "details"}
    assert isinstance(error["code"], str)
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], dict)
    assert error["code"] == code, error
    return error


def member_token(member: Any) -> str:
    token = AccessToken()
    token["member_id"] = member.pk
    token["tenant_id"] = member.tenant_id
    return str(token)


@pytest.fixture
def echo_calls() -> Any:
    test_urls.ECHO_CALLS.clear()
    yield test_urls.ECHO_CALLS
    test_urls.ECHO_CALLS.clear()


# --- tenant resolution ----------------------------------------------------------------


def test_missing_app_id_is_400(db: Any) -> None:
    assert_error(APIClient().get("/api/v1/categories"), 400, "app_id_required")


def test_unknown_app_id_is_400(db: Any) -> None:
    assert_error(shopper_client("wx-nobody").get("/api/v1/categories"), 400, "unknown_app_id")


def test_inactive_channel_is_unknown(tenant: Any) -> None:
    ChannelFactory(tenant=tenant, app_id="wx-off", is_active=False)
    assert_error(shopper_client("wx-off").get("/api/v1/categories"), 400, "unknown_app_id")


def test_suspended_tenant_is_403(db: Any) -> None:
    suspended = TenantFactory(status=Tenant.Status.SUSPENDED)
    ChannelFactory(tenant=suspended, app_id="wx-suspended")
    response = shopper_client("wx-suspended").get("/api/v1/categories")
    assert_error(response, 403, "tenant_suspended")


def test_sandbox_channel_refused_when_debug_off_and_not_allowed(settings: Any, tenant: Any) -> None:
    settings.DEBUG = False
    settings.MALL_ALLOW_SANDBOX = False
    ChannelFactory(tenant=tenant, app_id="wx-sandbox", is_sandbox=True)
    response = shopper_client("wx-sandbox").get("/api/v1/categories")
    assert_error(response, 403, "sandbox_disabled")


@pytest.mark.parametrize(("debug", "allow"), [(True, False), (False, True)])
def test_sandbox_channel_served_in_debug_or_when_allowed(
    settings: Any, tenant: Any, debug: bool, allow: bool
) -> None:
    settings.DEBUG = debug
    settings.MALL_ALLOW_SANDBOX = allow
    ChannelFactory(tenant=tenant, app_id="wx-sandbox", is_sandbox=True)
    assert shopper_client("wx-sandbox").get("/api/v1/categories").status_code == 200


# --- error shape for Django- and DRF-level failures -----------------------------------


@pytest.mark.urls("tests.mall.urls")
def test_malformed_json_is_400_parse_error(api: Any, echo_calls: Any) -> None:
    response = api.post(ECHO, data='{"lines": [1,', content_type="application/json")
    assert_error(response, 400, "parse_error")
    assert echo_calls == []


@pytest.mark.urls("tests.mall.urls")
def test_unsupported_media_type_is_415(api: Any, echo_calls: Any) -> None:
    response = api.post(ECHO, data="a=1", content_type="text/plain")
    assert_error(response, 415, "unsupported_media_type")


@pytest.mark.urls("tests.mall.urls")
def test_oversized_json_body_is_413_before_the_view(
    settings: Any, api: Any, echo_calls: Any
) -> None:
    settings.MALL_MAX_JSON_BODY_BYTES = 1000
    response = api.post(ECHO, data={"blob": "x" * 2000}, format="json")
    error = assert_error(response, 413, "request_too_large")
    assert error["details"] == {"limit_bytes": 1000}
    assert echo_calls == []
    # Just under the limit passes.
    assert api.post(ECHO, data={"blob": "x" * 900}, format="json").status_code == 201


@pytest.mark.urls("tests.mall.urls")
def test_oversized_upload_uses_the_upload_limit(settings: Any, api: Any, echo_calls: Any) -> None:
    settings.MALL_MAX_JSON_BODY_BYTES = 100
    settings.MALL_MAX_UPLOAD_BYTES = 5000
    small_upload = api.post(ECHO, data={"note": "x" * 500})  # multipart, under its limit
    assert small_upload.status_code == 201
    big_upload = api.post(ECHO, data={"note": "x" * 6000})
    assert_error(big_upload, 413, "request_too_large")


@pytest.mark.urls("tests.mall.urls")
@pytest.mark.parametrize("length", ["abc", "-1"])
def test_invalid_content_length_is_400(api: Any, echo_calls: Any, length: str) -> None:
    response = api.post(ECHO, data="{}", content_type="application/json", CONTENT_LENGTH=length)
    assert_error(response, 400, "parse_error")
    assert echo_calls == []


@pytest.mark.parametrize("path", ["/api/nothing-here", "/api/v1/nothing-here"])
def test_unknown_api_path_is_404_json(api: Any, path: str) -> None:
    assert_error(api.get(path), 404, "not_found")


def test_method_not_allowed_is_405(api: Any) -> None:
    response = api.delete("/api/v1/categories")
    assert_error(response, 405, "method_not_allowed")


@pytest.mark.urls("tests.mall.urls")
def test_unhandled_error_in_api_is_500_json_without_internals(channel: Any) -> None:
    client = shopper_client(channel.app_id)
    client.raise_request_exception = False
    error = assert_error(client.get("/api/v1/test-only/boom"), 500, "server_error")
    assert "a bug" not in json.dumps(error)


# --- merchant open API authentication -------------------------------------------------


def test_merchant_api_without_key_is_401(db: Any) -> None:
    response = APIClient().get("/api/merchant/v1/products")
    assert_error(response, 401, "not_authenticated")


@pytest.mark.parametrize("header", ["Bearer mk_bad_key", "Basic abc", "Bearer "])
def test_merchant_api_with_bad_key_is_401(db: Any, header: str) -> None:
    response = APIClient().get("/api/merchant/v1/products", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert_error(response, 401, response.json()["error"]["code"])
    assert response.json()["error"]["code"] in {"not_authenticated", "authentication_failed"}


def test_merchant_api_with_revoked_key_is_401(tenant: Any) -> None:
    key, raw = api_key_create(tenant=tenant, scopes=["catalog"])
    api_key_revoke(tenant=tenant, key_id=key.pk)
    response = APIClient().get("/api/merchant/v1/products", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert_error(response, 401, "authentication_failed")


def test_merchant_api_key_of_suspended_tenant_is_403(db: Any) -> None:
    suspended = TenantFactory(status=Tenant.Status.SUSPENDED)
    _, raw = api_key_create(tenant=suspended, scopes=["catalog"])
    response = APIClient().get("/api/merchant/v1/products", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert_error(response, 403, "tenant_suspended")


def test_merchant_api_valid_key_on_unknown_path_is_404(tenant: Any) -> None:
    _, raw = api_key_create(tenant=tenant, scopes=["catalog"])
    response = APIClient().get("/api/merchant/v1/nothing-here", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert_error(response, 404, "not_found")


# --- Idempotency-Key -------------------------------------------------------------------


@pytest.mark.urls("tests.mall.urls")
def test_same_key_and_body_replays_the_first_answer(channel: Any, echo_calls: Any) -> None:
    member = MemberFactory(tenant=channel.tenant)
    client = shopper_client(channel.app_id, member_token(member))
    body = {"lines": [{"sku_id": 1, "quantity": 2}]}

    first = client.post(ECHO, data=body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post(ECHO, data=body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == 201 and again.status_code == 201
    assert again.json() == first.json() == {"echo": body, "run": 1}
    assert again["Idempotent-Replayed"] == "true"
    assert len(echo_calls) == 1


@pytest.mark.urls("tests.mall.urls")
def test_same_key_other_body_is_409(channel: Any, echo_calls: Any) -> None:
    member = MemberFactory(tenant=channel.tenant)
    client = shopper_client(channel.app_id, member_token(member))
    client.post(ECHO, data={"n": 1}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    response = client.post(ECHO, data={"n": 2}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert_error(response, 409, "idempotency_key_reused")
    assert len(echo_calls) == 1


@pytest.mark.urls("tests.mall.urls")
def test_different_members_reuse_a_key_independently(channel: Any, echo_calls: Any) -> None:
    alice = MemberFactory(tenant=channel.tenant)
    bob = MemberFactory(tenant=channel.tenant)
    as_alice = shopper_client(channel.app_id, member_token(alice))
    as_bob = shopper_client(channel.app_id, member_token(bob))

    a = as_alice.post(ECHO, data={"who": "alice"}, format="json", HTTP_IDEMPOTENCY_KEY="same")
    b = as_bob.post(ECHO, data={"who": "bob"}, format="json", HTTP_IDEMPOTENCY_KEY="same")

    assert (a.status_code, b.status_code) == (201, 201)
    assert a.json()["echo"] == {"who": "alice"} and b.json()["echo"] == {"who": "bob"}
    assert [c["member"] for c in echo_calls] == [alice.pk, bob.pk]


@pytest.mark.urls("tests.mall.urls")
def test_request_still_in_progress_is_409(channel: Any, echo_calls: Any) -> None:
    client = shopper_client(channel.app_id)
    client.post(ECHO, data={"n": 1}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    IdempotencyRecord.objects.update(state=IdempotencyRecord.State.IN_PROGRESS)

    response = client.post(ECHO, data={"n": 1}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert_error(response, 409, "idempotency_in_progress")
    assert len(echo_calls) == 1


@pytest.mark.urls("tests.mall.urls")
def test_a_stale_in_progress_key_is_taken_over(channel: Any, echo_calls: Any) -> None:
    """A worker died mid-request: after IDEMPOTENCY_STALE_SECONDS the key runs again, once."""
    from datetime import timedelta

    from django.utils import timezone

    client = shopper_client(channel.app_id)
    client.post(ECHO, data={"n": 1}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    IdempotencyRecord.objects.update(
        state=IdempotencyRecord.State.IN_PROGRESS,
        response_status=None,
        response_body=None,
        created_at=timezone.now() - timedelta(minutes=10),
    )

    retry = client.post(ECHO, data={"n": 1}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    replay = client.post(ECHO, data={"n": 1}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert retry.status_code == 201 and retry.json()["run"] == 2
    assert replay.json() == retry.json() and replay["Idempotent-Replayed"] == "true"
    assert len(echo_calls) == 2
    assert IdempotencyRecord.objects.get().state == IdempotencyRecord.State.DONE


@pytest.mark.urls("tests.mall.urls")
def test_failed_attempt_does_not_burn_the_key(channel: Any, echo_calls: Any) -> None:
    client = shopper_client(channel.app_id)
    body = {"fail": True}
    first = client.post(ECHO, data=body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    retry = client.post(ECHO, data=body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert_error(first, 422, "demo_rule")
    assert_error(retry, 422, "demo_rule")
    assert len(echo_calls) == 2
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.urls("tests.mall.urls")
def test_without_key_every_post_runs(channel: Any, echo_calls: Any) -> None:
    client = shopper_client(channel.app_id)
    client.post(ECHO, data={"n": 1}, format="json")
    client.post(ECHO, data={"n": 1}, format="json")
    assert len(echo_calls) == 2


@pytest.mark.urls("tests.mall.urls")
def test_overlong_idempotency_key_is_400(channel: Any, echo_calls: Any) -> None:
    response = shopper_client(channel.app_id).post(
        ECHO, data={}, format="json", HTTP_IDEMPOTENCY_KEY="k" * 129
    )
    assert_error(response, 400, "validation_error")
    assert echo_calls == []


@pytest.mark.urls("tests.mall.urls")
def test_idempotency_keys_are_per_tenant(channel: Any, other_channel: Any, echo_calls: Any) -> None:
    first = shopper_client(channel.app_id)
    first.post(ECHO, data={"n": 1}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    other = shopper_client(other_channel.app_id).post(
        ECHO, data={"n": 1}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert other.status_code == 201 and "Idempotent-Replayed" not in other
    assert len(echo_calls) == 2


# --- schema, docs, health --------------------------------------------------------------


def test_schema_is_openapi_with_the_shopper_paths(db: Any) -> None:
    response = APIClient().get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/categories" in schema["paths"]

    as_json = APIClient().get("/api/schema/?format=json")
    assert as_json.status_code == 200
    assert "/api/v1/categories" in json.loads(as_json.content)["paths"]


def test_docs_use_local_static_only(db: Any) -> None:
    response = APIClient().get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert not re.search(r"https?://", html), "Swagger UI must not load anything from a CDN"
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    for asset in assets:
        assert finders.find(asset.removeprefix("/static/")), f"missing static file {asset}"


def test_healthz_ok(db: Any) -> None:
    response = APIClient().get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["cache"] == "ok"
    assert body["checks"]["broker"] in {"ok", "eager"}


def test_healthz_reports_a_broken_cache_as_503(db: Any, settings: Any) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.dummy.DummyCache",
        }
    }
    response = APIClient().get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["cache"].startswith("error")
