from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from members.models import Member, MemberMerge
from tests.conftest import shopper_client
from tests.members.factories import AddressFactory, MemberFactory, access_token_for
from tests.members.test_api_auth import assert_error


def me_client(channel: Any, member: Member) -> Any:
    return shopper_client(channel.app_id, access_token_for(member))


def test_get_me_shows_profile_fields(tenant: Any, channel: Any) -> None:
    member = MemberFactory(tenant=tenant, nickname="Ann", phone="13900000000", points=12, growth=5)

    body = me_client(channel, member).get("/api/v1/me").json()

    assert body == {
        "id": member.pk,
        "nickname": "Ann",
        "avatar": "",
        "phone": "13900000000",
        "birthday": None,
        "gender": "unknown",
        "tier": None,
        "points": 12,
        "growth": 5,
        "card": None,
    }


def test_patch_me_changes_editable_fields(tenant: Any, channel: Any) -> None:
    member = MemberFactory(tenant=tenant)
    before = Member.objects.get(pk=member.pk).updated_at

    response = me_client(channel, member).patch(
        "/api/v1/me",
        {
            "nickname": "Bo",
            "avatar": "https://img.example.com/a.png",
            "birthday": "1990-02-03",
            "gender": "female",
        },
        format="json",
    )

    assert response.status_code == 200
    member.refresh_from_db()
    assert (member.nickname, member.avatar, member.birthday, member.gender) == (
        "Bo",
        "https://img.example.com/a.png",
        dt.date(1990, 2, 3),
        "female",
    )
    assert member.updated_at > before
    assert response.json()["nickname"] == "Bo"


def test_patch_me_refuses_read_only_and_invalid_fields(tenant: Any, channel: Any) -> None:
    member = MemberFactory(tenant=tenant, points=3)
    api = me_client(channel, member)
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()

    for body, field in (
        ({"points": 1000}, "points"),
        ({"phone": "13800000000"}, "phone"),
        ({"growth": 1}, "growth"),
        ({"gender": "robot"}, "gender"),
        ({"birthday": "not-a-date"}, "birthday"),
        ({"birthday": tomorrow}, "birthday"),
        ({"avatar": "javascript:alert(1)"}, "avatar"),
    ):
        error = assert_error(api.patch("/api/v1/me", body, format="json"), 400, "validation_error")
        assert field in error["details"]
    assert_error(api.patch("/api/v1/me", "{", content_type="application/json"), 400, "parse_error")
    member.refresh_from_db()
    assert member.points == 3 and member.phone == ""


def test_bind_new_phone_on_sandbox(tenant: Any, sandbox_channel: Any) -> None:
    member = MemberFactory(tenant=tenant)

    response = me_client(sandbox_channel, member).post(
        "/api/v1/me/phone", {"code": "sandbox:13800000001"}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert body["merged"] is False and body["member"]["phone"] == "13800000001"
    assert body["member"]["id"] == member.pk and body["access"] and body["refresh"]
    # Binding the same phone again is a no-op.
    again = me_client(sandbox_channel, member).post(
        "/api/v1/me/phone", {"code": "sandbox:13800000001"}, format="json"
    )
    assert again.status_code == 200 and again.json()["merged"] is False
    assert MemberMerge.objects.count() == 0


def test_bind_phone_of_another_member_merges_into_it(tenant: Any, sandbox_channel: Any) -> None:
    survivor = MemberFactory(tenant=tenant, phone="13800000002", points=10, growth=1)
    current = MemberFactory(tenant=tenant, points=5, growth=2)
    AddressFactory(member=current)
    old_token = access_token_for(current)

    response = shopper_client(sandbox_channel.app_id, old_token).post(
        "/api/v1/me/phone", {"code": "sandbox:13800000002"}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert body["merged"] is True
    assert body["member"]["id"] == survivor.pk
    assert (body["member"]["points"], body["member"]["growth"]) == (15, 3)
    # The old token now says "merged"; the new one works as the survivor.
    assert_error(
        shopper_client(sandbox_channel.app_id, old_token).get("/api/v1/me"), 401, "member_merged"
    )
    me = shopper_client(sandbox_channel.app_id, body["access"]).get("/api/v1/me").json()
    assert me["id"] == survivor.pk
    addresses = shopper_client(sandbox_channel.app_id, body["access"]).get("/api/v1/me/addresses")
    assert addresses.json()["count"] == 1


def test_phone_of_another_tenant_does_not_merge(
    tenant: Any, other_tenant: Any, sandbox_channel: Any
) -> None:
    MemberFactory(tenant=other_tenant, phone="13800000003")
    member = MemberFactory(tenant=tenant)

    body = (
        me_client(sandbox_channel, member)
        .post("/api/v1/me/phone", {"code": "sandbox:13800000003"}, format="json")
        .json()
    )

    assert body["merged"] is False and body["member"]["id"] == member.pk


def test_bad_sandbox_phone_code_is_400(tenant: Any, sandbox_channel: Any) -> None:
    member = MemberFactory(tenant=tenant)
    api = me_client(sandbox_channel, member)

    assert_error(
        api.post("/api/v1/me/phone", {"code": "13800000000"}, format="json"), 400, "invalid_phone"
    )
    assert_error(api.post("/api/v1/me/phone", {}, format="json"), 400, "validation_error")


def test_wechat_phone_binding_through_fake_api(tenant: Any, channel: Any, wechat_api: Any) -> None:
    member = MemberFactory(tenant=tenant)
    wechat_api.expect_request(
        "/cgi-bin/token",
        query_string={
            "grant_type": "client_credential",
            "appid": channel.app_id,
            "secret": channel.app_secret,
        },
    ).respond_with_json({"access_token": "AT-1", "expires_in": 7200})
    wechat_api.expect_request(
        "/wxa/business/getuserphonenumber",
        method="POST",
        query_string={"access_token": "AT-1"},
        json={"code": "phone-code"},
    ).respond_with_json(
        {
            "errcode": 0,
            "errmsg": "ok",
            "phone_info": {
                "phoneNumber": "+86 13800000004",
                "purePhoneNumber": "13800000004",
                "countryCode": "86",
            },
        }
    )
    wechat_api.expect_request(
        "/wxa/business/getuserphonenumber",
        method="POST",
        query_string={"access_token": "AT-1"},
        json={"code": "bad-code"},
    ).respond_with_json({"errcode": 40029, "errmsg": "invalid code"})
    api = me_client(channel, member)

    ok = api.post("/api/v1/me/phone", {"code": "phone-code"}, format="json")
    refused = api.post("/api/v1/me/phone", {"code": "bad-code"}, format="json")

    assert ok.status_code == 200 and ok.json()["member"]["phone"] == "13800000004"
    error = assert_error(refused, 400, "wechat_phone_failed")
    assert error["details"]["errcode"] == 40029
    # The access token was fetched once and reused from the cache.
    assert [r.path for r, _ in wechat_api.log].count("/cgi-bin/token") == 1


def test_phone_binding_is_rate_limited(tenant: Any, sandbox_channel: Any, settings: Any) -> None:
    rest = dict(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"] = {**rest["DEFAULT_THROTTLE_RATES"], "phone": "2/min"}
    settings.REST_FRAMEWORK = rest
    api = me_client(sandbox_channel, MemberFactory(tenant=tenant))

    codes = [
        api.post("/api/v1/me/phone", {"code": "sandbox:1380000000"}, format="json").status_code
        for _ in range(3)
    ]

    assert codes == [200, 200, 429]
