"""The demo seed: distribution on, two grades, a 3-level chain, bindings; idempotent."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management.base import OutputWrapper

from distribution.models import Binding, DistributionSettings, Distributor, DistributorGrade
from distribution.seed import seed
from members.models import Member
from members.seed import seed_members

pytestmark = pytest.mark.django_db


def counts(tenant: Any) -> dict[str, int]:
    return {
        model.__name__: model.objects.for_tenant(tenant).count()
        for model in (DistributionSettings, DistributorGrade, Distributor, Binding, Member)
    }


def run(tenant: Any) -> str:
    out = io.StringIO()
    seed(tenant=tenant, stdout=OutputWrapper(out))
    return out.getvalue()


def test_seed_builds_a_three_level_chain_and_is_idempotent(tenant: Any, channel: Any) -> None:
    seed_members(tenant=tenant, stdout=OutputWrapper(io.StringIO()))

    out = run(tenant)

    config = DistributionSettings.objects.for_tenant(tenant).get()
    assert config.enabled and config.tiers == 3
    assert list(
        DistributorGrade.objects.for_tenant(tenant).values_list("name", "level", "is_default")
    ) == [("Silver", 1, True), ("Gold", 2, False)]
    by_phone = {
        d.member.phone: d
        for d in Distributor.objects.for_tenant(tenant).select_related("member", "grade")
    }
    top, middle, bottom = (by_phone[p] for p in ("13800000001", "13800000002", "13800000003"))
    assert {d.status for d in by_phone.values()} == {"approved"}
    assert {d.grade.name for d in by_phone.values()} == {"Silver"}
    assert (top.parent_id, middle.parent_id, bottom.parent_id) == (None, top.pk, middle.pk)
    assert (bottom.ancestor2_id, bottom.path) == (top.pk, f"/{top.pk}/{middle.pk}/{bottom.pk}/")
    owners = {
        b.customer.phone: b.distributor_id
        for b in Binding.objects.for_tenant(tenant)
        .filter(is_current=True)
        .select_related("customer")
    }
    assert owners["13800000011"] == bottom.pk
    assert owners["13800000012"] == middle.pk
    assert owners["13800000003"] == middle.pk  # bound to its inviter when it applied
    assert f"{top.share_code} -> {middle.share_code} -> {bottom.share_code}" in out

    before = counts(tenant)
    again = run(tenant)

    assert counts(tenant) == before
    assert "0 new grades" in again and "0 new bindings" in again


def test_seed_leaves_a_shop_that_switched_distribution_off_alone(tenant: Any) -> None:
    seed_members(tenant=tenant, stdout=OutputWrapper(io.StringIO()))
    run(tenant)
    DistributionSettings.objects.for_tenant(tenant).update(enabled=False)
    before = counts(tenant)

    out = run(tenant)

    assert "switched off" in out
    assert counts(tenant) == before
    assert not DistributionSettings.objects.for_tenant(tenant).get().enabled


def test_seed_without_the_demo_members_still_runs(tenant: Any) -> None:
    out = run(tenant)

    assert "none (demo members missing)" in out
    assert Distributor.objects.for_tenant(tenant).count() == 0
    assert DistributorGrade.objects.for_tenant(tenant).count() == 2
