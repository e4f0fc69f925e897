"""Objects of tenant A for the cross-tenant matrix, each carrying MARKER where it has text."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from catalog.models import Category
from mall.api.models import IdempotencyRecord
from mall.events.models import OutboxEvent
from mall.tenancy.models import ApiKey, Channel, Staff, Tenant
from members.models import Address, Member, MemberIdentity, MemberMerge
from tests.mall.factories import ChannelFactory, StaffFactory, TenantFactory, UserFactory
from tests.security.matrix import MARKER


def make_tenant(suffix: str) -> Tenant:
    return TenantFactory(slug=f"matrix-{suffix}", name=f"Matrix {suffix}")


def make_channel(tenant: Tenant) -> Channel:
    return ChannelFactory(tenant=tenant, app_id=f"wx-matrix-{tenant.slug}")


def make_member(tenant: Tenant, nickname: str = MARKER) -> Member:
    return Member.objects.create(tenant=tenant, nickname=nickname)


def make_owner(tenant: Tenant) -> Staff:
    return StaffFactory(tenant=tenant, user=UserFactory(username=f"owner-{tenant.slug}@x.test"))


def _channel(t: Tenant) -> Channel:
    return ChannelFactory(tenant=t, name=MARKER)


def _staff(t: Tenant) -> Staff:
    return StaffFactory(
        tenant=t, role=Staff.Role.OPERATOR, user=UserFactory(username=f"{MARKER}-op@x.test")
    )


def _api_key(t: Tenant) -> ApiKey:
    return ApiKey.objects.create(
        tenant=t, name=MARKER, prefix="abcd", key_hash="0" * 64, scopes=["catalog"]
    )


def _identity(t: Tenant) -> MemberIdentity:
    return MemberIdentity.objects.create(
        tenant=t, member=make_member(t), platform="wechat", app_id="wx-a", openid=MARKER
    )


def _address(t: Tenant) -> Address:
    return Address.objects.create(
        tenant=t,
        member=make_member(t),
        name=MARKER,
        phone="13800138000",
        province="Guangdong",
        city="Shenzhen",
        detail=MARKER,
    )


def _merge(t: Tenant) -> MemberMerge:
    return MemberMerge.objects.create(
        tenant=t,
        survivor=make_member(t),
        merged=make_member(t),
        phone="13800138000",
        moved={"note": MARKER},
    )


MODEL_FACTORIES: dict[str, Callable[[Tenant], Any]] = {
    "mall.Channel": _channel,
    "mall.Staff": _staff,
    "mall.ApiKey": _api_key,
    "mall.IdempotencyRecord": lambda t: IdempotencyRecord.objects.create(
        tenant=t, principal="member:1", key=MARKER, method="POST", path="/x", request_hash="0"
    ),
    "mall.OutboxEvent": lambda t: OutboxEvent.objects.create(tenant=t, name="x", subject=MARKER),
    "members.Member": lambda t: make_member(t),
    "members.MemberIdentity": _identity,
    "members.Address": _address,
    "members.MemberMerge": _merge,
    "catalog.Category": lambda t: Category.objects.create(tenant=t, name=MARKER),
}

# Filled as the apps grow: route -> case, and models that the console does not show.
ROUTES: dict[str, Any] = {}
NOT_IN_CONSOLE: dict[str, str] = {}
# Console registrations of models that are not tenant-owned (must be scoped by other means).
CONSOLE_GLOBAL_MODELS: set[str] = set()
