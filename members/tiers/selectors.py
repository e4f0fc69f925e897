"""Reads of tiers and member benefits: the ``/me/tier`` progress, the pricing benefits (cached
for product pages; the quote reads them fresh in its SKU statement) and the points
multipliers the points ledger asks for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from mall.versions import cache_version, version_bump_now_and_after_commit
from members.models import Member, MemberCard, MemberCardPlan, MemberTier, Tier
from members.tiers.services import add_months, growth_needed, tier_terms
from members.tiers.sql import MemberBenefits, member_benefits_load

BENEFITS_SECONDS = 300
ONE = Decimal("1")


# --- /me/tier ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TierProgress:
    tier: Tier | None
    next_tier: Tier | None
    growth: int
    growth_to_next: int | None  # None at the top tier
    review_at: datetime | None
    keep_growth_needed: int | None  # None when the tier is not reviewed


def member_tier_progress(*, member: Member) -> TierProgress:
    """The member's tier, the next one and how far it is, and the next review with the growth
    still to earn before it to keep the tier (2 queries; 4 with a review: settings, the sum)."""
    tiers = list(Tier.objects.for_tenant(member.tenant_id).order_by("level", "id"))
    state = (
        MemberTier.objects.for_tenant(member.tenant_id)
        .filter(member_id=member.pk)
        .values_list("tier_id", "since", "reviews", "review_at")
        .first()
    )
    by_id = {t.pk: t for t in tiers}
    tier = by_id.get(state[0]) if state and state[0] else None
    higher = [t for t in tiers if tier is None or t.level > tier.level]
    next_tier = min(higher, key=lambda t: t.level) if higher else None
    growth_to_next = growth_needed(next_tier.growth_threshold, member.growth) if next_tier else None
    review_at = state[3] if state and tier is not None else None
    keep_needed: int | None = None
    if tier is not None and review_at is not None and state is not None:
        from members.tiers.services import _window_growth

        months = tier_terms(member.tenant_id).review_months
        start = add_months(state[1], state[2] * months)
        earned = _window_growth(member.tenant_id, member.pk, start, review_at)
        keep_needed = growth_needed(tier.keep_threshold, earned)
    return TierProgress(tier, next_tier, member.growth, growth_to_next, review_at, keep_needed)


# --- pricing benefits (product pages) -----------------------------------------------------


def benefits_version_key(tenant_id: int) -> str:
    return f"members:benefits-version:{tenant_id}"


def _benefits_key(tenant_id: int, member_id: int) -> str:
    return (
        f"members:benefits:{tenant_id}:{cache_version(benefits_version_key(tenant_id))}:{member_id}"
    )


def member_benefits(*, tenant_id: int, member_id: int) -> MemberBenefits:
    """The member's tier and card benefits: the shared cache (kept until a tier, card plan,
    member tier or member card of the tenant changes), else one query."""
    key = _benefits_key(tenant_id, member_id)
    found = cache.get(key)
    if isinstance(found, MemberBenefits):
        return found
    benefits = member_benefits_load(tenant_id=tenant_id, member_id=member_id)
    cache.set(key, benefits, BENEFITS_SECONDS)
    return benefits


def _tenant_benefits_changed(sender: type, instance: object, **kwargs: object) -> None:
    """A tier or card plan changed: every member's cached benefits of the tenant are stale."""
    tenant_id = getattr(instance, "tenant_id", None)
    if tenant_id is not None:
        version_bump_now_and_after_commit(benefits_version_key(tenant_id))


def _member_benefits_changed(sender: type, instance: object, **kwargs: object) -> None:
    """A member's tier or card changed: their cached benefits go, now and after commit."""
    tenant_id, member_id = (
        getattr(instance, "tenant_id", None),
        getattr(instance, "member_id", None),
    )
    if tenant_id is None or member_id is None:
        return
    key = _benefits_key(tenant_id, member_id)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))


for _model in (Tier, MemberCardPlan):
    post_save.connect(_tenant_benefits_changed, sender=_model, dispatch_uid=f"benefits-{_model}")
    post_delete.connect(
        _tenant_benefits_changed, sender=_model, dispatch_uid=f"benefits-del-{_model}"
    )
for _member_model in (MemberTier, MemberCard):
    post_save.connect(
        _member_benefits_changed, sender=_member_model, dispatch_uid=f"benefits-{_member_model}"
    )
    post_delete.connect(
        _member_benefits_changed,
        sender=_member_model,
        dispatch_uid=f"benefits-del-{_member_model}",
    )


# --- points multipliers (members.points.rules) -------------------------------------------


def tier_points_multiplier(member: Member) -> Decimal:
    """The points multiplier of the member's tier (1 without a tier)."""
    value = (
        MemberTier.objects.for_tenant(member.tenant_id)
        .filter(member_id=member.pk, tier__isnull=False)
        .values_list("tier__points_multiplier", flat=True)
        .first()
    )
    return value if value is not None else ONE


def card_points_multiplier(member: Member, *, now: datetime | None = None) -> Decimal:
    """The points multiplier of the member's running paid card (1 without one)."""
    now = now or timezone.now()
    value = (
        MemberCard.objects.for_tenant(member.tenant_id)
        .filter(member_id=member.pk, ends_at__gt=now, plan__isnull=False)
        .values_list("plan__points_multiplier", flat=True)
        .first()
    )
    return value if value is not None else ONE
