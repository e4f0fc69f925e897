"""Property: over random earn / spend / return / reverse / adjust / expire sequences the ledger
invariant holds after every step and no point is created or lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mall.errors import ApplicationError
from members.models import PointsLedger, PointsLot, PointsSettings
from members.points import services
from members.points.models import Reason
from tests.members.factories import MemberFactory
from tests.members.points_helpers import assert_invariant

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 1, 1, tzinfo=UTC)

step = st.one_of(
    st.tuples(st.just("earn"), st.integers(1, 300)),
    st.tuples(st.just("spend"), st.integers(1, 300)),
    st.tuples(st.just("return"), st.integers(0, 9)),
    st.tuples(st.just("reverse"), st.integers(0, 9), st.integers(1, 300)),
    st.tuples(st.just("adjust"), st.integers(-200, 200).filter(bool)),
    st.tuples(st.just("sweep"), st.integers(0, 20)),
    st.tuples(st.just("wait"), st.integers(1, 20)),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(step, min_size=1, max_size=25))
def test_ledger_invariant_and_conservation(tenant: Any, steps: list[tuple[Any, ...]]) -> None:
    PointsSettings.objects.update_or_create(
        tenant=tenant, defaults={"expiry": PointsSettings.Expiry.DAYS, "expiry_days": 15}
    )
    member = MemberFactory(tenant=tenant)
    now = T0
    earned: list[str] = []
    spent: list[str] = []
    for n, action in enumerate(steps):
        kind = action[0]
        ref = f"{member.pk}-{n}"
        try:
            if kind == "earn":
                services.points_earn(
                    tenant=tenant,
                    member_id=member.pk,
                    points=action[1],
                    reason=Reason.EARN_ORDER,
                    ref=ref,
                    order_number=ref,
                    now=now,
                )
                earned.append(ref)
            elif kind == "spend":
                services.points_spend(
                    tenant=tenant, member_id=member.pk, points=action[1], order_number=ref, now=now
                )
                spent.append(ref)
            elif kind == "return" and spent:
                services.points_return_order(
                    tenant=tenant, order_number=spent[action[1] % len(spent)], now=now
                )
            elif kind == "reverse" and earned:
                services.points_reverse_order(
                    tenant=tenant,
                    order_number=earned[action[1] % len(earned)],
                    points=action[2],
                    ref=ref,
                    now=now,
                )
            elif kind == "adjust":
                services.points_adjust(
                    tenant=tenant,
                    member_id=member.pk,
                    delta=action[1],
                    note="property",
                    actor="test",
                    now=now,
                )
            elif kind == "sweep":
                now += timedelta(days=action[1])
                services.points_expire_due(now=now)
            elif kind == "wait":
                now += timedelta(days=action[1])
        except ApplicationError as exc:
            assert exc.code == "insufficient_points"
        assert_invariant(tenant, member)

    rows = PointsLedger.objects.for_tenant(tenant).filter(member=member)
    lots = PointsLot.objects.for_tenant(tenant).filter(member=member)

    def total(qs: Any, field: str) -> int:
        return qs.aggregate(s=Sum(field))["s"] or 0

    # Every lot's points came from one earning row (earn or positive adjustment).
    assert total(lots, "points") == total(
        rows.filter(delta__gt=0).exclude(reason="return_order"), "delta"
    )
    # Expired points in the lots are exactly the expiry rows.
    assert total(lots, "expired_points") == -total(rows.filter(reason="expire"), "delta")
    # A return gives back exactly what its order spent, never more.
    for ref in spent:
        spend = rows.filter(reason="spend_order", ref=ref).first()
        back = rows.filter(reason="return_order", ref=ref).first()
        if spend and back:
            assert back.delta == -spend.delta
    # Reversals never exceed what the order earned.
    for ref in earned:
        reversed_ = -total(rows.filter(reason="reverse_order", order_number=ref), "delta")
        assert reversed_ <= total(rows.filter(reason="earn_order", ref=ref), "delta")
