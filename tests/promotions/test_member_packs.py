"""Coupon packs of paid cards (on purchase and every card month) and tiers (every calendar
month), birthday gifts: exact coupons, once per period."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from mall.followups.models import FollowUp
from members.models import (
    BenefitGrant,
    CardPlanCoupon,
    CardPurchase,
    MemberCard,
    MemberCardPlan,
    MemberTier,
    Tier,
    TierCoupon,
)
from members.services.cards import card_purchase_create, card_purchase_mark_paid
from promotions.models import Coupon, CouponTemplate
from promotions.services import member_packs
from promotions.services.member_packs import (
    birthday_gifts_issue,
    card_month_start,
    card_packs_issue,
    member_packs_issue_all,
    tier_packs_issue,
)
from tests.members.factories import MemberFactory
from tests.promotions.factories import CouponTemplateFactory

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 1, 31, 10, 0, tzinfo=dt.UTC)


def _template(tenant: Any, **kwargs: Any) -> CouponTemplate:
    return CouponTemplateFactory(
        tenant=tenant,
        per_member_limit=50,
        validity_type=CouponTemplate.Validity.RELATIVE,
        valid_days=30,
        valid_from=None,
        valid_until=None,
        **kwargs,
    )


@pytest.fixture
def plan(tenant: Any) -> MemberCardPlan:
    plan = MemberCardPlan.objects.create(
        tenant=tenant, name="Plus", price=Decimal("30"), duration_days=90
    )
    CardPlanCoupon.objects.create(tenant=tenant, plan=plan, template=_template(tenant), quantity=2)
    CardPlanCoupon.objects.create(tenant=tenant, plan=plan, template=_template(tenant), quantity=1)
    return plan


def _coupons(member: Any) -> int:
    return Coupon.objects.filter(member=member).count()


def test_card_month_start_is_anchored_to_the_card_start(tenant: Any, plan: Any) -> None:
    card = MemberCard(starts_at=T0, ends_at=T0 + dt.timedelta(days=90))
    assert card_month_start(card, T0) == T0
    assert card_month_start(card, dt.datetime(2026, 2, 28, 9, 59, tzinfo=dt.UTC)) == T0
    assert card_month_start(card, dt.datetime(2026, 2, 28, 10, 0, tzinfo=dt.UTC)) == dt.datetime(
        2026, 2, 28, 10, 0, tzinfo=dt.UTC
    )
    assert card_month_start(card, dt.datetime(2026, 4, 1, tzinfo=dt.UTC)) == dt.datetime(
        2026, 3, 31, 10, 0, tzinfo=dt.UTC
    )
    assert card_month_start(card, T0 + dt.timedelta(days=90)) is None


def test_card_pack_once_per_card_month_while_the_card_runs(tenant: Any, plan: Any) -> None:
    member = MemberFactory(tenant=tenant)
    MemberCard.objects.create(
        tenant=tenant, member=member, plan=plan, starts_at=T0, ends_at=T0 + dt.timedelta(days=90)
    )
    assert card_packs_issue(tenant=tenant, now=T0 + dt.timedelta(hours=1)) == 1
    assert card_packs_issue(tenant=tenant, now=T0 + dt.timedelta(days=20)) == 0
    assert _coupons(member) == 3
    assert card_packs_issue(tenant=tenant, now=dt.datetime(2026, 2, 28, 11, tzinfo=dt.UTC)) == 1
    assert card_packs_issue(tenant=tenant, now=dt.datetime(2026, 3, 31, 11, tzinfo=dt.UTC)) == 1
    # Ended (90 days: May 1st 10:00): nothing more.
    assert card_packs_issue(tenant=tenant, now=dt.datetime(2026, 5, 2, tzinfo=dt.UTC)) == 0
    assert _coupons(member) == 9
    assert list(BenefitGrant.objects.order_by("id").values_list("key", flat=True)) == [
        f"card-pack:{member.pk}:20260131100000",
        f"card-pack:{member.pk}:20260228100000",
        f"card-pack:{member.pk}:20260331100000",
    ]


def test_paid_purchase_records_the_pack_follow_up_and_the_pack_is_given(
    tenant: Any, plan: Any
) -> None:
    member = MemberFactory(tenant=tenant)
    purchase = card_purchase_create(tenant=tenant, member=member, plan_id=plan.pk)
    assert card_purchase_mark_paid(
        tenant=tenant, reference=purchase.reference, payment_reference="P1"
    )
    row = FollowUp.objects.get(key=f"card-pack:{member.pk}:{purchase.pk}")
    assert (row.task, row.kwargs) == (
        "promotions.tasks.member_card_pack",
        {"tenant_id": tenant.pk, "member_id": member.pk},
    )
    assert CardPurchase.objects.get(pk=purchase.pk).status == "paid"
    # Whether the follow-up ran already (eager) or not, the pack is given exactly once.
    card_packs_issue(tenant=tenant, member_ids=[member.pk])
    card_packs_issue(tenant=tenant, member_ids=[member.pk])
    assert _coupons(member) == 3
    assert BenefitGrant.objects.filter(member=member, kind="card_pack").count() == 1


def test_refused_coupons_are_recorded_in_the_grant(tenant: Any) -> None:
    plan = MemberCardPlan.objects.create(
        tenant=tenant, name="Lite", price=Decimal("10"), duration_days=30
    )
    scarce = _template(tenant, total_quantity=1)
    CardPlanCoupon.objects.create(tenant=tenant, plan=plan, template=scarce, quantity=3)
    member = MemberFactory(tenant=tenant)
    MemberCard.objects.create(
        tenant=tenant, member=member, plan=plan, starts_at=T0, ends_at=T0 + dt.timedelta(days=30)
    )
    assert card_packs_issue(tenant=tenant, now=T0) == 1
    grant = BenefitGrant.objects.get(member=member)
    assert len(grant.detail["coupons"]) == 1
    assert grant.detail["skipped"] == {str(scarce.pk): "coupon_sold_out"}


def test_tier_pack_once_per_calendar_month_in_the_tenant_time_zone(tenant: Any) -> None:
    gold = Tier.objects.create(tenant=tenant, name="Gold", level=1, growth_threshold=10)
    TierCoupon.objects.create(tenant=tenant, tier=gold, template=_template(tenant), quantity=2)
    silver = Tier.objects.create(tenant=tenant, name="Silver", level=0, growth_threshold=0)
    member, other = MemberFactory(tenant=tenant), MemberFactory(tenant=tenant)
    MemberTier.objects.create(tenant=tenant, member=member, tier=gold, since=T0)
    MemberTier.objects.create(tenant=tenant, member=other, tier=silver, since=T0)
    # 2026-01-31 17:00 UTC is 2026-02-01 01:00 in Shanghai: February's pack.
    assert tier_packs_issue(tenant=tenant, now=dt.datetime(2026, 1, 31, 15, tzinfo=dt.UTC)) == 1
    assert tier_packs_issue(tenant=tenant, now=dt.datetime(2026, 1, 31, 17, tzinfo=dt.UTC)) == 1
    assert tier_packs_issue(tenant=tenant, now=dt.datetime(2026, 2, 27, tzinfo=dt.UTC)) == 0
    assert (_coupons(member), _coupons(other)) == (4, 0)
    assert sorted(BenefitGrant.objects.values_list("key", flat=True)) == [
        f"tier-pack:{member.pk}:2026-01",
        f"tier-pack:{member.pk}:2026-02",
    ]


def test_birthday_gift_once_a_year_with_coupon_and_points(
    tenant: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    granted: list[tuple[int, int, str]] = []
    monkeypatch.setattr(member_packs, "_points_granters", [])
    member_packs.register_points_granter(
        lambda *, tenant, member, points, reason, ref: granted.append((member.pk, points, ref))
    )
    gift = _template(tenant)
    gold = Tier.objects.create(
        tenant=tenant,
        name="Gold",
        level=1,
        growth_threshold=10,
        birthday_points=188,
        birthday_coupon=gift,
    )
    member = MemberFactory(tenant=tenant, birthday=dt.date(1990, 3, 8))
    MemberFactory(tenant=tenant, birthday=dt.date(1990, 3, 9))
    MemberTier.objects.create(tenant=tenant, member=member, tier=gold, since=T0)
    birthday = dt.datetime(2026, 3, 7, 16, 30, tzinfo=dt.UTC)  # 00:30 on March 8 in Shanghai
    assert birthday_gifts_issue(tenant=tenant, now=birthday - dt.timedelta(hours=1)) == 0
    assert birthday_gifts_issue(tenant=tenant, now=birthday) == 1
    assert member_packs_issue_all(now=birthday + dt.timedelta(hours=3)) == 0
    assert Coupon.objects.get(member=member).template == gift
    assert granted == [(member.pk, 188, f"birthday:{member.pk}:2026")]
    grant = BenefitGrant.objects.get(member=member)
    assert grant.detail["points"] == 188 and grant.detail["points_granted"] is True
