"""Tiers' part of the cross-tenant matrix (merged into tests/security/factories.py like
``card_matrix``)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.utils import timezone

from mall.tenancy.models import Tenant
from members.models import (
    BenefitGrant,
    CardPlanCoupon,
    GrowthEntry,
    Member,
    MemberCardPlan,
    MemberTier,
    Tier,
    TierChange,
    TierCoupon,
    TierSettings,
)
from promotions.models import CouponTemplate
from tests.security.matrix import MARKER, MemberOnly


def _member(t: Tenant) -> Member:
    return Member.objects.create(tenant=t, nickname=MARKER)


def _tier(t: Tenant) -> Tier:
    n = Tier.objects.for_tenant(t).count()
    return Tier.objects.create(tenant=t, name=f"{MARKER}-{n}", level=n + 1, growth_threshold=n)


def _template(t: Tenant) -> CouponTemplate:
    now = timezone.now()
    return CouponTemplate.objects.create(
        tenant=t,
        name=f"{MARKER}-tpl",
        kind=CouponTemplate.Kind.FIXED,
        amount=Decimal("5"),
        total_quantity=10,
        valid_from=now,
        valid_until=now + timezone.timedelta(days=30),
    )


def _settings(t: Tenant) -> TierSettings:
    return TierSettings.objects.get_or_create(tenant=t)[0]


def _tier_coupon(t: Tenant) -> TierCoupon:
    return TierCoupon.objects.create(tenant=t, tier=_tier(t), template=_template(t))


def _plan_coupon(t: Tenant) -> CardPlanCoupon:
    n = MemberCardPlan.objects.for_tenant(t).count()
    plan = MemberCardPlan.objects.create(
        tenant=t, name=f"{MARKER}-p{n}", price=Decimal("9"), duration_days=30
    )
    return CardPlanCoupon.objects.create(tenant=t, plan=plan, template=_template(t))


def _member_tier(t: Tenant) -> MemberTier:
    return MemberTier.objects.create(
        tenant=t, member=_member(t), tier=_tier(t), since=timezone.now()
    )


def _growth(t: Tenant) -> GrowthEntry:
    m = _member(t)
    return GrowthEntry.objects.create(
        tenant=t,
        member=m,
        delta=5,
        balance_after=5,
        reason="manual",
        ref=f"{MARKER}-{m.pk}",
        created_at=timezone.now(),
    )


def _change(t: Tenant) -> TierChange:
    return TierChange.objects.create(
        tenant=t,
        member=_member(t),
        to_tier=_tier(t),
        reason="upgrade",
        growth=5,
        created_at=timezone.now(),
    )


def _grant(t: Tenant) -> BenefitGrant:
    m = _member(t)
    return BenefitGrant.objects.create(tenant=t, member=m, kind="tier_pack", key=f"{MARKER}-{m.pk}")


MODEL_FACTORIES: dict[str, Callable[[Tenant], Any]] = {
    "members.Tier": _tier,
    "members.TierSettings": _settings,
    "members.TierCoupon": _tier_coupon,
    "members.CardPlanCoupon": _plan_coupon,
    "members.MemberTier": _member_tier,
    "members.GrowthEntry": _growth,
    "members.TierChange": _change,
    "members.BenefitGrant": _grant,
}

NOT_IN_CONSOLE: dict[str, str] = {
    "members.TierCoupon": "inline of the tier page",
    "members.CardPlanCoupon": "inline of the member card plan page",
    "members.MemberTier": "shown as the tier of a member (API, tier changes page)",
    "members.BenefitGrant": "idempotency record of coupon packs and birthday gifts",
}

ROUTES: dict[str, Any] = {
    "api/v1/me/tier": MemberOnly(),
    "api/v1/me/card": MemberOnly(),
}
