"""The points ledger: lots, FIFO spending, returns, reversals with debt, expiry, adjustments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine

from mall.errors import ApplicationError
from mall.events.models import OutboxEvent
from members.models import Member, PointsLedger, PointsLot, PointsLotMove, PointsSettings
from members.points import rules, services
from members.points.models import Reason
from tests.members.factories import MemberFactory
from tests.members.points_helpers import assert_invariant

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai


@pytest.fixture
def member(tenant: Any) -> Member:
    return MemberFactory(tenant=tenant)


@pytest.fixture
def days_rule(tenant: Any) -> PointsSettings:
    return PointsSettings.objects.create(
        tenant=tenant, expiry=PointsSettings.Expiry.DAYS, expiry_days=30
    )


def _earn(tenant: Any, member: Member, points: int, ref: str, now: datetime) -> PointsLedger:
    entry = services.points_earn(
        tenant=tenant,
        member_id=member.pk,
        points=points,
        reason=Reason.EARN_ORDER,
        ref=ref,
        order_number=ref,
        now=now,
    )
    assert entry is not None
    return entry


def _balance(tenant: Any, member: Member) -> tuple[int, int]:
    fresh = Member.objects.for_tenant(tenant).get(pk=member.pk)
    return fresh.points, fresh.points_debt


def _remaining(tenant: Any, entry: PointsLedger) -> int:
    return PointsLot.objects.for_tenant(tenant).get(pk=entry.lot_id).remaining


def test_earn_creates_a_lot_expiring_at_the_end_of_the_next_year(
    tenant: Any, member: Member
) -> None:
    entry = _earn(tenant, member, 120, "O1", T0)

    lot = PointsLot.objects.for_tenant(tenant).get(pk=entry.lot_id)
    assert (lot.points, lot.remaining, lot.reason, lot.ref) == (120, 120, "earn_order", "O1")
    # End of 2027 in the shop's time zone (Asia/Shanghai): 2027-12-31 16:00 UTC.
    assert lot.expires_at == datetime(2027, 12, 31, 16, 0, tzinfo=UTC)
    assert (entry.delta, entry.balance_after) == (120, 120)
    assert _balance(tenant, member) == (120, 0)
    assert assert_invariant(tenant, member) == 120


def test_earn_with_the_days_rule_and_idempotent_per_ref(
    tenant: Any, member: Member, days_rule: PointsSettings
) -> None:
    first = _earn(tenant, member, 50, "O1", T0)
    again = _earn(tenant, member, 50, "O1", T0 + timedelta(hours=1))

    assert again.pk == first.pk
    assert PointsLot.objects.for_tenant(tenant).get().expires_at == T0 + timedelta(days=30)
    assert _balance(tenant, member) == (50, 0)


def test_fifo_spend_across_three_lots_with_one_expired(
    tenant: Any, member: Member, days_rule: PointsSettings
) -> None:
    a = _earn(tenant, member, 100, "A", T0)  # expires T0+30d
    b = _earn(tenant, member, 200, "B", T0 + timedelta(days=10))  # T0+40d
    c = _earn(tenant, member, 300, "C", T0 + timedelta(days=20))  # T0+50d
    now = T0 + timedelta(days=35)  # A expired (not swept yet)

    spend = services.points_spend(
        tenant=tenant, member_id=member.pk, points=350, order_number="S1", now=now
    )

    assert (_remaining(tenant, a), _remaining(tenant, b), _remaining(tenant, c)) == (0, 0, 150)
    moves = list(
        PointsLotMove.objects.for_tenant(tenant)
        .filter(entry=spend)
        .order_by("id")
        .values_list("lot_id", "points")
    )
    assert moves == [(b.lot_id, -200), (c.lot_id, -150)]
    assert PointsLot.objects.for_tenant(tenant).get(pk=a.lot_id).expired_points == 100
    reasons = list(
        PointsLedger.objects.for_tenant(tenant).order_by("id").values_list("reason", "delta")
    )
    assert reasons[-2:] == [("expire", -100), ("spend_order", -350)]
    assert _balance(tenant, member) == (150, 0)
    assert assert_invariant(tenant, member) == 150


def test_spend_more_than_the_balance_is_refused(tenant: Any, member: Member) -> None:
    _earn(tenant, member, 100, "A", T0)

    with pytest.raises(ApplicationError) as caught:
        services.points_spend(
            tenant=tenant, member_id=member.pk, points=101, order_number="S1", now=T0
        )

    assert caught.value.code == "insufficient_points"
    assert caught.value.details == {"requested": 101, "available": 100}
    assert _balance(tenant, member) == (100, 0)


def test_return_of_an_order_that_spent_from_two_lots(
    tenant: Any, member: Member, days_rule: PointsSettings
) -> None:
    a = _earn(tenant, member, 100, "A", T0)  # expires T0+30d
    b = _earn(tenant, member, 200, "B", T0 + timedelta(days=10))
    services.points_spend(
        tenant=tenant,
        member_id=member.pk,
        points=250,
        order_number="S1",
        now=T0 + timedelta(days=11),
    )
    assert (_remaining(tenant, a), _remaining(tenant, b)) == (0, 50)

    entry = services.points_return_order(
        tenant=tenant, order_number="S1", now=T0 + timedelta(days=12)
    )
    again = services.points_return_order(
        tenant=tenant, order_number="S1", now=T0 + timedelta(days=12)
    )

    assert entry is not None and again is not None and again.pk == entry.pk
    assert entry.delta == 250
    assert (_remaining(tenant, a), _remaining(tenant, b)) == (100, 200)
    assert _balance(tenant, member) == (300, 0)
    assert assert_invariant(tenant, member) == 300


def test_a_return_into_an_expired_lot_comes_back_already_expired(
    tenant: Any, member: Member, days_rule: PointsSettings
) -> None:
    a = _earn(tenant, member, 100, "A", T0)  # expires T0+30d
    b = _earn(tenant, member, 200, "B", T0 + timedelta(days=10))  # T0+40d
    services.points_spend(
        tenant=tenant,
        member_id=member.pk,
        points=250,
        order_number="S1",
        now=T0 + timedelta(days=11),
    )
    # A expired with nothing left in it; B still has 50.

    entry = services.points_return_order(
        tenant=tenant, order_number="S1", now=T0 + timedelta(days=31)
    )

    assert entry is not None and entry.delta == 250
    lot_a = PointsLot.objects.for_tenant(tenant).get(pk=a.lot_id)
    assert (lot_a.remaining, lot_a.expired, lot_a.expired_points) == (0, True, 100)
    assert _remaining(tenant, b) == 200
    rows = list(
        PointsLedger.objects.for_tenant(tenant)
        .order_by("id")
        .values_list("reason", "delta", "balance_after")
    )
    assert rows[-2:] == [("return_order", 250, 300), ("expire", -100, 200)]
    assert _balance(tenant, member) == (200, 0)
    assert assert_invariant(tenant, member) == 200


def test_reversal_after_the_points_were_spent_makes_debt_paid_by_the_next_earning(
    tenant: Any, member: Member
) -> None:
    earned = _earn(tenant, member, 100, "O1", T0)
    services.points_spend(tenant=tenant, member_id=member.pk, points=80, order_number="S1", now=T0)

    reversal = services.points_reverse_order(tenant=tenant, order_number="O1", now=T0)

    assert reversal is not None and reversal.delta == -100
    assert _remaining(tenant, earned) == 0
    assert _balance(tenant, member) == (-80, 80)
    assert (reversal.balance_after, reversal.debt_after) == (-80, 80)
    assert assert_invariant(tenant, member) == -80
    # Nothing more to reverse.
    assert services.points_reverse_order(tenant=tenant, order_number="O1", ref="x", now=T0) is None

    nxt = _earn(tenant, member, 50, "O2", T0)
    lot = PointsLot.objects.for_tenant(tenant).get(pk=nxt.lot_id)
    assert (lot.points, lot.remaining, lot.debt_paid) == (50, 0, 50)
    assert _balance(tenant, member) == (-30, 30)

    last = _earn(tenant, member, 100, "O3", T0)
    assert _remaining(tenant, last) == 70
    assert _balance(tenant, member) == (70, 0)
    assert assert_invariant(tenant, member) == 70


def test_reversal_takes_from_its_lot_first_then_fifo(tenant: Any, member: Member) -> None:
    old = _earn(tenant, member, 100, "O1", T0)
    mine = _earn(tenant, member, 60, "O2", T0 + timedelta(days=400))  # expires later
    services.points_spend(
        tenant=tenant,
        member_id=member.pk,
        points=40,
        order_number="S1",
        now=T0 + timedelta(days=401),
    )  # from the old lot (FIFO): old 60 left, mine 60

    services.points_adjust(
        tenant=tenant, member_id=member.pk, delta=-90, note="damaged", actor="t", now=T0
    )  # old 0, mine 30
    reversal = services.points_reverse_order(tenant=tenant, order_number="O2", now=T0)

    assert reversal is not None and reversal.delta == -60
    assert (_remaining(tenant, old), _remaining(tenant, mine)) == (0, 0)
    assert _balance(tenant, member) == (-30, 30)
    assert assert_invariant(tenant, member) == -30


def test_partial_refund_reverses_in_proportion(tenant: Any, member: Member) -> None:
    _earn(tenant, member, 99, "O1", T0)

    first = services.points_reverse_for_refund(
        tenant=tenant,
        order_number="O1",
        paid_amount=Decimal("99.00"),
        refunded_amount=Decimal("33.00"),
        refund_ref="after_sale:1",
        now=T0,
    )
    second = services.points_reverse_for_refund(
        tenant=tenant,
        order_number="O1",
        paid_amount=Decimal("99.00"),
        refunded_amount=Decimal("99.00"),
        refund_ref="after_sale:2",
        now=T0,
    )

    assert first is not None and first.delta == -33
    assert second is not None and second.delta == -66
    assert _balance(tenant, member) == (0, 0)


def test_expiry_sweep_is_set_based_and_idempotent(tenant: Any, days_rule: PointsSettings) -> None:
    m1, m2 = MemberFactory(tenant=tenant), MemberFactory(tenant=tenant)
    _earn(tenant, m1, 10, "A", T0)
    _earn(tenant, m1, 20, "B", T0 + timedelta(days=1))
    _earn(tenant, m1, 40, "C", T0 + timedelta(days=20))
    _earn(tenant, m2, 5, "D", T0)
    services.points_spend(tenant=tenant, member_id=m2.pk, points=5, order_number="S", now=T0)

    expired = services.points_expire_due(now=T0 + timedelta(days=31, hours=1))
    again = services.points_expire_due(now=T0 + timedelta(days=31, hours=1))

    assert (expired, again) == (3, 0)
    assert _balance(tenant, m1) == (40, 0)
    assert _balance(tenant, m2) == (0, 0)
    rows = list(
        PointsLedger.objects.for_tenant(tenant)
        .filter(member=m1, reason="expire")
        .order_by("id")
        .values_list("delta", "balance_after")
    )
    assert rows == [(-10, 60), (-20, 40)]
    assert assert_invariant(tenant, m1) == 40
    assert assert_invariant(tenant, m2) == 0


def test_expiry_notice_seven_days_before_once(tenant: Any, days_rule: PointsSettings) -> None:
    m1 = MemberFactory(tenant=tenant)
    _earn(tenant, m1, 10, "A", T0)  # expires T0+30d
    _earn(tenant, m1, 20, "B", T0 + timedelta(days=2))  # T0+32d
    _earn(tenant, m1, 40, "C", T0 + timedelta(days=10))  # T0+40d: not yet

    sent = services.points_expiry_notify(now=T0 + timedelta(days=25))
    again = services.points_expiry_notify(now=T0 + timedelta(days=25, hours=1))

    assert (sent, again) == (1, 0)
    event = OutboxEvent.objects.for_tenant(tenant).get(name="points.expiring")
    assert event.subject == f"member:{m1.pk}"
    assert event.payload == {
        "member_id": m1.pk,
        "points": 30,
        "expires_at": (T0 + timedelta(days=30)).isoformat(),
    }


def test_adjust_needs_a_reason_and_cannot_go_below_zero(tenant: Any, member: Member) -> None:
    with pytest.raises(ApplicationError) as no_reason:
        services.points_adjust(
            tenant=tenant, member_id=member.pk, delta=10, note=" ", actor="staff:1"
        )
    assert no_reason.value.code == "invalid_points"

    up = services.points_adjust(
        tenant=tenant, member_id=member.pk, delta=30, note="goodwill", actor="staff:1", now=T0
    )
    with pytest.raises(ApplicationError) as short:
        services.points_adjust(
            tenant=tenant, member_id=member.pk, delta=-31, note="fix", actor="staff:1", now=T0
        )
    down = services.points_adjust(
        tenant=tenant, member_id=member.pk, delta=-12, note="fix", actor="staff:1", now=T0
    )

    assert short.value.code == "insufficient_points"
    assert (up.delta, up.reason, up.note, up.actor) == (30, "adjust", "goodwill", "staff:1")
    assert (down.delta, down.balance_after) == (-12, 18)
    assert assert_invariant(tenant, member) == 18


def test_earn_multiplier_registry_multiplies_the_factors(tenant: Any, member: Member) -> None:
    def double(m: Member) -> Decimal:
        return Decimal("2")

    def plus_half(m: Member) -> Decimal:
        return Decimal("1.5")

    assert rules.earn_multiplier(member) == Decimal(1)
    rules.register_earn_multiplier(double)
    rules.register_earn_multiplier(plus_half)
    rules.register_earn_multiplier(double)  # once
    try:
        assert rules.earn_multiplier(member) == Decimal("3.0")
        result = services.points_earn_for_order(
            tenant=tenant,
            member_id=member.pk,
            order_number="O1",
            paid_amount=Decimal("33.33"),
            first_order=False,
            now=T0,
        )
    finally:
        rules.unregister_earn_multiplier(double)
        rules.unregister_earn_multiplier(plus_half)

    assert result == services.OrderEarning(points=99, bonus=0)  # floor(33.33 x 3)


def test_beat_tasks_run_the_sweeps(tenant: Any, member: Member, days_rule: PointsSettings) -> None:
    from members import tasks

    _earn(tenant, member, 10, "A", T0)
    with time_machine.travel(T0 + timedelta(days=25), tick=False):
        assert tasks.points_expiry_notify() == 1
    with time_machine.travel(T0 + timedelta(days=30, seconds=1), tick=False):
        assert tasks.points_expire() == 1
    assert _balance(tenant, member) == (0, 0)
