"""Tiers and growth: the ledger (idempotent per ref), upgrades at once, reviews (kept, then
dropped one tier), the /me/tier and /me/card answers and their query counts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import time_machine

from mall.errors import InvalidInputError
from mall.events.models import OutboxEvent
from members.models import (
    GrowthEntry,
    Member,
    MemberCard,
    MemberCardPlan,
    MemberTier,
    Tier,
    TierChange,
    TierSettings,
)
from members.tiers import services
from members.tiers.selectors import card_points_multiplier, tier_points_multiplier
from members.tiers.services import add_months, growth_grant, tier_reviews_run_all
from tests.conftest import shopper_client
from tests.members.factories import MemberFactory, access_token_for

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 1, 31, 10, 0, tzinfo=dt.UTC)
R = GrowthEntry.Reason


@pytest.fixture
def tiers(tenant: Any) -> dict[str, Tier]:
    return {
        "silver": Tier.objects.create(
            tenant=tenant,
            name="Silver",
            level=1,
            growth_threshold=100,
            keep_threshold=0,
            discount_rate=Decimal("0.98"),
            points_multiplier=Decimal("1.20"),
        ),
        "gold": Tier.objects.create(
            tenant=tenant,
            name="Gold",
            level=2,
            growth_threshold=500,
            keep_threshold=200,
            discount_rate=Decimal("0.95"),
            free_shipping=True,
            points_multiplier=Decimal("1.50"),
        ),
        "platinum": Tier.objects.create(
            tenant=tenant,
            name="Platinum",
            level=3,
            growth_threshold=2000,
            keep_threshold=800,
            discount_rate=Decimal("0.90"),
            points_multiplier=Decimal("2"),
        ),
    }


def _state(member: Member) -> MemberTier:
    return MemberTier.objects.get(member=member)


def test_add_months_clamps_to_the_last_day() -> None:
    assert add_months(T0, 1) == dt.datetime(2026, 2, 28, 10, 0, tzinfo=dt.UTC)
    assert add_months(T0, 6) == dt.datetime(2026, 7, 31, 10, 0, tzinfo=dt.UTC)
    assert add_months(T0, 13) == dt.datetime(2027, 2, 28, 10, 0, tzinfo=dt.UTC)


def test_growth_upgrades_at_once_and_each_ref_counts_once(tenant: Any, tiers: Any) -> None:
    member = MemberFactory(tenant=tenant)
    with time_machine.travel(T0, tick=False):
        first = growth_grant(tenant=tenant, member=member, amount=120, reason=R.CHECKIN, ref="c:1")
        again = growth_grant(tenant=tenant, member=member, amount=120, reason=R.CHECKIN, ref="c:1")
    assert first is not None and again == first
    member.refresh_from_db()
    assert member.growth == 120
    state = _state(member)
    assert (state.tier, state.since, state.review_at) == (tiers["silver"], T0, None)

    later = T0 + dt.timedelta(days=3)
    with time_machine.travel(later, tick=False):
        growth_grant(tenant=tenant, member=member, amount=1900, reason=R.ORDER, ref="order:N1")
    member.refresh_from_db()
    state = _state(member)
    # Gold skipped: the highest tier reached; the review clock starts now (6 months default).
    assert (member.growth, state.tier, state.since) == (2020, tiers["platinum"], later)
    assert state.review_at == dt.datetime(2026, 8, 3, 10, 0, tzinfo=dt.UTC)
    assert list(
        GrowthEntry.objects.filter(member=member)
        .order_by("id")
        .values_list("delta", "balance_after", "reason", "ref")
    ) == [(120, 120, "checkin", "c:1"), (1900, 2020, "order", "order:N1")]
    assert list(
        TierChange.objects.filter(member=member)
        .order_by("id")
        .values_list("from_tier__name", "to_tier__name", "reason", "growth")
    ) == [(None, "Silver", "upgrade", 120), ("Silver", "Platinum", "upgrade", 2020)]
    events = OutboxEvent.objects.filter(name="member.tier_changed").order_by("id")
    assert [e.payload["to_level"] for e in events] == [1, 3]


def test_negative_growth_stops_at_zero_and_never_downgrades(tenant: Any, tiers: Any) -> None:
    member = MemberFactory(tenant=tenant)
    growth_grant(tenant=tenant, member=member, amount=150, reason=R.MANUAL, ref="m:1")
    entry = growth_grant(tenant=tenant, member=member, amount=-400, reason=R.MANUAL, ref="m:2")
    assert entry is not None and (entry.delta, entry.balance_after) == (-150, 0)
    assert growth_grant(tenant=tenant, member=member, amount=-1, reason=R.MANUAL, ref="m:3") is None
    member.refresh_from_db()
    assert (member.growth, _state(member).tier) == (0, tiers["silver"])


@pytest.mark.parametrize(
    ("amount", "reason", "ref", "code"),
    [
        (0, "manual", "x", "growth_amount_invalid"),
        (Decimal("1.5"), "manual", "x", "growth_amount_invalid"),
        (5, "manual", "", "growth_ref_invalid"),
        (5, "nope", "x", "growth_reason_invalid"),
    ],
)
def test_growth_grant_refuses_bad_input(
    tenant: Any, amount: Any, reason: str, ref: str, code: str
) -> None:
    member = MemberFactory(tenant=tenant)
    with pytest.raises(InvalidInputError) as caught:
        growth_grant(tenant=tenant, member=member, amount=amount, reason=reason, ref=ref)
    assert caught.value.code == code
    assert not GrowthEntry.objects.filter(member=member).exists()


def test_review_keeps_the_tier_then_drops_one_tier(tenant: Any, tiers: Any) -> None:
    TierSettings.objects.create(tenant=tenant, review_months=6)
    member = MemberFactory(tenant=tenant)
    with time_machine.travel(T0, tick=False):
        growth_grant(tenant=tenant, member=member, amount=520, reason=R.ORDER, ref="order:A")
    state = _state(member)
    first_review = dt.datetime(2026, 7, 31, 10, 0, tzinfo=dt.UTC)
    assert (state.tier, state.review_at) == (tiers["gold"], first_review)
    # The first period earns 520 (at its start) + 30 = 550 >= 200.
    with time_machine.travel(T0 + dt.timedelta(days=100), tick=False):
        growth_grant(tenant=tenant, member=member, amount=30, reason=R.CHECKIN, ref="c:A")

    # Not due yet: nothing.
    assert tier_reviews_run_all(now=first_review - dt.timedelta(seconds=1)) == 0
    # Due (the beat an hour late): kept with 550 earned in [T0, first review).
    assert tier_reviews_run_all(now=first_review + dt.timedelta(hours=1)) == 1
    assert tier_reviews_run_all(now=first_review + dt.timedelta(hours=1)) == 0
    state = _state(member)
    second_review = dt.datetime(2027, 1, 31, 10, 0, tzinfo=dt.UTC)
    assert (state.tier, state.reviews, state.review_at) == (tiers["gold"], 1, second_review)

    # Second period: 150 earned < 200 -> dropped to Silver at the review instant, growth
    # brought down to Silver's threshold (100).
    with time_machine.travel(first_review + dt.timedelta(days=10), tick=False):
        growth_grant(tenant=tenant, member=member, amount=150, reason=R.ORDER, ref="order:B")
    assert tier_reviews_run_all(now=second_review + dt.timedelta(days=2)) == 1
    member.refresh_from_db()
    state = _state(member)
    assert (state.tier, state.since, state.reviews, state.review_at) == (
        tiers["silver"],
        second_review,
        0,
        None,  # Silver keeps for good (keep threshold 0)
    )
    assert member.growth == 100
    review_row = GrowthEntry.objects.get(member=member, reason=R.REVIEW)
    assert (review_row.delta, review_row.balance_after, review_row.created_at) == (
        -600,
        100,
        second_review,
    )
    assert list(
        TierChange.objects.filter(member=member)
        .order_by("id")
        .values_list("from_tier__name", "to_tier__name", "reason", "window_growth", "growth")
    ) == [
        (None, "Gold", "upgrade", None, 520),
        ("Gold", "Gold", "kept", 550, 550),
        ("Gold", "Silver", "dropped", 150, 100),
    ]
    # Climbing back takes 400 growth earned again.
    growth_grant(tenant=tenant, member=member, amount=399, reason=R.ORDER, ref="order:C")
    assert _state(member).tier == tiers["silver"]
    growth_grant(tenant=tenant, member=member, amount=1, reason=R.ORDER, ref="order:D")
    assert _state(member).tier == tiers["gold"]


def test_review_from_the_lowest_reviewed_tier_drops_to_no_tier(tenant: Any) -> None:
    only = Tier.objects.create(
        tenant=tenant, name="VIP", level=1, growth_threshold=50, keep_threshold=10
    )
    TierSettings.objects.create(tenant=tenant, review_months=1)
    member = MemberFactory(tenant=tenant)
    with time_machine.travel(T0, tick=False):
        growth_grant(tenant=tenant, member=member, amount=60, reason=R.ORDER, ref="order:A")
    assert _state(member).tier == only
    # Two overdue periods at once: the first (60 earned) keeps, the second (0) drops.
    assert tier_reviews_run_all(now=dt.datetime(2026, 4, 1, tzinfo=dt.UTC)) == 2
    member.refresh_from_db()
    state = _state(member)
    assert (state.tier, state.review_at, member.growth) == (None, None, 0)
    assert list(
        TierChange.objects.filter(member=member).order_by("id").values_list("reason", flat=True)
    ) == ["upgrade", "kept", "dropped"]


def test_points_multipliers(tenant: Any, tiers: Any) -> None:
    member = MemberFactory(tenant=tenant)
    assert (tier_points_multiplier(member), card_points_multiplier(member)) == (1, 1)
    growth_grant(tenant=tenant, member=member, amount=600, reason=R.ORDER, ref="order:A")
    plan = MemberCardPlan.objects.create(
        tenant=tenant,
        name="Plus",
        price=Decimal("99"),
        duration_days=30,
        points_multiplier=Decimal("1.25"),
    )
    now = dt.datetime.now(dt.UTC)
    card = MemberCard.objects.create(
        tenant=tenant,
        member=member,
        plan=plan,
        starts_at=now,
        ends_at=now + dt.timedelta(days=30),
    )
    assert (tier_points_multiplier(member), card_points_multiplier(member)) == (
        Decimal("1.50"),
        Decimal("1.25"),
    )
    card.ends_at = now - dt.timedelta(seconds=1)
    card.save()
    assert card_points_multiplier(member) == 1


def test_me_tier_answers_progress_and_review(
    tenant: Any, channel: Any, tiers: Any, django_assert_num_queries: Any
) -> None:
    member = MemberFactory(tenant=tenant)
    client = shopper_client(channel.app_id, access_token_for(member))
    body = client.get("/api/v1/me/tier").json()
    assert body == {
        "tier": None,
        "next_tier": {
            "id": tiers["silver"].pk,
            "name": "Silver",
            "level": 1,
            "growth_threshold": 100,
            "keep_threshold": 0,
            "benefits": {
                "discount_rate": "0.980",
                "free_shipping": False,
                "points_multiplier": "1.20",
                "birthday_points": 0,
            },
        },
        "growth": 0,
        "growth_to_next": 100,
        "review_at": None,
        "keep_growth_needed": None,
    }
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with time_machine.travel(now, tick=False):
        growth_grant(tenant=tenant, member=member, amount=520, reason=R.ORDER, ref="order:A")
        growth_grant(tenant=tenant, member=member, amount=50, reason=R.CHECKIN, ref="c:A")
    # auth (member) + tiers + member tier + tier settings (period) + the period's growth sum
    with django_assert_num_queries(5):
        body = client.get("/api/v1/me/tier").json()
    assert body["tier"]["name"] == "Gold"
    assert body["next_tier"]["name"] == "Platinum"
    assert body["tier"]["benefits"]["free_shipping"] is True
    assert (body["growth"], body["growth_to_next"], body["keep_growth_needed"]) == (570, 1430, 0)
    assert dt.datetime.fromisoformat(body["review_at"]) == add_months(now, 6)


def test_me_card_answers_benefits_in_force(
    tenant: Any, channel: Any, django_assert_num_queries: Any
) -> None:
    member = MemberFactory(tenant=tenant)
    client = shopper_client(channel.app_id, access_token_for(member))
    assert client.get("/api/v1/me/card").json() == {
        "plan": None,
        "starts_at": None,
        "ends_at": None,
        "benefits": None,
    }
    plan = MemberCardPlan.objects.create(
        tenant=tenant,
        name="Plus",
        price=Decimal("99"),
        duration_days=30,
        price_rate=Decimal("0.9"),
        free_shipping=True,
        points_multiplier=Decimal("2"),
        benefits={"note": "priority support"},
    )
    starts = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    ends = dt.datetime(2099, 1, 1, tzinfo=dt.UTC)
    MemberCard.objects.create(
        tenant=tenant, member=member, plan=plan, starts_at=starts, ends_at=ends
    )
    # auth (member) + card with plan + the plan's coupons
    with django_assert_num_queries(3):
        body = client.get("/api/v1/me/card").json()
    assert body == {
        "plan": {"id": plan.pk, "name": "Plus"},
        "starts_at": "2026-12-01T08:00:00+08:00",
        "ends_at": "2099-01-01T08:00:00+08:00",
        "benefits": {
            "price_rate": "0.900",
            "free_shipping": True,
            "points_multiplier": "2.00",
            "coupons": [],
            "extra": {"note": "priority support"},
        },
    }


def test_merge_keeps_the_higher_tier(tenant: Any, tiers: Any) -> None:
    survivor, loser = MemberFactory(tenant=tenant), MemberFactory(tenant=tenant)
    growth_grant(tenant=tenant, member=survivor, amount=120, reason=R.ORDER, ref="order:S")
    growth_grant(tenant=tenant, member=loser, amount=600, reason=R.ORDER, ref="order:L")
    survivor.refresh_from_db()
    loser.refresh_from_db()
    assert services.merge_member_tiers(survivor=survivor, loser=loser) == 1
    assert _state(survivor).tier == tiers["gold"]
    assert not MemberTier.objects.filter(member=loser).exists()


def test_me_and_the_merchant_sync_show_the_tier(
    tenant: Any, channel: Any, tiers: Any, django_assert_num_queries: Any
) -> None:
    from rest_framework.test import APIClient

    from mall.tenancy.services import api_key_create

    member = MemberFactory(tenant=tenant)
    client = shopper_client(channel.app_id, access_token_for(member))
    assert client.get("/api/v1/me").json()["tier"] is None
    growth_grant(tenant=tenant, member=member, amount=600, reason=R.ORDER, ref="order:A")
    gold = {"id": tiers["gold"].pk, "name": "Gold", "level": 2}
    assert client.get("/api/v1/me").json()["tier"] == gold
    _key, raw = api_key_create(tenant=tenant, scopes=["members"])
    merchant = APIClient()
    merchant.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    MemberFactory.create_batch(3, tenant=tenant)
    rows = merchant.get("/api/merchant/v1/members").json()["results"]
    assert [r["tier"] for r in rows] == [gold, None, None, None]
