"""Console fixtures: two shops with staff of every role, logged-in clients."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from mall.tenancy.models import Staff, Tenant
from tests.mall.factories import ChannelFactory, StaffFactory, TenantFactory, UserFactory

PASSWORD = "pass-word-123"


@pytest.fixture
def shop_a(db: Any) -> Tenant:
    return TenantFactory(slug="console-a", name="Alpha Tea House")


@pytest.fixture
def shop_b(db: Any) -> Tenant:
    return TenantFactory(slug="console-b", name="Bravo Bakery")


@pytest.fixture
def make_staff(db: Any) -> Callable[..., Staff]:
    def make(tenant: Tenant, role: str = Staff.Role.OWNER, email: str | None = None) -> Staff:
        user = UserFactory(username=email or f"{role}-{tenant.slug}@example.com")
        return StaffFactory(tenant=tenant, user=user, role=role)

    return make


@pytest.fixture
def console_client() -> Callable[[Staff], Client]:
    def make(staff: Staff) -> Client:
        client = Client()
        client.force_login(staff.user)
        return client

    return make


@pytest.fixture
def owner_a(shop_a: Tenant, make_staff: Callable[..., Staff]) -> Staff:
    return make_staff(shop_a, Staff.Role.OWNER)


@pytest.fixture
def owner_b(shop_b: Tenant, make_staff: Callable[..., Staff]) -> Staff:
    return make_staff(shop_b, Staff.Role.OWNER)


@pytest.fixture
def client_a(owner_a: Staff, console_client: Callable[[Staff], Client]) -> Client:
    return console_client(owner_a)


@pytest.fixture
def client_b(owner_b: Staff, console_client: Callable[[Staff], Client]) -> Client:
    return console_client(owner_b)


@pytest.fixture
def channels_a(shop_a: Tenant) -> list[Any]:
    return [
        ChannelFactory(
            tenant=shop_a,
            app_id="wx-alpha-0001",
            name="Alpha WeChat",
            app_secret="alpha-secret-1234567",
        ),
        ChannelFactory(
            tenant=shop_a,
            platform="alipay",
            app_id="2021-alpha-ali",
            name="Alpha Alipay",
            app_secret="",
            is_sandbox=True,
        ),
    ]


@pytest.fixture
def as_role(
    shop_a: Tenant, make_staff: Callable[..., Staff], console_client: Callable[[Staff], Client]
) -> Callable[[str], Client]:
    return lambda role: console_client(make_staff(shop_a, role))
