from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from mall.api.errors import ApplicationError, status_for
from mall.events.models import OutboxEvent
from members.models import Member, MemberIdentity
from members.platforms import PlatformUser
from members.services import (
    member_get_or_create_for_identity,
    member_login_alipay,
    member_login_wechat,
)
from tests.mall.factories import ChannelFactory
from tests.members.conftest import expect_code2session


def test_wechat_login_creates_member_then_returns_it(channel: Any, wechat_api: Any) -> None:
    expect_code2session(wechat_api, channel, "code-1", {"openid": "o-1", "session_key": "sk"})
    expect_code2session(wechat_api, channel, "code-2", {"openid": "o-1", "session_key": "sk2"})

    first = member_login_wechat(channel=channel, code="code-1", scene="1047")
    second = member_login_wechat(channel=channel, code="code-2")

    assert first.created is True and second.created is False
    assert first.member.pk == second.member.pk
    assert first.member.tenant_id == channel.tenant_id
    assert first.member.source_scene == "1047"
    identity = MemberIdentity.objects.get()
    assert (identity.app_id, identity.openid, identity.platform) == (
        channel.app_id,
        "o-1",
        "wechat",
    )
    assert identity.last_login_at is not None
    events = OutboxEvent.objects.for_tenant(channel.tenant_id).filter(name="member.created")
    assert [e.payload["member_id"] for e in events] == [first.member.pk]
    # code2session was asked without an access token (and no /cgi-bin/token fetch happened).
    assert [r.path for r, _ in wechat_api.log] == ["/sns/jscode2session"] * 2


def test_wechat_unionid_attaches_a_second_app_to_the_same_member(
    tenant: Any, channel: Any, wechat_api: Any
) -> None:
    second_app = ChannelFactory(tenant=tenant, app_id="wx-shop-a-2")
    expect_code2session(wechat_api, channel, "c1", {"openid": "o-app1", "unionid": "u-1"})
    expect_code2session(wechat_api, second_app, "c2", {"openid": "o-app2", "unionid": "u-1"})

    a = member_login_wechat(channel=channel, code="c1")
    b = member_login_wechat(channel=second_app, code="c2")

    assert b.created is False and a.member.pk == b.member.pk
    assert set(a.member.identities.values_list("app_id", flat=True)) == {
        "wx-shop-a",
        "wx-shop-a-2",
    }


def test_unionid_never_crosses_tenants(channel: Any, other_channel: Any, wechat_api: Any) -> None:
    expect_code2session(wechat_api, channel, "c1", {"openid": "o-1", "unionid": "u-1"})
    expect_code2session(wechat_api, other_channel, "c2", {"openid": "o-2", "unionid": "u-1"})

    a = member_login_wechat(channel=channel, code="c1")
    b = member_login_wechat(channel=other_channel, code="c2")

    assert a.member.pk != b.member.pk
    assert b.member.tenant_id == other_channel.tenant_id


def test_wechat_error_answer_raises_and_creates_nothing(channel: Any, wechat_api: Any) -> None:
    expect_code2session(wechat_api, channel, "bad", {"errcode": 40029, "errmsg": "invalid code"})

    with pytest.raises(ApplicationError) as info:
        member_login_wechat(channel=channel, code="bad")

    assert (info.value.code, status_for(info.value)) == ("wechat_login_failed", 400)
    assert info.value.details["errcode"] == 40029
    assert Member.objects.count() == 0 and MemberIdentity.objects.count() == 0


def test_wechat_unreachable_is_502(channel: Any, settings: Any) -> None:
    settings.WECHAT_API_BASE_URL = "http://127.0.0.1:9"  # nothing listens there

    with pytest.raises(ApplicationError) as info:
        member_login_wechat(channel=channel, code="c")

    assert (info.value.code, status_for(info.value)) == ("upstream_unavailable", 502)


def test_wechat_http_error_status_is_502(channel: Any, wechat_api: Any) -> None:
    wechat_api.expect_request("/sns/jscode2session").respond_with_data("busy", status=503)

    with pytest.raises(ApplicationError) as info:
        member_login_wechat(channel=channel, code="c")

    assert (info.value.code, status_for(info.value)) == ("upstream_unavailable", 502)
    assert Member.objects.count() == 0


def test_wechat_answer_without_openid_is_502(channel: Any, wechat_api: Any) -> None:
    expect_code2session(wechat_api, channel, "c", {"session_key": "sk"})

    with pytest.raises(ApplicationError) as info:
        member_login_wechat(channel=channel, code="c")

    assert status_for(info.value) == 502
    assert Member.objects.count() == 0


