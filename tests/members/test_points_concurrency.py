"""Concurrency on PostgreSQL (real threads, real transactions): simultaneous spends of the same
points never take more than the balance."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection, transaction

from mall.errors import ApplicationError
from members.models import Member, PointsLot
from members.points import services
from tests.members.factories import MemberFactory
from tests.members.points_helpers import assert_invariant

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
THREADS = 20


@pytest.fixture(autouse=True)
def _needs_postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL) for real row locks and concurrent commits")


def test_20_simultaneous_spends_never_go_below_zero(tenant: Any) -> None:
    member = MemberFactory(tenant=tenant)
    for n, points in enumerate((40, 30, 30)):  # three lots, 100 points
        services.points_earn(
            tenant=tenant, member_id=member.pk, points=points, reason="adjust", ref=f"seed{n}"
        )
    barrier = threading.Barrier(THREADS)

    def spend(n: int) -> str:
        try:
            barrier.wait()
            with transaction.atomic():
                services.points_spend(
                    tenant=tenant, member_id=member.pk, points=30, order_number=f"S{n}"
                )
            return "ok"
        except ApplicationError as exc:
            return exc.code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        outcomes = list(pool.map(spend, range(THREADS)))

    assert outcomes.count("ok") == 3
    assert outcomes.count("insufficient_points") == 17
    fresh = Member.objects.get(pk=member.pk)
    assert (fresh.points, fresh.points_debt) == (10, 0)
    assert sorted(PointsLot.objects.for_tenant(tenant).values_list("remaining", flat=True)) == [
        0,
        0,
        10,
    ]
    assert assert_invariant(tenant, member) == 10


def test_20_simultaneous_check_ins_make_one(tenant: Any) -> None:
    from members.checkin.models import CheckIn, CheckInReward
    from members.checkin.services import checkin_do

    CheckInReward.objects.create(tenant=tenant, day=1, points=7)
    member = MemberFactory(tenant=tenant)
    barrier = threading.Barrier(THREADS)

    def check_in(n: int) -> bool:
        try:
            barrier.wait()
            return checkin_do(tenant=tenant, member=member).created
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        outcomes = list(pool.map(check_in, range(THREADS)))

    assert outcomes.count(True) == 1
    assert CheckIn.objects.for_tenant(tenant).filter(member=member).count() == 1
    assert Member.objects.get(pk=member.pk).points == 7
    assert assert_invariant(tenant, member) == 7
