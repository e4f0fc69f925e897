"""Member bearer tokens on the shopper API (mall.api.authentication.MemberTokenAuthentication)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken

from mall.api import authentication
from mall.api.authentication import MemberTokenAuthentication
from members.models import Member
from tests.conftest import shopper_client
from tests.members.factories import MemberFactory, access_token_for
from tests.members.test_api_auth import assert_error


def _token(tenant_id: int, member_id: Any) -> str:
    refresh = RefreshToken()
    refresh["tenant_id"] = tenant_id
    refresh["member_id"] = member_id
    return str(refresh.access_token)


def test_valid_token_authenticates_the_member(tenant: Any, channel: Any) -> None:
    member = MemberFactory(tenant=tenant, nickname="Ann")
    response = shopper_client(channel.app_id, access_token_for(member)).get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["id"] == member.pk


def test_member_is_a_complete_instance_read_in_one_statement(tenant: Any, channel: Any) -> None:
    member = MemberFactory(tenant=tenant, nickname="Ann", points=7)
    request = APIRequestFactory().get(
        "/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {access_token_for(member)}"
    )
    request.tenant = tenant

    with CaptureQueriesContext(connection) as queries:
        found, _token_obj = MemberTokenAuthentication().authenticate(Request(request))
        assert (found.pk, found.nickname, found.points) == (member.pk, "Ann", 7)
        assert found.get_deferred_fields() == set()
        assert isinstance(found, Member)
    assert len(queries.captured_queries) == 1


def test_unknown_member_is_401(tenant: Any, channel: Any) -> None:
    member = MemberFactory(tenant=tenant)
    token = access_token_for(member)
    Member.objects.filter(pk=member.pk).delete()
    response = shopper_client(channel.app_id, token).get("/api/v1/me")
    assert_error(response, 401, "invalid_token")


def test_member_id_that_is_not_an_integer_is_401(tenant: Any, channel: Any) -> None:
    member = MemberFactory(tenant=tenant)
    for claim in (str(member.pk), None, [member.pk]):
        response = shopper_client(channel.app_id, _token(tenant.pk, claim)).get("/api/v1/me")
        assert_error(response, 401, "invalid_token")


def test_member_of_another_tenant_is_401(tenant: Any, channel: Any, other_tenant: Any) -> None:
    stranger = MemberFactory(tenant=other_tenant)
    # Claims this tenant but names another tenant's member.
    response = shopper_client(channel.app_id, _token(tenant.pk, stranger.pk)).get("/api/v1/me")
    assert_error(response, 401, "invalid_token")


def test_token_of_another_tenant_is_401(tenant: Any, channel: Any, other_tenant: Any) -> None:
    stranger = MemberFactory(tenant=other_tenant)
    response = shopper_client(channel.app_id, access_token_for(stranger)).get("/api/v1/me")
    assert_error(response, 401, "token_tenant_mismatch")


def test_disabled_and_merged_members_are_401(tenant: Any, channel: Any) -> None:
    disabled = MemberFactory(tenant=tenant, is_active=False)
    response = shopper_client(channel.app_id, access_token_for(disabled)).get("/api/v1/me")
    assert_error(response, 401, "member_disabled")
    target = MemberFactory(tenant=tenant)
    merged = MemberFactory(tenant=tenant, merged_into=target)
    response = shopper_client(channel.app_id, access_token_for(merged)).get("/api/v1/me")
    assert_error(response, 401, "member_merged")


def test_a_verified_token_is_checked_once_then_only_for_expiry(
    tenant: Any, channel: Any, monkeypatch: Any
) -> None:
    member = MemberFactory(tenant=tenant)
    raw = access_token_for(member)
    decoded: list[str] = []
    real = authentication.AccessToken

    def counting(token: str) -> Any:
        decoded.append(token)
        return real(token)

    monkeypatch.setattr(authentication, "AccessToken", counting)
    claims = authentication.access_claims(raw)
    assert authentication.access_claims(raw) == claims
    assert (claims["member_id"], claims["tenant_id"]) == (member.pk, tenant.pk)
    assert decoded == [raw]  # the second use did not decode or verify again

    forged = raw[:-2] + ("AA" if not raw.endswith("AA") else "BB")
    with pytest.raises(TokenError):
        authentication.access_claims(forged)
    expiry = datetime.fromtimestamp(claims["exp"], tz=UTC)
    with time_machine.travel(expiry - timedelta(seconds=1), tick=False):
        assert authentication.access_claims(raw) == claims
    with time_machine.travel(expiry, tick=False):
        with pytest.raises(TokenError):
            authentication.access_claims(raw)
        response = shopper_client(channel.app_id, raw).get("/api/v1/me")
    assert_error(response, 401, "invalid_token")