def test_sandbox_login_is_deterministic_per_code(sandbox_channel: Any) -> None:
    a = member_login_wechat(channel=sandbox_channel, code="alice")
    again = member_login_wechat(channel=sandbox_channel, code="alice")
    b = member_login_wechat(channel=sandbox_channel, code="bob")

    assert a.member.pk == again.member.pk != b.member.pk
    identity = a.member.identities.get()
    assert identity.openid.startswith("sandbox_") and len(identity.openid) == len("sandbox_") + 24


def test_sandbox_channel_answers_alipay_login_too(tenant: Any) -> None:
    sandbox = ChannelFactory(tenant=tenant, platform="alipay", app_id="ali-sb", is_sandbox=True)

    result = member_login_alipay(channel=sandbox, auth_code="carol")

    assert result.created and result.member.identities.get().platform == "alipay"


def test_wechat_login_on_an_alipay_channel_is_refused(alipay_channel: Any) -> None:
    with pytest.raises(ApplicationError) as info:
        member_login_wechat(channel=alipay_channel, code="c")
    assert (info.value.code, status_for(info.value)) == ("platform_mismatch", 400)


def test_alipay_login_against_signed_gateway(alipay_channel: Any, alipay_gateway: Any) -> None:
    alipay_gateway.users["auth-1"] = "2088102000000001"

    first = member_login_alipay(channel=alipay_channel, auth_code="auth-1")
    second = member_login_alipay(channel=alipay_channel, auth_code="auth-1")

    assert first.created and not second.created and first.member.pk == second.member.pk
    identity = first.member.identities.get()
    assert (identity.platform, identity.openid) == ("alipay", "2088102000000001")
    sent = alipay_gateway.requests[0]
    assert sent["method"] == "alipay.system.oauth.token" and sent["sign_type"] == "RSA2"
    assert sent["app_id"] == alipay_channel.app_id


def test_alipay_refused_code_is_400_and_creates_nothing(
    alipay_channel: Any, alipay_gateway: Any
) -> None:
    with pytest.raises(ApplicationError) as info:
        member_login_alipay(channel=alipay_channel, auth_code="unknown")

    assert (info.value.code, status_for(info.value)) == ("alipay_login_failed", 400)
    assert info.value.details == {"code": "40002", "sub_code": "isv.code-invalid"}
    assert Member.objects.count() == 0


def test_alipay_answer_with_bad_signature_is_refused(
    alipay_channel: Any, alipay_gateway: Any
) -> None:
    alipay_gateway.users["auth-1"] = "2088102000000001"
    alipay_gateway.tamper = True

    with pytest.raises(ApplicationError) as info:
        member_login_alipay(channel=alipay_channel, auth_code="auth-1")

    assert (info.value.code, status_for(info.value)) == ("upstream_invalid_response", 502)
    assert Member.objects.count() == 0


def test_alipay_request_signed_with_wrong_key_is_refused_by_gateway(
    tenant: Any, alipay_keys: Any, alipay_gateway: Any
) -> None:
    # The channel signs with a key whose public half the gateway does not know.
    from cryptography.hazmat.primitives.asymmetric import rsa

    from tests.members.conftest import _private_pem

    stranger = _private_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    channel = ChannelFactory(
        tenant=tenant,
        platform="alipay",
        app_id="2021000000000002",
        alipay_app_private_key=stranger,
        alipay_public_key=alipay_keys.alipay_public_pem,
    )
    alipay_gateway.users["auth-1"] = "2088102000000001"

    with pytest.raises(ApplicationError) as info:
        member_login_alipay(channel=channel, auth_code="auth-1")

    assert info.value.details["sub_code"] == "isv.invalid-signature"


def test_alipay_channel_without_keys_is_503(tenant: Any) -> None:
    channel = ChannelFactory(tenant=tenant, platform="alipay", app_id="2021000000000003")

    with pytest.raises(ApplicationError) as info:
        member_login_alipay(channel=channel, auth_code="x")

    assert (info.value.code, status_for(info.value)) == ("channel_not_configured", 503)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_first_logins_make_one_member(tenant: Any, channel: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL) for concurrent transactions")
    barrier = threading.Barrier(6)
    results: list[int] = []
    errors: list[BaseException] = []

    def login() -> None:
        try:
            barrier.wait()
            member, _ = member_get_or_create_for_identity(
                channel=channel, user=PlatformUser(openid="same-openid")
            )
            results.append(member.pk)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=login) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert len(set(results)) == 1 and len(results) == 6
    assert Member.objects.count() == 1 and MemberIdentity.objects.count() == 1


def test_disabled_member_cannot_log_in(sandbox_channel: Any) -> None:
    first = member_login_wechat(channel=sandbox_channel, code="dora")
    Member.objects.filter(pk=first.member.pk).update(is_active=False)

    with pytest.raises(ApplicationError) as info:
        member_login_wechat(channel=sandbox_channel, code="dora")

    assert (info.value.code, status_for(info.value)) == ("member_disabled", 403)
