"""Logging in to the console, the dashboard, and who may not enter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client

from mall.console.dashboard import (
    dashboard_counters,
    overview_queries,
    register_dashboard_counter,
    unregister_dashboard_counter,
)
from mall.tenancy.models import Staff, Tenant
from members.models import Member
from tests.console.conftest import PASSWORD
from tests.mall.factories import ChannelFactory, UserFactory
from tests.members.factories import MemberFactory


def test_owner_logs_in_through_the_login_page_and_sees_the_dashboard(
    owner_a: Staff, channels_a: list[Any], shop_b: Tenant
) -> None:
    ChannelFactory(tenant=shop_b, app_id="wx-bravo-0001")
    assert owner_a.user.is_staff is False  # merchant owners are not Django staff
    client = Client()

    response = client.post(
        "/console/login/?next=/console/",
        {"username": owner_a.user.username, "password": PASSWORD},
    )

    assert response.status_code == 302
    assert response["Location"] == "/console/"
    page = client.get("/console/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Alpha Tea House" in html
    assert "wx-alpha-0001" in html and "2021-alpha-ali" in html
    assert "sandbox" in html and "B2C (single merchant)" in html
    assert "wx-bravo-0001" not in html and "Bravo Bakery" not in html
    assert "alpha-secret-1234567" not in html


def test_user_without_staff_membership_cannot_log_in(db: Any) -> None:
    user = UserFactory(username="shopper@example.com")
    client = Client()

    response = client.post("/console/login/", {"username": user.username, "password": PASSWORD})

    assert response.status_code == 200  # the form again, with the error
    assert "does not belong to any shop" in response.content.decode()
    assert client.get("/console/").status_code == 302


def test_logged_in_user_without_membership_is_sent_to_login(db: Any) -> None:
    client = Client()
    client.force_login(UserFactory(username="nobody@example.com"))

    response = client.get("/console/members/member/")

    assert response.status_code == 302
    assert response["Location"].startswith("/console/login/")


def test_inactive_membership_cannot_enter(owner_a: Staff) -> None:
    Staff.objects.filter(pk=owner_a.pk).update(is_active=False)
    client = Client()

    response = client.post(
        "/console/login/", {"username": owner_a.user.username, "password": PASSWORD}
    )

    assert response.status_code == 200
    assert client.get("/console/").status_code == 302


def test_superuser_without_membership_cannot_enter_console_but_admin_lists_all_tenants(
    shop_a: Tenant, shop_b: Tenant
) -> None:
    operator = UserFactory(username="root@example.com", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(operator)

    assert client.get("/console/").status_code == 302
    response = client.get("/admin/mall/tenant/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Alpha Tea House" in html and "Bravo Bakery" in html


def test_merchant_owner_cannot_open_platform_admin(client_a: Client) -> None:
    response = client_a.get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_superuser_suspends_a_tenant_and_the_console_shows_a_banner(
    shop_a: Tenant, client_a: Client
) -> None:
    operator = UserFactory(username="root@example.com", is_staff=True, is_superuser=True)
    admin_client = Client()
    admin_client.force_login(operator)
    assert "This shop is suspended" not in client_a.get("/console/").content.decode()

    response = admin_client.post(
        "/admin/mall/tenant/",
        {"action": "suspend_selected", "_selected_action": [shop_a.pk]},
    )

    assert response.status_code == 302
    shop_a.refresh_from_db()
    assert shop_a.status == Tenant.Status.SUSPENDED
    page = client_a.get("/console/")
    assert page.status_code == 200
    assert "This shop is suspended" in page.content.decode()


@pytest.mark.parametrize(
    ("tz", "now_utc", "expected_today"),
    [
        # 23:30 UTC = 07:30 next day in Shanghai: only the member created after local midnight.
        ("Asia/Shanghai", datetime(2026, 3, 1, 23, 30, tzinfo=UTC), 1),
        # Same instant in UTC: both members are "today".
        ("UTC", datetime(2026, 3, 1, 23, 30, tzinfo=UTC), 2),
    ],
)
def test_dashboard_counts_today_in_the_tenants_time_zone(
    shop_a: Tenant, client_a: Client, tz: str, now_utc: datetime, expected_today: int
) -> None:
    Tenant.objects.filter(pk=shop_a.pk).update(timezone=tz)
    early = MemberFactory(tenant=shop_a)  # 2026-03-01 10:00 UTC = 18:00 Shanghai
    late = MemberFactory(tenant=shop_a)  # 2026-03-01 17:00 UTC = 01:00 next day in Shanghai
    old = MemberFactory(tenant=shop_a)
    merged = MemberFactory(tenant=shop_a, merged_into=late)
    Member.objects.filter(pk=early.pk).update(created_at=datetime(2026, 3, 1, 10, tzinfo=UTC))
    Member.objects.filter(pk=late.pk).update(created_at=datetime(2026, 3, 1, 17, tzinfo=UTC))
    Member.objects.filter(pk=old.pk).update(created_at=now_utc - timedelta(days=5))
    Member.objects.filter(pk=merged.pk).update(created_at=datetime(2026, 3, 1, 17, tzinfo=UTC))
    MemberFactory()  # another tenant's member

    with time_machine.travel(now_utc, tick=False):
        response = client_a.get("/console/")

    counters = {key: value for key, _, value in response.context["dashboard"].counters}
    assert counters["members_new_today"] == expected_today
    assert counters["members_total"] == 3


def test_dashboard_runs_registered_counters_with_bounded_queries(
    shop_a: Tenant,
    client_a: Client,
    channels_a: list[Any],
    django_assert_max_num_queries: Any,
) -> None:
    calls: list[tuple[int, datetime, datetime]] = []

    def orders_today(tenant: Tenant, start: datetime, end: datetime) -> int:
        calls.append((tenant.pk, start, end))
        return 42

    register_dashboard_counter("test_orders_today", "Orders today", orders_today)
    try:
        MemberFactory.create_batch(5, tenant=shop_a)
        # A fixed base (session, user, staff, channels, page), one query per counter and one
        # per to-do card, KPI source and chart of the business overview.
        with django_assert_max_num_queries(8 + len(dashboard_counters()) + overview_queries()):
            response = client_a.get("/console/")
    finally:
        unregister_dashboard_counter("test_orders_today")

    assert response.status_code == 200
    assert "Orders today" in response.content.decode()
    assert calls and calls[0][0] == shop_a.pk
    assert calls[0][2] - calls[0][1] == timedelta(days=1)


def test_counter_restricted_to_roles_is_hidden_from_other_roles(
    shop_a: Tenant, make_staff: Any, console_client: Any
) -> None:
    register_dashboard_counter(
        "test_revenue", "Revenue today", lambda t, s, e: 7, roles={Staff.Role.FINANCE}
    )
    try:
        finance = console_client(make_staff(shop_a, Staff.Role.FINANCE))
        operator = console_client(make_staff(shop_a, Staff.Role.OPERATOR))
        assert "Revenue today" in finance.get("/console/").content.decode()
        assert "Revenue today" not in operator.get("/console/").content.decode()
    finally:
        unregister_dashboard_counter("test_revenue")
