"""Roles decide what a staff member may see and change in the console."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from mall.tenancy.models import Channel, Staff, Tenant
from members.models import Member
from tests.mall.factories import ChannelFactory
from tests.members.factories import MemberFactory

Role = Staff.Role


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.FINANCE, Role.SERVICE])
def test_non_managers_cannot_open_or_change_staff_or_channels(
    role: str, shop_a: Tenant, owner_a: Staff, as_role: Callable[[str], Client]
) -> None:
    channel = ChannelFactory(tenant=shop_a, name="Alpha WeChat")
    client = as_role(role)

    assert client.get("/console/mall/staff/").status_code == 403
    assert client.get(f"/console/mall/staff/{owner_a.pk}/change/").status_code == 403
    assert client.get("/console/mall/channel/").status_code == 403
    assert client.get(f"/console/mall/channel/{channel.pk}/change/").status_code == 403
    response = client.post(
        f"/console/mall/channel/{channel.pk}/change/",
        {"platform": "wechat", "app_id": "wx-changed", "name": "x"},
    )
    assert response.status_code == 403
    assert (
        client.post(
            f"/console/mall/staff/{owner_a.pk}/change/", {"role": Role.OPERATOR}
        ).status_code
        == 403
    )
    assert client.get("/console/mall/apikey/add/").status_code == 403
    channel.refresh_from_db()
    assert channel.app_id != "wx-changed"
    owner_a.refresh_from_db()
    assert owner_a.role == Role.OWNER
    # The app list does not offer what the role cannot use.
    index = client.get("/console/").content.decode()
    assert "/console/mall/staff/" not in index and "/console/mall/channel/" not in index


def test_finance_sees_members_but_cannot_edit_them(
    shop_a: Tenant, as_role: Callable[[str], Client]
) -> None:
    member = MemberFactory(tenant=shop_a, nickname="alpha-li")
    client = as_role(Role.FINANCE)

    page = client.get(f"/console/members/member/{member.pk}/change/")
    response = client.post(
        f"/console/members/member/{member.pk}/change/",
        {"nickname": "renamed", "gender": "unknown", "is_active": "on"},
    )

    assert page.status_code == 200
    assert 'name="nickname"' not in page.content.decode()  # read-only view
    assert response.status_code == 403
    member.refresh_from_db()
    assert member.nickname == "alpha-li"


def test_customer_service_edits_a_member(shop_a: Tenant, as_role: Callable[[str], Client]) -> None:
    member = MemberFactory(tenant=shop_a, nickname="alpha-li")
    client = as_role(Role.SERVICE)

    response = client.post(
        f"/console/members/member/{member.pk}/change/",
        {
            "nickname": "Li (VIP)",
            "gender": "female",
            "is_active": "on",
            "points": "999999",  # read-only in the console: ignored
            "identities-TOTAL_FORMS": "0",
            "identities-INITIAL_FORMS": "0",
            "addresses-TOTAL_FORMS": "0",
            "addresses-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.nickname, member.gender, member.points) == ("Li (VIP)", "female", 0)


def test_members_cannot_be_deleted_or_added_from_the_console(
    shop_a: Tenant, client_a: Client
) -> None:
    member = MemberFactory(tenant=shop_a)

    assert (
        client_a.post(f"/console/members/member/{member.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert client_a.get("/console/members/member/add/").status_code == 403
    assert Member.objects.filter(pk=member.pk).exists()


def test_operator_edits_categories(shop_a: Tenant, as_role: Callable[[str], Client]) -> None:
    response = as_role(Role.OPERATOR).post(
        "/console/catalog/category/add/", {"name": "Teas", "sort_order": 0, "is_visible": "on"}
    )

    assert response.status_code == 302


def test_admin_cannot_grant_owner_or_touch_an_owner(
    shop_a: Tenant, owner_a: Staff, as_role: Callable[[str], Client], make_staff: Any
) -> None:
    client = as_role(Role.ADMIN)
    clerk = make_staff(shop_a, Role.OPERATOR, email="clerk@example.com")

    grant = client.post(
        f"/console/mall/staff/{clerk.pk}/change/", {"role": Role.OWNER, "is_active": "on"}
    )
    demote_owner = client.post(
        f"/console/mall/staff/{owner_a.pk}/change/", {"role": Role.OPERATOR, "is_active": "on"}
    )

    assert grant.status_code == 200 and "role" in grant.context["adminform"].form.errors
    assert demote_owner.status_code == 403
    clerk.refresh_from_db()
    owner_a.refresh_from_db()
    assert clerk.role == Role.OPERATOR and owner_a.role == Role.OWNER


def test_the_last_owner_cannot_be_demoted_or_deactivated(owner_a: Staff, client_a: Client) -> None:
    response = client_a.post(
        f"/console/mall/staff/{owner_a.pk}/change/", {"role": Role.ADMIN, "is_active": "on"}
    )

    assert response.status_code == 200
    assert "at least one active owner" in response.content.decode()
    owner_a.refresh_from_db()
    assert owner_a.role == Role.OWNER and owner_a.is_active
    assert (
        client_a.post(f"/console/mall/staff/{owner_a.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )


def test_owner_manages_a_channel(shop_a: Tenant, client_a: Client) -> None:
    response = client_a.post(
        "/console/mall/channel/add/",
        {
            "platform": "wechat",
            "name": "Alpha shop",
            "app_id": "wx-alpha-new",
            "app_secret": "brand-new-secret-xyz",
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    channel = Channel.objects.get(app_id="wx-alpha-new")
    assert channel.tenant_id == shop_a.pk
    assert channel.app_secret == "brand-new-secret-xyz"
