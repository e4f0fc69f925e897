from __future__ import annotations

from datetime import timedelta
from typing import Any

import jwt
import time_machine
from django.utils import timezone

from members.models import Member, MemberIdentity
from members.services.tokens import member_tokens_issue
from tests.conftest import shopper_client
from tests.members.conftest import expect_code2session
from tests.members.factories import MemberFactory, access_token_for


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    return body["error"]


def test_wechat_login_api_first_creates_then_returns_same_member(
    channel: Any, other_channel: Any, wechat_api: Any
) -> None:
    for ch in (channel, other_channel):
        for code in ("c1", "c2"):
            expect_code2session(wechat_api, ch, code, {"openid": "same-openid"})
    api = shopper_client(channel.app_id)

    first = api.post("/api/v1/auth/wechat/login", {"code": "c1"}, format="json")
    second = api.post("/api/v1/auth/wechat/login", {"code": "c2"}, format="json")
    elsewhere = shopper_client(other_channel.app_id).post(
        "/api/v1/auth/wechat/login", {"code": "c1"}, format="json"
    )

    assert first.status_code == 201 and second.status_code == 200
    body = first.json()
    assert set(body) == {"access", "refresh", "member", "created"}
    assert set(body["member"]) >= {"id", "nickname", "avatar", "phone", "tier", "points", "growth"}
    assert body["member"]["tier"] is None
    assert second.json()["member"]["id"] == body["member"]["id"]
    # The same openid on another tenant's channel is another member of that tenant.
    assert elsewhere.status_code == 201
    other_id = elsewhere.json()["member"]["id"]
    assert other_id != body["member"]["id"]
    assert Member.objects.get(pk=other_id).tenant_id == other_channel.tenant_id
    # The token works for /me with its own tenant.
    me = shopper_client(channel.app_id, body["access"]).get("/api/v1/me")
    assert me.status_code == 200 and me.json()["id"] == body["member"]["id"]


def test_wechat_login_api_errcode_gives_400_contract_shape(channel: Any, wechat_api: Any) -> None:
    expect_code2session(wechat_api, channel, "bad", {"errcode": 40029, "errmsg": "invalid code"})

    response = shopper_client(channel.app_id).post(
        "/api/v1/auth/wechat/login", {"code": "bad"}, format="json"
    )

    error = assert_error(response, 400, "wechat_login_failed")
    assert error["details"]["errcode"] == 40029
    assert Member.objects.count() == 0 and MemberIdentity.objects.count() == 0


def test_alipay_login_api(alipay_channel: Any, alipay_gateway: Any) -> None:
    alipay_gateway.users["ac"] = "2088000000000042"
    api = shopper_client(alipay_channel.app_id)

    response = api.post("/api/v1/auth/alipay/login", {"auth_code": "ac"}, format="json")
    refused = api.post("/api/v1/auth/alipay/login", {"auth_code": "nope"}, format="json")

    assert response.status_code == 201
    assert response.json()["member"]["id"] == Member.objects.get().pk
    assert_error(refused, 400, "alipay_login_failed")


def test_login_bad_input_answers_4xx_in_contract_shape(channel: Any) -> None:
    api = shopper_client(channel.app_id)
    url = "/api/v1/auth/wechat/login"

    assert_error(api.post(url, "{not json", content_type="application/json"), 400, "parse_error")
    assert_error(api.post(url, {}, format="json"), 400, "validation_error")
    assert_error(api.post(url, ["code"], format="json"), 400, "validation_error")
    assert_error(api.post(url, {"code": "x" * 500}, format="json"), 400, "validation_error")
    assert_error(api.get(url), 405, "method_not_allowed")
    assert_error(
        shopper_client("no-such-app").post(url, {"code": "c"}, format="json"),
        400,
        "unknown_app_id",
    )


