from __future__ import annotations

from typing import Any

import pytest

from members.models import Address
from tests.conftest import shopper_client
from tests.members.factories import AddressFactory, MemberFactory, access_token_for
from tests.members.test_api_auth import assert_error

PAYLOAD = {
    "name": "Li Si",
    "phone": "13700000000",
    "province": "Zhejiang",
    "city": "Hangzhou",
    "district": "Xihu",
    "detail": "2 Wensan Road",
    "province_code": "330000",
    "latitude": "30.274085",
    "longitude": "120.155070",
}


@pytest.fixture
def member(tenant: Any) -> Any:
    return MemberFactory(tenant=tenant)


@pytest.fixture
def api(channel: Any, member: Any) -> Any:
    return shopper_client(channel.app_id, access_token_for(member))


def _create(api: Any, **extra: Any) -> Any:
    response = api.post("/api/v1/me/addresses", {**PAYLOAD, **extra}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_first_address_becomes_default_and_list_is_paginated(api: Any, member: Any) -> None:
    first = _create(api)
    second = _create(api, name="Wang Wu")

    assert first["is_default"] is True and second["is_default"] is False
    assert first["latitude"] == "30.274085"
    body = api.get("/api/v1/me/addresses").json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 2
    assert [a["id"] for a in body["results"]] == [first["id"], second["id"]]
    page = api.get("/api/v1/me/addresses?page_size=1").json()
    assert len(page["results"]) == 1 and page["next"] is not None


def test_setting_default_unsets_the_others(api: Any, member: Any) -> None:
    first = _create(api)
    second = _create(api)
    third = _create(api, is_default=True)

    assert third["is_default"] is True
    assert list(
        Address.objects.filter(member=member, is_default=True).values_list("id", flat=True)
    ) == [third["id"]]
    patched = api.patch(f"/api/v1/me/addresses/{second['id']}", {"is_default": True}, format="json")
    assert patched.status_code == 200 and patched.json()["is_default"] is True
    defaults = Address.objects.filter(member=member, is_default=True)
    assert list(defaults.values_list("id", flat=True)) == [second["id"]]
    assert first["id"] not in defaults.values_list("id", flat=True)


def test_unsetting_the_default_is_refused(api: Any) -> None:
    first = _create(api)

    response = api.patch(
        f"/api/v1/me/addresses/{first['id']}", {"is_default": False}, format="json"
    )

    assert_error(response, 422, "default_address_required")


def test_patch_changes_fields_and_validates(api: Any) -> None:
    address = _create(api)
    url = f"/api/v1/me/addresses/{address['id']}"

    ok = api.patch(url, {"detail": "3 Wensan Road", "district": ""}, format="json")
    bad_phone = api.patch(url, {"phone": "call me"}, format="json")
    bad_lat = api.patch(url, {"latitude": "123.0"}, format="json")
    unknown = api.patch(url, {"member": 999}, format="json")

    assert ok.status_code == 200 and ok.json()["detail"] == "3 Wensan Road"
    assert "phone" in assert_error(bad_phone, 400, "validation_error")["details"]
    assert "latitude" in assert_error(bad_lat, 400, "validation_error")["details"]
    assert "member" in assert_error(unknown, 400, "validation_error")["details"]
    assert api.get(url).json()["detail"] == "3 Wensan Road"


def test_deleting_the_default_promotes_the_newest_remaining(api: Any, member: Any) -> None:
    default = _create(api)
    older = _create(api)
    newest = _create(api)

    assert api.delete(f"/api/v1/me/addresses/{default['id']}").status_code == 204

    remaining = {a.id: a.is_default for a in Address.objects.filter(member=member)}
    assert remaining == {older["id"]: False, newest["id"]: True}
    assert api.delete(f"/api/v1/me/addresses/{older['id']}").status_code == 204
    assert Address.objects.get(member=member).is_default is True


def test_address_limit(api: Any, member: Any) -> None:
    for _ in range(Address.MAX_PER_MEMBER - 1):
        AddressFactory(member=member)
    _create(api)

    response = api.post("/api/v1/me/addresses", PAYLOAD, format="json")

    error = assert_error(response, 422, "address_limit_reached")
    assert error["details"]["max"] == Address.MAX_PER_MEMBER
    assert Address.objects.filter(member=member).count() == Address.MAX_PER_MEMBER


def test_create_validation_errors(api: Any) -> None:
    missing = api.post("/api/v1/me/addresses", {"name": "x"}, format="json")
    malformed = api.post("/api/v1/me/addresses", "{oops", content_type="application/json")

    assert {"phone", "province", "city", "detail"} <= set(
        assert_error(missing, 400, "validation_error")["details"]
    )
    assert_error(malformed, 400, "parse_error")
    assert Address.objects.count() == 0


def test_idempotency_key_replays_the_first_answer(api: Any, member: Any) -> None:
    headers = {"HTTP_IDEMPOTENCY_KEY": "addr-1"}

    first = api.post("/api/v1/me/addresses", PAYLOAD, format="json", **headers)
    replay = api.post("/api/v1/me/addresses", PAYLOAD, format="json", **headers)
    other_body = api.post(
        "/api/v1/me/addresses", {**PAYLOAD, "name": "Other"}, format="json", **headers
    )

    assert first.status_code == 201 and replay.status_code == 201
    assert replay.json() == first.json() and replay["Idempotent-Replayed"] == "true"
    assert_error(other_body, 409, "idempotency_key_reused")
    assert Address.objects.filter(member=member).count() == 1


def test_other_members_and_other_tenants_addresses_are_404(
    api: Any, tenant: Any, other_channel: Any
) -> None:
    neighbour = AddressFactory(member=MemberFactory(tenant=tenant))
    stranger_member = MemberFactory(tenant=other_channel.tenant)
    foreign = AddressFactory(member=stranger_member)

    for address in (neighbour, foreign):
        url = f"/api/v1/me/addresses/{address.pk}"
        assert_error(api.get(url), 404, "not_found")
        assert_error(api.patch(url, {"name": "x"}, format="json"), 404, "not_found")
        assert_error(api.delete(url), 404, "not_found")
    assert api.get("/api/v1/me/addresses").json()["count"] == 0
    # The foreign member's own token works only with its own tenant's app id.
    foreign_api = shopper_client(other_channel.app_id, access_token_for(stranger_member))
    assert foreign_api.get(f"/api/v1/me/addresses/{foreign.pk}").status_code == 200
    assert Address.objects.filter(pk__in=[neighbour.pk, foreign.pk]).count() == 2


def test_addresses_need_a_member(channel: Any) -> None:
    assert_error(
        shopper_client(channel.app_id).get("/api/v1/me/addresses"), 401, "not_authenticated"
    )
