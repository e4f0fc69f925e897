"""Operators' commands: create_tenant, create_api_key, seed_demo (called as operators do)."""

from __future__ import annotations

import importlib.machinery
import re
import sys
import types
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from mall.tenancy.models import ApiKey, Channel, Staff, Tenant
from mall.tenancy.scoping import tenant_owned_models
from mall.tenancy.selectors import api_key_get_by_raw
from members.models import Address, Member, MemberIdentity
from tests.conftest import shopper_client
from tests.mall.factories import ChannelFactory, TenantFactory, UserFactory

User = get_user_model()


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


# --- create_tenant ---------------------------------------------------------------------


def test_create_tenant_with_owner_and_channels(db: Any) -> None:
    out = run(
        "create_tenant",
        "--slug=acme",
        "--name=Acme Tea",
        "--owner-email=Boss@Acme.test",
        "--wechat-app-id=wxacme0000000001",
        "--wechat-app-secret=s3cret-value",
        "--alipay-app-id=2021acme00000001",
    )

    tenant = Tenant.objects.get(slug="acme")
    assert tenant.name == "Acme Tea" and tenant.is_active
    channels = {c.platform: c for c in Channel.objects.for_tenant(tenant)}
    assert set(channels) == {"wechat", "alipay"}
    assert channels["wechat"].app_id == "wxacme0000000001"
    assert channels["wechat"].app_secret == "s3cret-value"
    assert not any(c.is_sandbox for c in channels.values())
    staff = Staff.objects.for_tenant(tenant).get()
    assert staff.role == Staff.Role.OWNER and staff.user.email == "boss@acme.test"
    password = re.search(r"password: (\S+)", out).group(1)
    assert staff.user.check_password(password)
    assert "wxacme0000000001" in out and "2021acme00000001" in out
    assert "s3cret-value" not in out


def test_create_tenant_sandbox_flag_marks_channels(db: Any) -> None:
    run("create_tenant", "--slug=sbx", "--name=Sbx", "--owner-email=o@sbx.test")
    run(
        "create_tenant",
        "--slug=sbx2",
        "--name=Sbx",
        "--owner-email=o2@sbx.test",
        "--wechat-app-id=wxsbx",
        "--sandbox",
    )
    assert Channel.objects.get(app_id="wxsbx").is_sandbox is True
    assert not Channel.objects.filter(tenant__slug="sbx").exists()


def test_create_tenant_for_an_existing_user_prints_no_password(db: Any) -> None:
    user = UserFactory(username="boss@acme.test", email="boss@acme.test")
    out = run("create_tenant", "--slug=acme", "--name=Acme", "--owner-email=boss@acme.test")
    assert "password:" not in out
    assert Staff.objects.get(tenant__slug="acme").user == user
    assert user.check_password("pass-word-123")


def test_create_tenant_duplicate_slug_is_a_clear_error(db: Any) -> None:
    TenantFactory(slug="acme")
    with pytest.raises(CommandError, match="already exists"):
        run("create_tenant", "--slug=acme", "--name=Acme", "--owner-email=b@acme.test")
    assert Tenant.objects.filter(slug="acme").count() == 1
    assert not User.objects.filter(email="b@acme.test").exists()


def test_create_tenant_taken_app_id_creates_nothing(db: Any) -> None:
    ChannelFactory(app_id="wxtaken")
    with pytest.raises(CommandError, match="already registered"):
        run(
            "create_tenant",
            "--slug=acme",
            "--name=Acme",
            "--owner-email=b@acme.test",
            "--wechat-app-id=wxtaken",
        )
    assert not Tenant.objects.filter(slug="acme").exists()
    assert not User.objects.filter(email="b@acme.test").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--slug=Bad Slug", "--name=A", "--owner-email=a@a.test"], "slug"),
        (["--slug=ok", "--name=A", "--owner-email=not-an-email"], "valid email"),
        (["--slug=ok", "--name=  ", "--owner-email=a@a.test"], "--name"),
        (
            ["--slug=ok", "--name=A", "--owner-email=a@a.test", "--wechat-app-secret=x"],
            "--wechat-app-id",
        ),
        (
            [
                "--slug=ok",
                "--name=A",
                "--owner-email=a@a.test",
                "--wechat-app-id=same",
                "--alipay-app-id=same",
            ],
            "differ",
        ),
    ],
)
def test_create_tenant_invalid_input_is_a_clear_error(
    db: Any, args: list[str], message: str
) -> None:
    with pytest.raises(CommandError, match=message):
        run("create_tenant", *args)
    assert not Tenant.objects.exists()


# --- create_api_key --------------------------------------------------------------------


def test_create_api_key_prints_a_working_key_once(tenant: Any) -> None:
    out = run("create_api_key", f"--tenant={tenant.slug}", "--scopes=catalog, orders", "--name=erp")

    raw = out.strip().splitlines()[-1]
    key = api_key_get_by_raw(raw_key=raw)
    assert key is not None and key.tenant == tenant
    assert key.name == "erp" and key.scopes == ["catalog", "orders"]
    assert key.key_hash != raw and raw not in str(ApiKey.objects.values_list())
    assert key.has_scope("orders") and not key.has_scope("finance")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tenant=nope", "--scopes=catalog"], "No tenant"),
        (["--tenant=shop-a", "--scopes=catalog,payroll"], "payroll"),
        (["--tenant=shop-a", "--scopes= , "], "non-empty"),
    ],
)
def test_create_api_key_invalid_input_is_a_clear_error(
    tenant: Any, args: list[str], message: str
) -> None:
    with pytest.raises(CommandError, match=message):
        run("create_api_key", *args)
    assert not ApiKey.objects.exists()


