"""Growth under concurrency on PostgreSQL (real threads and transactions): the same ref
granted 20 times at once counts once; 20 different grants add up exactly, and each tier is
reached once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection

from members.models import GrowthEntry, Member, MemberTier, Tier, TierChange
from members.tiers.services import growth_grant
from tests.members.factories import MemberFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
N = 20


@pytest.fixture(autouse=True)
def _needs_postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL) for real row locks and concurrent commits")


def _run(fn: Any) -> list[Any]:
    barrier = threading.Barrier(N)

    def task(n: int) -> Any:
        try:
            barrier.wait()
            return fn(n)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=N) as pool:
        return list(pool.map(task, range(N)))


def test_the_same_ref_twenty_times_at_once_counts_once(tenant: Any) -> None:
    member = MemberFactory(tenant=tenant)
    entries = _run(
        lambda n: growth_grant(
            tenant=tenant, member=member.pk, amount=30, reason="checkin", ref="checkin:1"
        )
    )
    assert len({e.pk for e in entries}) == 1
    assert Member.objects.get(pk=member.pk).growth == 30
    assert GrowthEntry.objects.filter(member=member).count() == 1


def test_twenty_grants_at_once_add_up_and_each_tier_is_reached_once(tenant: Any) -> None:
    silver = Tier.objects.create(tenant=tenant, name="Silver", level=1, growth_threshold=50)
    gold = Tier.objects.create(tenant=tenant, name="Gold", level=2, growth_threshold=150)
    member = MemberFactory(tenant=tenant)
    _run(
        lambda n: growth_grant(
            tenant=tenant, member=member.pk, amount=10, reason="order", ref=f"order:{n}"
        )
    )
    assert Member.objects.get(pk=member.pk).growth == 200
    assert sorted(
        GrowthEntry.objects.filter(member=member).values_list("balance_after", flat=True)
    ) == list(range(10, 201, 10))
    assert MemberTier.objects.get(member=member).tier == gold
    assert list(
        TierChange.objects.filter(member=member).order_by("id").values_list("to_tier", flat=True)
    ) == [silver.pk, gold.pk]
