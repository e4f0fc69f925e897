"""The parts of members wired together (members/wiring.py, filled in ready()): tier and card
multipliers on order points, check-in growth, automation and birthday points, and the
points-expiring trigger — through the registered hooks, with exact numbers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from members.checkin.models import CheckInReward
from members.checkin.services import checkin_do
from members.models import (
    AutomationExecution,
    AutomationRule,
    GrowthEntry,
    Member,
    MemberCard,
    MemberCardPlan,
    MemberTier,
    PointsLedger,
    PointsLot,
    Tier,
)
from members.points.models import Reason
from members.points.services import order_earn_points, points_earn, points_settings
from members.tiers.services import member_tier_set
from promotions.services.member_packs import birthday_gifts_issue
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


def _balance(member: Member) -> int:
    member.refresh_from_db()
    return member.points


def test_order_points_are_multiplied_by_the_tier_and_the_running_card(tenant: Any) -> None:
    gold = Tier.objects.create(
        tenant=tenant, name="Gold", level=1, growth_threshold=10, points_multiplier=Decimal("1.5")
    )
    member = MemberFactory(tenant=tenant)
    rules = points_settings(tenant)
    base = order_earn_points(paid_amount=Decimal("99.90"), rules=rules, member=member)
    assert base == int(Decimal("99.90") * rules.earn_per_yuan)

    member_tier_set(tenant=tenant, member_id=member.pk, tier=gold)
    tiered = order_earn_points(paid_amount=Decimal("99.90"), rules=rules, member=member)
    assert tiered == int(Decimal("99.90") * rules.earn_per_yuan * Decimal("1.5"))

    now = timezone.now()
    plan_rate = Decimal("1.2")
    plan = MemberCardPlan.objects.create(
        tenant=tenant,
        name="Plus",
        price=Decimal("99.00"),
        duration_days=30,
        points_multiplier=plan_rate,
    )
    MemberCard.objects.create(
        tenant=tenant, member=member, plan=plan, starts_at=now, ends_at=now + dt.timedelta(days=30)
    )
    both = order_earn_points(paid_amount=Decimal("99.90"), rules=rules, member=member)
    assert both == int(Decimal("99.90") * rules.earn_per_yuan * Decimal("1.5") * plan_rate)


def test_check_in_growth_reward_reaches_the_growth_ledger(tenant: Any) -> None:
    CheckInReward.objects.create(tenant=tenant, day=1, points=5, growth=3)
    member = MemberFactory(tenant=tenant)

    checkin_do(tenant=tenant, member=member)

    entry = GrowthEntry.objects.for_tenant(tenant).get(member=member)
    assert (entry.delta, entry.reason) == (3, "checkin")
    assert _balance(member) == 5
    # The same day again: nothing more, anywhere.
    checkin_do(tenant=tenant, member=member)
    assert GrowthEntry.objects.for_tenant(tenant).filter(member=member).count() == 1
    assert _balance(member) == 5


def test_automation_grants_points_once_per_execution(tenant: Any) -> None:
    from members.automation.services import automation_run_tenant, automation_trigger

    rule = AutomationRule.objects.create(
        tenant=tenant, name="welcome", trigger=AutomationRule.Trigger.FIRST_PAID_ORDER, points=50
    )
    member = MemberFactory(tenant=tenant)
    automation_trigger(member, AutomationRule.Trigger.FIRST_PAID_ORDER)
    automation_run_tenant(tenant=tenant)
    automation_run_tenant(tenant=tenant)

    execution = AutomationExecution.objects.for_tenant(tenant).get(rule=rule, member=member)
    assert execution.points == 50
    lots = PointsLot.objects.for_tenant(tenant).filter(member=member, reason=Reason.AUTOMATION)
    assert [(lot.points, lot.ref) for lot in lots] == [(50, f"automation:{execution.pk}")]
    assert _balance(member) == 50


def test_tier_birthday_points_earn_a_lot_once(tenant: Any) -> None:
    gold = Tier.objects.create(
        tenant=tenant, name="Gold", level=1, growth_threshold=10, birthday_points=188
    )
    member = MemberFactory(tenant=tenant, birthday=dt.date(1990, 3, 8))
    MemberTier.objects.create(
        tenant=tenant, member=member, tier=gold, since=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    )
    birthday = dt.datetime(2026, 3, 7, 16, 30, tzinfo=dt.UTC)  # 00:30 on March 8 in Shanghai

    assert birthday_gifts_issue(tenant=tenant, now=birthday) == 1
    assert birthday_gifts_issue(tenant=tenant, now=birthday + dt.timedelta(hours=2)) == 0

    rows = PointsLedger.objects.for_tenant(tenant).filter(member=member, reason=Reason.BIRTHDAY)
    assert [row.delta for row in rows] == [188]
    assert _balance(member) == 188


def test_points_expiring_trigger_finds_members_with_lots_expiring_soon(tenant: Any) -> None:
    from members.automation.services import automation_sweep

    rule = AutomationRule.objects.create(
        tenant=tenant,
        name="use them",
        trigger=AutomationRule.Trigger.POINTS_EXPIRING,
        days=7,
        notify=True,
        notify_title="Your points expire soon",
    )
    soon, later = MemberFactory(tenant=tenant), MemberFactory(tenant=tenant)
    now = timezone.now()
    for member in (soon, later):
        points_earn(tenant=tenant, member_id=member.pk, points=10, reason=Reason.ADJUST, ref="x")
    PointsLot.objects.for_tenant(tenant).filter(member=soon).update(
        expires_at=now + dt.timedelta(days=3)
    )
    PointsLot.objects.for_tenant(tenant).filter(member=later).update(
        expires_at=now + dt.timedelta(days=30)
    )

    automation_sweep(now=now)

    executions = AutomationExecution.objects.for_tenant(tenant).filter(rule=rule)
    assert list(executions.values_list("member_id", flat=True)) == [soon.pk]