# --- seed_demo -------------------------------------------------------------------------


def row_counts() -> dict[str, int]:
    counts = {m._meta.label: m.objects.count() for m in tenant_owned_models()}
    counts["auth.User"] = User.objects.count()
    counts["mall.Tenant"] = Tenant.objects.count()
    return counts


def test_seed_demo_creates_the_sandbox_demo_shop(db: Any) -> None:
    out = run("seed_demo")

    tenant = Tenant.objects.get(slug="demo")
    channels = {c.platform: c for c in Channel.objects.for_tenant(tenant)}
    assert channels["wechat"].app_id == "wxdemo0000000001"
    assert channels["alipay"].app_id == "2021000000000001"
    assert all(c.is_sandbox for c in channels.values())
    owner = Staff.objects.for_tenant(tenant).get(role=Staff.Role.OWNER).user
    assert owner.email == "owner@demo.local" and owner.check_password("demo-owner-pass")
    assert "wxdemo0000000001" in out and "2021000000000001" in out
    assert "owner@demo.local / demo-owner-pass" in out

    members = Member.objects.for_tenant(tenant)
    assert members.count() >= 3
    assert MemberIdentity.objects.for_tenant(tenant).filter(app_id="wxdemo0000000001").exists()
    assert MemberIdentity.objects.for_tenant(tenant).filter(app_id="2021000000000001").exists()
    for member in members:
        assert Address.objects.for_tenant(tenant).filter(member=member, is_default=True).exists()

    # The growth setup the console's members pages show: three tiers, check-in rewards, a
    # segment that counts the demo members with no paid order in 30 days (the seeded orders
    # make one of them recent).
    from members.segments.models import Segment
    from members.segments.selectors import segment_count
    from members.tiers.models import Tier

    tiers = Tier.objects.for_tenant(tenant).order_by("level")
    assert [(t.name, t.growth_threshold) for t in tiers] == [
        ("Silver", 500),
        ("Gold", 2000),
        ("Diamond", 8000),
    ]
    segment = Segment.objects.for_tenant(tenant).get(name="Demo: quiet for 30 days")
    assert 0 < segment_count(tenant=tenant, segment=segment) < members.count()


def test_seed_demo_is_idempotent(db: Any) -> None:
    run("seed_demo")
    before = row_counts()

    out = run("seed_demo")

    assert row_counts() == before
    assert "owner@demo.local / demo-owner-pass" in out


def test_seed_demo_repairs_a_missing_channel_and_owner(db: Any) -> None:
    run("seed_demo")
    Channel.objects.filter(app_id="2021000000000001").delete()
    Staff.objects.filter(tenant__slug="demo").delete()

    run("seed_demo")

    tenant = Tenant.objects.get(slug="demo")
    assert Channel.objects.for_tenant(tenant).filter(app_id="2021000000000001").exists()
    assert Staff.objects.for_tenant(tenant).filter(user__email="owner@demo.local").exists()


def test_seed_demo_into_an_existing_tenant(tenant: Any, channel: Any) -> None:
    out = run("seed_demo", f"--tenant={tenant.slug}")

    assert not Tenant.objects.filter(slug="demo").exists()
    assert Member.objects.for_tenant(tenant).count() >= 3
    assert MemberIdentity.objects.for_tenant(tenant).filter(app_id=channel.app_id).exists()
    assert channel.app_id in out
    before = row_counts()
    run("seed_demo", f"--tenant={tenant.slug}")
    assert row_counts() == before


def test_seed_demo_unknown_tenant_is_a_clear_error(db: Any) -> None:
    with pytest.raises(CommandError, match="No tenant with slug 'nope'"):
        run("seed_demo", "--tenant=nope")
    assert not Tenant.objects.exists()


def fake_seed_module(monkeypatch: Any, name: str, seed: Any) -> None:
    module = types.ModuleType(name)
    module.__spec__ = importlib.machinery.ModuleSpec(name, None)
    module.seed = seed  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, name, module)


def test_seed_demo_calls_each_apps_seed_module(db: Any, monkeypatch: Any) -> None:
    calls: list[str] = []

    def seed(*, tenant: Tenant, stdout: Any) -> None:
        calls.append(tenant.slug)
        stdout.write("  distribution: seeded")

    fake_seed_module(monkeypatch, "distribution.seed", seed)

    out = run("seed_demo")

    assert calls == ["demo"]
    assert "distribution: seeded" in out


def test_seed_demo_is_all_or_nothing(db: Any, monkeypatch: Any) -> None:
    def seed(*, tenant: Tenant, stdout: Any) -> None:
        raise RuntimeError("seed failed")

    fake_seed_module(monkeypatch, "distribution.seed", seed)

    with pytest.raises(RuntimeError, match="seed failed"):
        run("seed_demo")
    assert not Tenant.objects.filter(slug="demo").exists()
    assert not Member.objects.exists()


def test_seeded_demo_shop_answers_the_shopper_api(db: Any) -> None:
    run("seed_demo")

    response = shopper_client("wxdemo0000000001").get("/api/v1/categories")

    assert response.status_code == 200
    assert response.json()["results"], "the demo shop should show a category tree"
