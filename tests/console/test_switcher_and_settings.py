"""The tenant switcher (several memberships) and the shop's own settings page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from mall.tenancy.models import Staff, Tenant
from tests.mall.factories import StaffFactory, TenantFactory
from tests.members.factories import MemberFactory


def test_staff_of_two_shops_switches_between_them(
    shop_a: Tenant, shop_b: Tenant, owner_a: Staff, client_a: Client
) -> None:
    StaffFactory(tenant=shop_b, user=owner_a.user, role=Staff.Role.OPERATOR)
    MemberFactory(tenant=shop_a, nickname="alpha-only")
    MemberFactory(tenant=shop_b, nickname="bravo-only")
    page = client_a.get("/console/").content.decode()
    assert 'id="tenant-switcher"' in page and "Bravo Bakery" in page

    response = client_a.post("/console/switch-tenant/", {"tenant_id": shop_b.pk})

    assert response.status_code == 302
    dashboard = client_a.get("/console/")
    assert dashboard.context["dashboard"].tenant == shop_b
    members = client_a.get("/console/members/member/").content.decode()
    assert "bravo-only" in members and "alpha-only" not in members
    # Operator in shop B: staff management is closed there.
    assert client_a.get("/console/mall/staff/").status_code == 403


def test_switcher_refuses_a_shop_the_user_is_not_staff_of(shop_a: Tenant, client_a: Client) -> None:
    stranger = TenantFactory(slug="stranger", name="Stranger Shop")

    response = client_a.post("/console/switch-tenant/", {"tenant_id": stranger.pk})
    garbage = client_a.post("/console/switch-tenant/", {"tenant_id": "x"})

    assert response.status_code == 404
    assert garbage.status_code == 404
    assert "console_tenant_id" not in client_a.session
    assert client_a.get("/console/").context["dashboard"].tenant == shop_a


def test_switcher_requires_post_and_csrf(shop_b: Tenant, owner_a: Staff) -> None:
    StaffFactory(tenant=shop_b, user=owner_a.user)
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner_a.user)

    assert client.get("/console/switch-tenant/").status_code == 405
    assert client.post("/console/switch-tenant/", {"tenant_id": shop_b.pk}).status_code == 403
    assert "console_tenant_id" not in client.session


def test_a_stale_session_choice_falls_back_to_an_own_membership(
    shop_a: Tenant, shop_b: Tenant, client_a: Client
) -> None:
    session = client_a.session
    session["console_tenant_id"] = shop_b.pk  # not a membership of this user
    session.save()

    assert client_a.get("/console/").context["dashboard"].tenant == shop_a


def test_owner_edits_the_shop_settings_but_not_slug_or_status(
    shop_a: Tenant, client_a: Client
) -> None:
    response = client_a.post(
        "/console/settings/",
        {
            "name": "Alpha Tea House (Nanshan)",
            "timezone": "Asia/Hong_Kong",
            "order_timeout_minutes": 45,
            "auto_receive_days": 12,
            "after_sale_days": 14,
            "slug": "hijacked",
            "status": "active",
            "business_model": "bbc",
        },
    )

    assert response.status_code == 302
    shop_a.refresh_from_db()
    assert shop_a.name == "Alpha Tea House (Nanshan)"
    assert shop_a.timezone == "Asia/Hong_Kong"
    assert (shop_a.order_timeout_minutes, shop_a.auto_receive_days, shop_a.after_sale_days) == (
        45,
        12,
        14,
    )
    assert (shop_a.slug, shop_a.business_model) == ("console-a", "b2c")


def test_invalid_settings_are_refused_with_errors(shop_a: Tenant, client_a: Client) -> None:
    response = client_a.post(
        "/console/settings/",
        {
            "name": "",
            "timezone": "Mars/Olympus",
            "order_timeout_minutes": 1,
            "auto_receive_days": 10,
            "after_sale_days": 7,
        },
    )

    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"name", "timezone", "order_timeout_minutes"}
    shop_a.refresh_from_db()
    assert shop_a.name == "Alpha Tea House" and shop_a.timezone == "Asia/Shanghai"


def test_settings_are_read_only_for_admins_and_closed_to_others(
    shop_a: Tenant, make_staff: Callable[..., Staff], console_client: Callable[[Staff], Any]
) -> None:
    admin = console_client(make_staff(shop_a, Staff.Role.ADMIN))
    operator = console_client(make_staff(shop_a, Staff.Role.OPERATOR))

    page = admin.get("/console/settings/")
    post = admin.post("/console/settings/", {"name": "Renamed"})

    assert page.status_code == 200 and "Only the shop owner" in page.content.decode()
    assert post.status_code == 403
    assert operator.get("/console/settings/").status_code == 403
    shop_a.refresh_from_db()
    assert shop_a.name == "Alpha Tea House"


def test_settings_service_refuses_fields_it_does_not_own(tenant: Any) -> None:
    from mall.api.errors import ApplicationError
    from mall.console.services import tenant_settings_update

    with pytest.raises(ApplicationError) as caught:
        tenant_settings_update(tenant=tenant, data={"slug": "stolen"})
    assert caught.value.code == "validation_error"
    assert caught.value.details == {"fields": ["slug"]}
