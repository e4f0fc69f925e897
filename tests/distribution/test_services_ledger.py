"""Withdrawal lifecycle, team rewards, merge handlers, and the ledger invariant."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from distribution.models import Commission, Distributor, LedgerEntry, TeamReward
from distribution.services import (
    attribution_snapshot,
    commissions_create_for_order,
    commissions_reverse_for_refund,
    commissions_settle_due,
    ledger_balance,
    team_rewards_compute,
    withdrawal_approve,
    withdrawal_mark_paid,
    withdrawal_reject,
    withdrawal_request,
)
from mall.api.errors import ApplicationError
from members.services.merge import member_merge_locked
from tests.distribution import factories as f
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


def settled_order(tenant: Any, buyer: Any, payable: str) -> Any:
    order = f.paid_order(
        tenant,
        buyer,
        [{"payable": payable}],
        distribution=attribution_snapshot(tenant=tenant, member=buyer),
    )
    commissions_create_for_order(order_id=order.pk)
    f.complete(order)
    commissions_settle_due()
    return order


def bal(d: Distributor) -> Decimal:
    return Distributor.objects.get(pk=d.pk).balance


def test_rejection_returns_the_amount_once_and_paid_needs_a_unique_reference(
    tenant: Any, chain: dict
) -> None:
    settled_order(tenant, chain["buyer"], "200.00")
    d = chain["d"]  # 20.00
    w1 = withdrawal_request(tenant=tenant, member=d.member, amount=Decimal("15.00"))
    assert bal(d) == Decimal("5.00")
    withdrawal_reject(tenant=tenant, withdrawal_id=w1.pk, actor="staff:1", reason="bank name")
    withdrawal_reject(tenant=tenant, withdrawal_id=w1.pk, actor="staff:1")
    assert bal(d) == Decimal("20.00")
    w2 = withdrawal_request(tenant=tenant, member=d.member, amount=Decimal("12.00"))
    with pytest.raises(ApplicationError) as err:
        withdrawal_mark_paid(tenant=tenant, withdrawal_id=w2.pk, actor="x", payout_reference="T1")
    assert err.value.code == "invalid_transition"
    withdrawal_approve(tenant=tenant, withdrawal_id=w2.pk, actor="staff:1")
    paid = withdrawal_mark_paid(
        tenant=tenant, withdrawal_id=w2.pk, actor="staff:2", payout_reference="BANK-001"
    )
    assert paid.status == "paid" and paid.paid_at is not None
    with pytest.raises(ApplicationError):
        withdrawal_reject(tenant=tenant, withdrawal_id=w2.pk, actor="staff:1")
    assert bal(d) == Decimal("8.00") == ledger_balance(distributor=d)


def test_frozen_distributor_cannot_withdraw(tenant: Any, chain: dict) -> None:
    settled_order(tenant, chain["buyer"], "100.00")
    Distributor.objects.filter(pk=chain["d"].pk).update(status="frozen")
    with pytest.raises(ApplicationError) as err:
        withdrawal_request(tenant=tenant, member=chain["d"].member, amount=Decimal("5.00"))
    assert err.value.code == "distributor_frozen"


def test_team_reward_ladder_is_idempotent_per_month(tenant: Any, chain: dict) -> None:
    f.enable(
        tenant,
        reward_ladder=[
            {"min_sales": "10000.00", "rate": "0.02"},
            {"min_sales": "50000.00", "rate": "0.04"},
        ],
    )
    settled_order(tenant, chain["buyer"], "12000.00")
    month = timezone.localtime(timezone.now(), tenant.tz).date().replace(day=1)
    assert team_rewards_compute(tenant=tenant, month=month) == 3  # b, c, d each saw 12,000
    assert team_rewards_compute(tenant=tenant, month=month) == 0
    reward = TeamReward.objects.get(distributor=chain["d"])
    assert (reward.team_sales, reward.rate, reward.amount) == (
        Decimal("12000.00"),
        Decimal("0.0200"),
        Decimal("240.00"),
    )
    assert bal(chain["d"]) == Decimal("1200.00") + Decimal("240.00")
    assert team_rewards_compute(tenant=tenant, month=date(2001, 1, 1)) == 0


def test_merging_two_members_moves_the_distributor_and_binding(tenant: Any, chain: dict) -> None:
    survivor = MemberFactory(tenant=tenant)
    member_merge_locked(survivor=survivor, loser=chain["d"].member, phone="13800000000")
    assert Distributor.objects.get(pk=chain["d"].pk).member_id == survivor.pk
    buyer2 = MemberFactory(tenant=tenant)
    from distribution.models import Binding

    Binding.objects.create(tenant=tenant, customer=buyer2, distributor=chain["a"], source="poster")
    member_merge_locked(survivor=buyer2, loser=chain["buyer"], phone="13900000000")
    current = Binding.objects.get(customer=buyer2, is_current=True)
    assert current.distributor_id == chain["a"].pk
    assert Binding.objects.filter(customer=buyer2).count() == 2


@pytest.mark.parametrize("seed", range(5))
def test_balance_always_equals_ledger_and_lines_stay_under_cap(
    tenant: Any, chain: dict, seed: int
) -> None:
    rng = random.Random(seed)
    f.enable(tenant, withdrawal_daily_limit=Decimal("0"), withdrawal_min_amount=Decimal("0.01"))
    orders = []
    for step in range(30):
        op = rng.choice(["pay", "pay", "refund", "complete", "settle", "withdraw"])
        if op == "pay":
            payable = Decimal(rng.randint(1, 50000)) / 100
            order = f.paid_order(
                tenant,
                chain["buyer"],
                [{"payable": str(payable)}],
                distribution=attribution_snapshot(tenant=tenant, member=chain["buyer"]),
            )
            commissions_create_for_order(order_id=order.pk)
            orders.append(order)
        elif op == "refund" and orders:
            order = rng.choice(orders)
            line = order.lines.get()
            amount = Decimal(rng.randint(1, int(line.payable * 100))) / 100
            commissions_reverse_for_refund(
                order_id=order.pk, line_refunds={line.pk: amount}, refund_ref=f"r{step}"
            )
        elif op == "complete" and orders:
            f.complete(rng.choice(orders))
        elif op == "settle":
            commissions_settle_due()
        elif op == "withdraw":
            d = Distributor.objects.get(pk=chain["d"].pk)
            if d.balance >= Decimal("0.01"):
                amount = Decimal(rng.randint(1, int(d.balance * 100))) / 100
                withdrawal_request(tenant=tenant, member=d.member, amount=amount)
    for d in Distributor.objects.all():
        assert d.balance == ledger_balance(distributor=d)
    for order in orders:
        line = order.lines.get()
        total = sum(c.amount for c in Commission.objects.filter(order_line=line))
        assert total <= Decimal("0.30") * line.payable
        for c in Commission.objects.filter(order_line=line):
            assert 0 <= c.reversed_amount <= c.amount
    settled_once = Commission.objects.exclude(settle_batch="").count()
    assert LedgerEntry.objects.filter(kind="credit").count() == settled_once
