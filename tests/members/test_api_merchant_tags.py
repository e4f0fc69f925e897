"""Open API of tags: bulk apply and remove, a member's tags by name, scopes and tenants."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from members.models import MemberTag, Tag
from tests.members.factories import MemberFactory
from tests.members.test_api_merchant_members import merchant_client

pytestmark = pytest.mark.django_db
BASE = "/api/merchant/v1"


@pytest.fixture
def api(tenant: Any) -> APIClient:
    return merchant_client(tenant, ["members"])


def test_bulk_apply_and_remove(api: APIClient, tenant: Any, other_tenant: Any) -> None:
    tag = Tag.objects.create(tenant=tenant, name="VIP")
    a, b = MemberFactory(tenant=tenant), MemberFactory(tenant=tenant)
    stranger = MemberFactory(tenant=other_tenant)

    answer = api.post(
        f"{BASE}/tags/{tag.pk}/members",
        {"member_ids": [a.pk, b.pk, stranger.pk]},
        format="json",
    )
    assert answer.status_code == 200
    assert answer.json() == {"tag_id": tag.pk, "changed": 2}
    again = api.post(f"{BASE}/tags/{tag.pk}/members", {"member_ids": [a.pk]}, format="json")
    assert again.json()["changed"] == 0
    assert set(MemberTag.objects.values_list("member_id", "source")) == {
        (a.pk, "api"),
        (b.pk, "api"),
    }
    removed = api.post(
        f"{BASE}/tags/{tag.pk}/members/remove", {"member_ids": [a.pk]}, format="json"
    )
    assert removed.json() == {"tag_id": tag.pk, "changed": 1}
    assert list(MemberTag.objects.values_list("member_id", flat=True)) == [b.pk]


def test_bulk_refuses_bad_bodies_and_foreign_tags(
    api: APIClient, tenant: Any, other_tenant: Any
) -> None:
    theirs = Tag.objects.create(tenant=other_tenant, name="VIP")
    mine = Tag.objects.create(tenant=tenant, name="VIP")
    member = MemberFactory(tenant=tenant)
    foreign = api.post(
        f"{BASE}/tags/{theirs.pk}/members", {"member_ids": [member.pk]}, format="json"
    )
    assert foreign.status_code == 404
    assert foreign.json()["error"]["code"] == "tag_not_found"
    empty = api.post(f"{BASE}/tags/{mine.pk}/members", {"member_ids": []}, format="json")
    assert empty.status_code == 400
    huge = api.post(
        f"{BASE}/tags/{mine.pk}/members", {"member_ids": list(range(1, 1002))}, format="json"
    )
    assert huge.status_code == 400
    assert MemberTag.objects.count() == 0


def test_member_tags_by_name(api: APIClient, tenant: Any, other_tenant: Any) -> None:
    member = MemberFactory(tenant=tenant)
    url = f"{BASE}/members/{member.pk}/tags"
    first = api.post(url, {"add": ["VIP", "Beijing"]}, format="json")
    assert first.status_code == 200
    assert first.json() == {"member_id": member.pk, "tags": ["Beijing", "VIP"]}
    second = api.post(url, {"remove": ["Beijing"], "add": ["VIP"]}, format="json")
    assert second.json()["tags"] == ["VIP"]
    listed = api.get(f"{BASE}/tags").json()
    assert [t["name"] for t in listed["results"]] == ["Beijing", "VIP"]
    stranger = MemberFactory(tenant=other_tenant)
    assert (
        api.post(f"{BASE}/members/{stranger.pk}/tags", {"add": ["x"]}, format="json").status_code
        == 404
    )


def test_scope_members_is_required(tenant: Any) -> None:
    api = merchant_client(tenant, ["catalog"])
    tag = Tag.objects.create(tenant=tenant, name="VIP")
    answer = api.post(f"{BASE}/tags/{tag.pk}/members", {"member_ids": [1]}, format="json")
    assert answer.status_code == 403
