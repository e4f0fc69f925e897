from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from rest_framework.test import APIClient

from mall.tenancy.services import api_key_create
from members.models import Member
from tests.members.factories import MemberFactory, MemberIdentityFactory
from tests.members.test_api_auth import assert_error

URL = "/api/merchant/v1/members"


def merchant_client(tenant: Any, scopes: list[str]) -> APIClient:
    _key, raw = api_key_create(tenant=tenant, scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def api(tenant: Any) -> APIClient:
    return merchant_client(tenant, ["members"])


def _stamp(member: Member, when: dt.datetime) -> None:
    Member.objects.filter(pk=member.pk).update(updated_at=when)


def test_list_is_ordered_by_updated_at_then_id_and_filtered(
    api: APIClient, tenant: Any, other_tenant: Any
) -> None:
    t0 = dt.datetime(2026, 1, 1, 0, 0, tzinfo=dt.UTC)
    a, b, c = (MemberFactory(tenant=tenant) for _ in range(3))
    MemberIdentityFactory(member=b, openid="ob")
    _stamp(a, t0 + dt.timedelta(hours=2))
    _stamp(b, t0 + dt.timedelta(hours=1))
    _stamp(c, t0 + dt.timedelta(hours=1))
    MemberFactory(tenant=other_tenant)

    body = api.get(URL).json()
    since = api.get(URL, {"updated_since": "2026-01-01T09:30:00+08:00"}).json()

    assert [m["id"] for m in body["results"]] == [b.pk, c.pk, a.pk]
    assert body["count"] == 3
    first = body["results"][0]
    assert first["identities"][0]["openid"] == "ob"
    assert {"id", "nickname", "phone", "points", "growth", "tier", "updated_at"} <= set(first)
    assert first["merged_into"] is None and first["is_active"] is True
    assert [m["id"] for m in since["results"]] == [a.pk]


def test_updated_since_with_unencoded_plus_and_naive_time(api: APIClient, tenant: Any) -> None:
    member = MemberFactory(tenant=tenant)
    _stamp(member, dt.datetime(2026, 1, 1, 2, 0, tzinfo=dt.UTC))  # 10:00 in Shanghai

    plus = api.get(f"{URL}?updated_since=2026-01-01T09:00:00+08:00").json()
    naive_after = api.get(URL, {"updated_since": "2026-01-01T10:00:01"}).json()

    assert plus["count"] == 1
    assert naive_after["count"] == 0


def test_bad_updated_since_is_400(api: APIClient) -> None:
    for value in ("yesterday", "2026-13-45T00:00:00", "2026-01-01T25:00:00Z"):
        error = assert_error(api.get(URL, {"updated_since": value}), 400, "validation_error")
        assert "updated_since" in error["details"]


def test_list_is_paginated(api: APIClient, tenant: Any) -> None:
    for _ in range(3):
        MemberFactory(tenant=tenant)

    page = api.get(URL, {"page_size": 2}).json()

    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]


def test_detail_and_other_tenants_member_is_404(
    api: APIClient, tenant: Any, other_tenant: Any
) -> None:
    mine = MemberFactory(tenant=tenant, phone="13800000030")
    foreign = MemberFactory(tenant=other_tenant)

    ok = api.get(f"{URL}/{mine.pk}")

    assert ok.status_code == 200 and ok.json()["phone"] == "13800000030"
    assert_error(api.get(f"{URL}/{foreign.pk}"), 404, "not_found")


def test_scope_and_key_are_required(tenant: Any) -> None:
    catalog_only = merchant_client(tenant, ["catalog"])

    assert_error(catalog_only.get(URL), 403, "permission_denied")
    assert_error(APIClient().get(URL), 401, "not_authenticated")
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Bearer mk_nope")
    assert_error(bad.get(URL), 401, "authentication_failed")


def test_merged_members_are_visible_with_their_survivor(api: APIClient, tenant: Any) -> None:
    survivor = MemberFactory(tenant=tenant)
    merged = MemberFactory(tenant=tenant, is_active=False, merged_into=survivor)

    body = api.get(f"{URL}/{merged.pk}").json()

    assert body["is_active"] is False and body["merged_into"] == survivor.pk
