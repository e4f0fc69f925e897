"""Lifecycle automation: triggers, once per member and period, segment condition, actions,
dry run and the execution log, with exact numbers."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from mall.events.models import OutboxEvent
from mall.followups.models import FollowUp
from members.automation import actions
from members.automation.services import (
    NOTIFICATION_EVENT,
    automation_dry_run,
    automation_run_tenant,
    automation_sweep,
    automation_trigger,
    execution_log,
)
from members.models import (
    AutomationExecution,
    AutomationRule,
    MemberCard,
    MemberRfm,
    MemberTag,
    SegmentCondition,
    Tag,
)
from members.segments.services import rfm_note_paid, tag_apply
from members.services.merge import member_merge_locked
from orders import hooks as order_hooks
from orders.models import Cart, CartItem
from promotions.models import Coupon, CouponTemplate
from tests.members.factories import MemberFactory
from tests.members.segment_helpers import paid, segment
from tests.promotions.factories import CouponTemplateFactory

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 6, 15, 4, 0, tzinfo=UTC)  # 12:00 on 15 June in Shanghai
Trigger = AutomationRule.Trigger
S = AutomationExecution.Status


def rule(tenant: Any, trigger: str, **fields: Any) -> AutomationRule:
    fields.setdefault("notify", True)
    fields.setdefault("notify_title", "Hello")
    r = AutomationRule(
        tenant=tenant, name=f"rule {AutomationRule.objects.count() + 1}", trigger=trigger, **fields
    )
    r.full_clean(exclude=["tenant"])
    r.save()
    return r


def executions(r: AutomationRule, status: str | None = None) -> list[tuple[int, str]]:
    qs = AutomationExecution.objects.filter(rule=r)
    if status:
        qs = qs.filter(status=status)
    return sorted(qs.values_list("member_id", "period_key"))


@pytest.fixture
def granted() -> Iterator[list[dict[str, Any]]]:
    calls: list[dict[str, Any]] = []

    def grant(
        *,
        tenant_id: int,
        member_ids: Sequence[int],
        points: int,
        reason: str,
        references: Mapping[int, str],
    ) -> None:
        calls.append(
            {"members": list(member_ids), "points": points, "references": dict(references)}
        )

    actions.points_granters.append(grant)
    yield calls
    actions.points_granters.remove(grant)


def test_birthday_fires_once_per_year(tenant: Any) -> None:
    r = rule(tenant, Trigger.BIRTHDAY, days=3)
    today = MemberFactory(tenant=tenant, birthday=date(1990, 6, 15))
    in_three = MemberFactory(tenant=tenant, birthday=date(1991, 6, 18))
    MemberFactory(tenant=tenant, birthday=date(1992, 6, 19))  # 4 days: not yet
    MemberFactory(tenant=tenant, birthday=date(1993, 6, 14))  # yesterday: this year is past
    MemberFactory(tenant=tenant, birthday=date(1994, 6, 16), is_active=False)

    assert automation_run_tenant(tenant=tenant, now=NOW) == {"found": 2, "done": 2, "skipped": 0}
    assert executions(r, S.DONE) == sorted([(today.pk, "2026"), (in_three.pk, "2026")])
    # Hourly sweeps the same day: nothing again; the next day the 19 June birthday enters.
    assert automation_run_tenant(tenant=tenant, now=NOW + timedelta(hours=1))["done"] == 0
    assert automation_run_tenant(tenant=tenant, now=NOW + timedelta(days=1))["done"] == 1
    # A year later: again.
    assert automation_run_tenant(tenant=tenant, now=NOW + timedelta(days=365))["done"] == 2
    assert len(executions(r, S.DONE)) == 5


def test_birthday_window_crosses_the_new_year_and_leap_day(tenant: Any) -> None:
    r = rule(tenant, Trigger.BIRTHDAY, days=2)
    new_year = MemberFactory(tenant=tenant, birthday=date(1990, 1, 1))
    leap = MemberFactory(tenant=tenant, birthday=date(1992, 2, 29))
    automation_run_tenant(tenant=tenant, now=datetime(2026, 12, 30, 16, 30, tzinfo=UTC))  # 31 Dec
    assert executions(r) == [(new_year.pk, "2027")]
    automation_run_tenant(tenant=tenant, now=datetime(2027, 2, 26, 4, 0, tzinfo=UTC))
    assert executions(r) == sorted([(new_year.pk, "2027"), (leap.pk, "2027")])  # as 28 Feb


def test_dormant_fires_once_per_quiet_spell(tenant: Any) -> None:
    r = rule(tenant, Trigger.DORMANT, days=30)
    quiet = MemberFactory(tenant=tenant)
    long_gone = MemberFactory(tenant=tenant)  # 40 days: before the 7-day catch-up window
    recent = MemberFactory(tenant=tenant)
    rfm_note_paid(tenant=tenant, member_id=quiet.pk, paid_at=NOW - timedelta(days=31))
    rfm_note_paid(tenant=tenant, member_id=long_gone.pk, paid_at=NOW - timedelta(days=40))
    rfm_note_paid(tenant=tenant, member_id=recent.pk, paid_at=NOW - timedelta(days=29))

    assert automation_run_tenant(tenant=tenant, now=NOW)["done"] == 1
    first_key = (NOW - timedelta(days=31)).isoformat()
    assert executions(r) == [(quiet.pk, first_key)]
    assert automation_run_tenant(tenant=tenant, now=NOW + timedelta(hours=1))["done"] == 0
    # Buys again, goes quiet again: a new spell.
    rfm_note_paid(tenant=tenant, member_id=quiet.pk, paid_at=NOW)
    later = NOW + timedelta(days=30, hours=1)
    assert automation_run_tenant(tenant=tenant, now=later)["done"] == 1
    # ``recent`` went quiet 29 days before ``later``'s window: past the 7-day catch-up.
    assert executions(r) == [(quiet.pk, first_key), (quiet.pk, NOW.isoformat())]


def test_segment_condition_and_every_action(tenant: Any, granted: list[dict[str, Any]]) -> None:
    vip = Tag.objects.create(tenant=tenant, name="VIP")
    birthday_tag = Tag.objects.create(tenant=tenant, name="birthday 2026")
    template = CouponTemplateFactory(
        tenant=tenant, claim_channel=CouponTemplate.Channel.AUTOMATION, total_quantity=1
    )
    a = MemberFactory(tenant=tenant, birthday=date(1990, 6, 16))
    b = MemberFactory(tenant=tenant, birthday=date(1990, 6, 16))
    outsider = MemberFactory(tenant=tenant, birthday=date(1990, 6, 16))
    tag_apply(tenant=tenant, tag=vip, member_ids=[a.pk, b.pk])
    r = rule(
        tenant,
        Trigger.BIRTHDAY,
        days=1,
        segment=segment(tenant, {"kind": SegmentCondition.Kind.TAG, "tag": vip}),
        coupon_template_id=template.pk,
        points=50,
        tag=birthday_tag,
        notify_text="Happy birthday",
    )

    assert automation_run_tenant(tenant=tenant, now=NOW) == {"found": 3, "done": 2, "skipped": 1}
    rows = {e.member_id: e for e in AutomationExecution.objects.filter(rule=r)}
    assert rows[outsider.pk].status == S.SKIPPED
    assert (rows[a.pk].status, rows[b.pk].status) == (S.DONE, S.DONE)
    coupon = Coupon.objects.get(template=template)
    assert coupon.member_id == a.pk and rows[a.pk].coupon_id == coupon.pk
    assert (rows[b.pk].coupon_id, rows[b.pk].coupon_error) == (None, "coupon_sold_out")
    assert (rows[a.pk].points, rows[a.pk].tagged, rows[a.pk].notified) == (50, True, True)
    assert granted == [
        {
            "members": [a.pk, b.pk],
            "points": 50,
            "references": {
                a.pk: f"automation:{rows[a.pk].pk}",
                b.pk: f"automation:{rows[b.pk].pk}",
            },
        }
    ]
    assert sorted(
        MemberTag.objects.filter(tag=birthday_tag).values_list("member_id", "source")
    ) == [(a.pk, "automation"), (b.pk, "automation")]
    events = OutboxEvent.objects.filter(name=NOTIFICATION_EVENT).order_by("subject")
    assert [e.payload for e in events] == [
        {
            "member_id": m.pk,
            "rule_id": r.pk,
            "execution_id": rows[m.pk].pk,
            "title": "Hello",
            "text": "Happy birthday",
        }
        for m in sorted((a, b), key=lambda m: f"member:{m.pk}")
    ]
    log = execution_log(tenant=tenant, member_id=a.pk)
    assert [(x["rule__name"], x["status"], x["points"]) for x in log] == [(r.name, "done", 50)]


def test_points_without_a_granter_are_not_granted(
    tenant: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(actions, "points_granters", [])  # members/wiring.py fills it
    r = rule(tenant, Trigger.BIRTHDAY, days=0, points=10, notify=False)
    MemberFactory(tenant=tenant, birthday=date(2000, 6, 15))
    automation_run_tenant(tenant=tenant, now=NOW)
    assert AutomationExecution.objects.get(rule=r).points == 0


def test_first_paid_order_fires_from_the_paid_hook(tenant: Any) -> None:
    r = rule(tenant, Trigger.FIRST_PAID_ORDER)
    member = MemberFactory(tenant=tenant)
    first = paid(member, days_ago=0, amount="10.00", now=NOW)
    order_hooks.order_paid(tenant=tenant, order=first)
    assert executions(r, S.PENDING) == [(member.pk, "first")]
    assert FollowUp.objects.filter(task="members.tasks.automation_run").count() == 1
    assert MemberRfm.objects.get(member=member).last_paid_at == first.paid_at

    second = paid(member, days_ago=0, amount="10.00", now=NOW + timedelta(hours=1))
    order_hooks.order_paid(tenant=tenant, order=second)
    assert AutomationExecution.objects.filter(rule=r).count() == 1
    assert automation_run_tenant(tenant=tenant, now=NOW)["done"] == 1
    assert executions(r, S.DONE) == [(member.pk, "first")]


def test_tier_change_trigger_is_keyed_by_the_caller(tenant: Any) -> None:
    up = rule(tenant, Trigger.TIER_UP)
    rule(tenant, Trigger.TIER_DOWN)
    member = MemberFactory(tenant=tenant)
    assert automation_trigger(member, Trigger.TIER_UP, key="tier:2") == 1
    assert automation_trigger(member, Trigger.TIER_UP, key="tier:2") == 1  # same period
    assert automation_trigger(member, Trigger.TIER_UP, key="tier:3") == 1
    assert executions(up) == [(member.pk, "tier:2"), (member.pk, "tier:3")]
    assert AutomationExecution.objects.count() == 2


def test_growth_crossing_a_tier_fires_tier_up_and_a_review_drop_fires_tier_down(
    tenant: Any,
) -> None:
    from members.tiers.models import Tier
    from members.tiers.services import growth_grant, member_tier_set

    up, down = rule(tenant, Trigger.TIER_UP), rule(tenant, Trigger.TIER_DOWN)
    silver = Tier.objects.create(tenant=tenant, name="Silver", level=1, growth_threshold=100)
    member = MemberFactory(tenant=tenant)

    growth_grant(tenant=tenant, member=member, amount=99, reason="manual", ref="g1")
    assert executions(up) == []
    growth_grant(tenant=tenant, member=member, amount=1, reason="manual", ref="g2")
    today = datetime.now(UTC).date().isoformat()  # the key is the UTC day of the change
    assert executions(up) == [(member.pk, f"{silver.pk}:{today}")]
    member_tier_set(tenant=tenant, member_id=member.pk, tier=None)
    assert executions(down) == [(member.pk, f"0:{today}")]


def test_card_expiring_and_cart_left(tenant: Any) -> None:
    card_rule = rule(tenant, Trigger.CARD_EXPIRING, days=7)
    cart_rule = rule(tenant, Trigger.CART_ABANDONED, hours=24)
    soon, later = MemberFactory(tenant=tenant), MemberFactory(tenant=tenant)
    ends = NOW + timedelta(days=6)
    MemberCard.objects.create(tenant=tenant, member=soon, starts_at=NOW, ends_at=ends)
    MemberCard.objects.create(
        tenant=tenant, member=later, starts_at=NOW, ends_at=NOW + timedelta(days=8)
    )
    shopper, browsing = MemberFactory(tenant=tenant), MemberFactory(tenant=tenant)
    from tests.catalog.factories import SkuFactory

    for who, age in ((shopper, 25), (browsing, 2)):
        cart = Cart.objects.create(tenant=tenant, member=who)
        item = CartItem.objects.create(
            tenant=tenant, cart=cart, sku=SkuFactory(product__tenant=tenant), quantity=1
        )
        CartItem.objects.filter(pk=item.pk).update(updated_at=NOW - timedelta(hours=age))

    assert automation_run_tenant(tenant=tenant, now=NOW)["done"] == 2
    assert executions(card_rule) == [(soon.pk, ends.isoformat())]
    assert executions(cart_rule) == [(shopper.pk, (NOW - timedelta(hours=25)).isoformat())]


def test_dry_run_counts(tenant: Any) -> None:
    vip = Tag.objects.create(tenant=tenant, name="VIP")
    members = [MemberFactory(tenant=tenant, birthday=date(1990, 6, 16)) for _ in range(4)]
    tag_apply(tenant=tenant, tag=vip, member_ids=[m.pk for m in members[:3]])
    r = rule(
        tenant,
        Trigger.BIRTHDAY,
        days=1,
        segment=segment(tenant, {"kind": SegmentCondition.Kind.TAG, "tag": vip}),
    )
    AutomationExecution.objects.create(
        tenant=tenant, rule=r, member=members[0], period_key="2026", status=S.DONE
    )
    dry = automation_dry_run(rule=r, now=NOW)
    assert (dry.found, dry.already, dry.eligible) == (4, 1, 2)
    assert AutomationExecution.objects.count() == 1  # nothing done

    event = rule(tenant, Trigger.FIRST_PAID_ORDER)
    dry = automation_dry_run(rule=event, now=NOW)
    assert (dry.found, dry.already, dry.eligible) == (4, 0, 4)


def test_sweep_runs_every_tenant_in_its_scope(tenant: Any, other_tenant: Any) -> None:
    for shop in (tenant, other_tenant):
        rule(shop, Trigger.BIRTHDAY, days=0)
        MemberFactory(tenant=shop, birthday=date(1990, 6, 15))
    rule(tenant, Trigger.BIRTHDAY, days=0, is_active=False)
    assert automation_sweep(now=NOW) == {"tenants": 2, "found": 2, "done": 2, "skipped": 0}
    assert automation_sweep(now=NOW) == {"tenants": 2, "found": 2, "done": 0, "skipped": 0}


def test_rules_are_typed(tenant: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        rule(tenant, Trigger.DORMANT, notify=False)
    assert set(exc.value.message_dict) == {"days", "__all__"}
    with pytest.raises(ValidationError) as exc:
        rule(tenant, Trigger.CART_ABANDONED, notify_title="")
    assert set(exc.value.message_dict) == {"hours", "notify_title"}


def test_merge_keeps_one_execution_per_period_and_every_tag(tenant: Any) -> None:
    r = rule(tenant, Trigger.TIER_UP)
    vip = Tag.objects.create(tenant=tenant, name="VIP")
    survivor = MemberFactory(tenant=tenant, phone="13800000001")
    loser = MemberFactory(tenant=tenant)
    for m, keys in ((survivor, ["a"]), (loser, ["a", "b"])):
        for key in keys:
            automation_trigger(m, Trigger.TIER_UP, key=key)
    tag_apply(tenant=tenant, tag=vip, member_ids=[survivor.pk, loser.pk])
    member_merge_locked(survivor=survivor, loser=loser, phone="13800000001")
    assert executions(r) == [(survivor.pk, "a"), (survivor.pk, "b")]
    assert list(MemberTag.objects.values_list("member_id", flat=True)) == [survivor.pk]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_run_each_execution_once(
    tenant: Any, granted: list[dict[str, Any]]
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks with SKIP LOCKED need PostgreSQL")
    rule(tenant, Trigger.BIRTHDAY, days=0, points=5)
    for _ in range(30):
        MemberFactory(tenant=tenant, birthday=date(1990, 6, 15))
    barrier = threading.Barrier(4)
    results: list[dict[str, int]] = []

    def sweep() -> None:
        try:
            barrier.wait()
            results.append(automation_sweep(now=NOW))
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r["done"] for r in results) == 30
    assert AutomationExecution.objects.filter(status=S.DONE).count() == 30
    assert sorted(m for call in granted for m in call["members"]) == sorted(
        AutomationExecution.objects.values_list("member_id", flat=True)
    )


def test_a_batch_costs_the_same_queries_for_3_or_30_members(tenant: Any) -> None:
    from django.db import connection as conn
    from django.test.utils import CaptureQueriesContext

    vip = Tag.objects.create(tenant=tenant, name="VIP")
    counts = []
    for n, day in ((3, 15), (30, 16)):
        for _ in range(n):
            MemberFactory(tenant=tenant, birthday=date(1990, 6, day))
        rule(tenant, Trigger.BIRTHDAY, days=0, tag=vip, segment=segment(tenant))
        with CaptureQueriesContext(conn) as queries:
            done = automation_run_tenant(tenant=tenant, now=NOW + timedelta(days=day - 15))["done"]
        assert done == n
        counts.append(len(queries))
        AutomationRule.objects.filter(tenant=tenant).update(is_active=False)
    assert counts[0] == counts[1]