def test_login_is_rate_limited(sandbox_channel: Any, login_rate: Any) -> None:
    login_rate("3/min")
    api = shopper_client(sandbox_channel.app_id)

    statuses = [
        api.post("/api/v1/auth/wechat/login", {"code": f"c{i}"}, format="json").status_code
        for i in range(4)
    ]

    assert statuses[:3] == [201, 201, 201]
    error = assert_error(
        api.post("/api/v1/auth/wechat/login", {"code": "c9"}, format="json"), 429, "rate_limited"
    )
    assert error["details"]["retry_after_seconds"] > 0
    assert statuses[3] == 429
    assert Member.objects.count() == 3


def test_refresh_issues_a_working_access_token(sandbox_channel: Any) -> None:
    api = shopper_client(sandbox_channel.app_id)
    login = api.post("/api/v1/auth/wechat/login", {"code": "me"}, format="json").json()

    response = api.post("/api/v1/auth/refresh", {"refresh": login["refresh"]}, format="json")

    assert response.status_code == 200
    access = response.json()["access"]
    me = shopper_client(sandbox_channel.app_id, access).get("/api/v1/me")
    assert me.status_code == 200 and me.json()["id"] == login["member"]["id"]


def test_refresh_refusals(tenant: Any, channel: Any, other_channel: Any) -> None:
    member = MemberFactory(tenant=tenant)
    tokens = member_tokens_issue(member=member)
    api = shopper_client(channel.app_id)
    url = "/api/v1/auth/refresh"

    assert_error(api.post(url, {"refresh": "garbage"}, format="json"), 401, "invalid_token")
    # An access token is not a refresh token.
    assert_error(api.post(url, {"refresh": tokens.access}, format="json"), 401, "invalid_token")
    # A refresh token of this tenant used with another tenant's X-App-Id.
    assert_error(
        shopper_client(other_channel.app_id).post(url, {"refresh": tokens.refresh}, format="json"),
        401,
        "token_tenant_mismatch",
    )
    with time_machine.travel(timezone.now() + timedelta(days=30)):
        assert_error(
            api.post(url, {"refresh": tokens.refresh}, format="json"), 401, "invalid_token"
        )

    Member.objects.filter(pk=member.pk).update(is_active=False)
    assert_error(api.post(url, {"refresh": tokens.refresh}, format="json"), 401, "member_disabled")

    survivor = MemberFactory(tenant=tenant)
    Member.objects.filter(pk=member.pk).update(is_active=False, merged_into=survivor)
    assert_error(api.post(url, {"refresh": tokens.refresh}, format="json"), 401, "member_merged")


def test_member_endpoints_refuse_bad_tokens_with_401(
    tenant: Any, channel: Any, other_channel: Any
) -> None:
    member = MemberFactory(tenant=tenant)
    good = access_token_for(member)
    forged = jwt.encode(
        {
            "token_type": "access",
            "member_id": member.pk,
            "tenant_id": tenant.pk,
            "jti": "x",
            "exp": int((timezone.now() + timedelta(minutes=5)).timestamp()),
        },
        "not-the-signing-key-0123456789abcdefghijklmnop",
        algorithm="HS256",
    )

    assert shopper_client(channel.app_id, good).get("/api/v1/me").status_code == 200
    assert_error(shopper_client(channel.app_id).get("/api/v1/me"), 401, "not_authenticated")
    assert_error(
        shopper_client(channel.app_id, "abc.def.ghi").get("/api/v1/me"), 401, "invalid_token"
    )
    assert_error(shopper_client(channel.app_id, forged).get("/api/v1/me"), 401, "invalid_token")
    assert_error(
        shopper_client(other_channel.app_id, good).get("/api/v1/me"), 401, "token_tenant_mismatch"
    )
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        assert_error(shopper_client(channel.app_id, good).get("/api/v1/me"), 401, "invalid_token")
    malformed = shopper_client(channel.app_id)
    malformed.credentials(HTTP_X_APP_ID=channel.app_id, HTTP_AUTHORIZATION="Token abc")
    assert_error(malformed.get("/api/v1/me"), 401, "invalid_token")


def test_login_ignores_a_stale_authorization_header(sandbox_channel: Any) -> None:
    api = shopper_client(sandbox_channel.app_id, "stale.or.broken")

    response = api.post("/api/v1/auth/wechat/login", {"code": "c"}, format="json")

    assert response.status_code == 201
