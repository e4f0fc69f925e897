"""Tiers and growth: the growth ledger, upgrades, the periodic review (docs/members.md, "Tiers
and growth").

- Growth is a ledger (``GrowthEntry``, unique ``ref`` per tenant: granting the same ref again
  changes nothing); ``Member.growth`` is the sum of its member's entries.
- A member is upgraded as soon as their growth reaches a higher tier's ``growth_threshold``
  (to the highest tier reached); the tier's review clock starts then (``since``).
- Reviews come every ``TierSettings.review_months`` months from ``since``: the tier is kept if
  the growth earned in the period (entries other than review deductions) reaches the tier's
  ``keep_threshold``, else the member drops one tier and their growth is brought down to that
  tier's threshold (a ``review`` ledger row), so climbing back takes growth earned again.
- Every tier change (and every kept review) is a ``TierChange`` row and a
  ``member.tier_changed`` outbox event (automation reads them).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mall.errors import InvalidInputError
from mall.events.services import event_record
from mall.tenancy.models import Tenant
from members import lock_objects
from members.automation.models import AutomationRule
from members.automation.services import automation_trigger
from members.models import GrowthEntry, Member, MemberTier, Tier, TierChange, TierSettings

EVENT_TIER_CHANGED = "member.tier_changed"
REVIEW_BATCH = 500


class TierErrorCode(StrEnum):
    GROWTH_AMOUNT_INVALID = "growth_amount_invalid"
    GROWTH_REF_INVALID = "growth_ref_invalid"
    GROWTH_REASON_INVALID = "growth_reason_invalid"


@dataclass(frozen=True)
class TierTerms:
    growth_per_yuan: Decimal
    review_months: int


def tier_terms(tenant: Tenant | int) -> TierTerms:
    row = TierSettings.objects.for_tenant(tenant).first()
    if row is None:
        return TierTerms(TierSettings.DEFAULT_GROWTH_PER_YUAN, TierSettings.DEFAULT_REVIEW_MONTHS)
    return TierTerms(row.growth_per_yuan, row.review_months)


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` plus whole calendar months (the day clamped to the month's last day)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def growth_of_amount(amount: Decimal, rate: Decimal) -> int:
    """Growth earned for ``amount`` yuan at ``rate`` per yuan, rounded down."""
    if amount <= 0 or rate <= 0:
        return 0
    return int((amount * rate).to_integral_value(rounding=ROUND_DOWN))


def tiers_of(tenant: Tenant | int) -> list[Tier]:
    return list(Tier.objects.for_tenant(tenant).order_by("level", "id"))


def tier_reached(tiers: list[Tier], growth: int) -> Tier | None:
    """The highest tier whose growth threshold ``growth`` reaches (``tiers`` by level)."""
    best = None
    for tier in tiers:
        if growth >= tier.growth_threshold and (best is None or tier.level > best.level):
            best = tier
    return best


def tier_below(tiers: list[Tier], tier: Tier) -> Tier | None:
    lower = [t for t in tiers if t.level < tier.level]
    return max(lower, key=lambda t: t.level) if lower else None


def _review_at(since: datetime, reviews: int, tier: Tier | None, months: int) -> datetime | None:
    if tier is None or months <= 0 or tier.keep_threshold <= 0:
        return None
    return add_months(since, (reviews + 1) * months)


def _record_change(
    *,
    tenant: Tenant | int,
    member_id: int,
    from_tier: Tier | None,
    to_tier: Tier | None,
    reason: str,
    growth: int,
    now: datetime,
    window_growth: int | None = None,
) -> TierChange:
    change = TierChange.objects.create(
        tenant_id=tenant if isinstance(tenant, int) else tenant.pk,
        member_id=member_id,
        from_tier=from_tier,
        to_tier=to_tier,
        reason=reason,
        growth=growth,
        window_growth=window_growth,
        created_at=now,
    )
    if from_tier != to_tier:
        event_record(
            tenant=tenant,
            name=EVENT_TIER_CHANGED,
            subject=f"member:{member_id}",
            payload={
                "member_id": member_id,
                "from_tier_id": from_tier.pk if from_tier else None,
                "to_tier_id": to_tier.pk if to_tier else None,
                "from_level": from_tier.level if from_tier else None,
                "to_level": to_tier.level if to_tier else None,
                "reason": reason,
                "growth": growth,
            },
        )
        # Lifecycle automation: rules on "tier up" / "tier down" get a pending execution in
        # this transaction (one per rule, member, new tier and day).
        up = (to_tier.level if to_tier else 0) > (from_tier.level if from_tier else 0)
        tenant_id = tenant if isinstance(tenant, int) else tenant.pk
        automation_trigger(
            Member(pk=member_id, tenant_id=tenant_id),
            AutomationRule.Trigger.TIER_UP if up else AutomationRule.Trigger.TIER_DOWN,
            key=f"{to_tier.pk if to_tier else 0}:{now.date().isoformat()}",
        )
    return change


def _set_tier(
    *,
    tenant: Tenant,
    state: MemberTier | None,
    member_id: int,
    tier: Tier | None,
    since: datetime,
    months: int,
) -> MemberTier:
    if state is None:
        state = MemberTier(tenant=tenant, member_id=member_id)
    state.tier = tier
    state.since = since
    state.reviews = 0
    state.review_at = _review_at(since, 0, tier, months)
    state.save()
    return state


def _upgrade(
    *, tenant: Tenant, member_id: int, growth: int, now: datetime, months: int | None = None
) -> Tier | None:
    """Move the (locked) member to the highest tier ``growth`` reaches, if above theirs.
    Answers the new tier, or None when nothing changed."""
    tiers = tiers_of(tenant)
    reached = tier_reached(tiers, growth)
    if reached is None:
        return None
    state = lock_objects.member_tier_qs_for_update(tenant=tenant, member_id=member_id).first()
    current = state.tier if state is not None else None
    if current is not None and reached.level <= current.level:
        return None
    if months is None:
        months = tier_terms(tenant).review_months
    _set_tier(
        tenant=tenant, state=state, member_id=member_id, tier=reached, since=now, months=months
    )
    _record_change(
        tenant=tenant,
        member_id=member_id,
        from_tier=current,
        to_tier=reached,
        reason=TierChange.Reason.UPGRADE,
        growth=growth,
        now=now,
    )
    return reached


def _member_id(member: Member | int) -> int:
    return member if isinstance(member, int) else member.pk


def growth_grant(
    *,
    tenant: Tenant,
    member: Member | int,
    amount: int,
    reason: str,
    ref: str,
    note: str = "",
    now: datetime | None = None,
) -> GrowthEntry | None:
    """Add ``amount`` growth (may be negative: never below 0) to the member, once per ``ref``.

    Upgrades at once when a higher tier is reached (a negative amount never downgrades: only
    reviews do). Answers the entry, the existing one when ``ref`` was granted before, or None
    when nothing changed (a negative amount on 0 growth). Call inside or outside a
    transaction; the member row is locked for the change.
    """
    if not isinstance(amount, int) or isinstance(amount, bool) or amount == 0:
        raise InvalidInputError(
            TierErrorCode.GROWTH_AMOUNT_INVALID, _("Growth must be a whole number other than 0.")
        )
    if not ref or len(ref) > 100:
        raise InvalidInputError(
            TierErrorCode.GROWTH_REF_INVALID,
            _("A growth reference of 1 to 100 characters is required."),
        )
    if reason not in GrowthEntry.Reason.values:
        raise InvalidInputError(TierErrorCode.GROWTH_REASON_INVALID, _("Unknown growth reason."))
    now = now or timezone.now()
    member_id = _member_id(member)
    entries = GrowthEntry.objects.for_tenant(tenant)
    with transaction.atomic():
        locked = lock_objects.members_for_update(tenant=tenant, ids=[member_id]).first()
        if locked is None:
            return None
        existing = entries.filter(ref=ref).first()
        if existing is not None:
            return existing
        delta = max(amount, -locked.growth)
        if delta == 0:
            return None
        balance = locked.growth + delta
        try:
            with transaction.atomic():
                entry = GrowthEntry.objects.create(
                    tenant=tenant,
                    member_id=member_id,
                    delta=delta,
                    balance_after=balance,
                    reason=reason,
                    ref=ref,
                    note=note[:200],
                    created_at=now,
                )
        except IntegrityError:  # the same ref for another member of this tenant, meanwhile
            return entries.filter(ref=ref).first()
        Member.objects.for_tenant(tenant).filter(pk=member_id).update(growth=balance)
        if isinstance(member, Member):
            member.growth = balance
        if delta > 0:
            _upgrade(tenant=tenant, member_id=member_id, growth=balance, now=now)
    return entry


def growth_grant_for_order(
    *,
    tenant: Tenant,
    member_id: int,
    number: str,
    kept_amount: Decimal,
    rate: Decimal | None = None,
    now: datetime | None = None,
) -> GrowthEntry | None:
    """Growth for an order whose after-sale window closed: ``kept_amount`` (paid minus
    refunded) times the tenant's growth per yuan, rounded down; ref ``order:<number>``."""
    if rate is None:
        rate = tier_terms(tenant).growth_per_yuan
    growth = growth_of_amount(kept_amount, rate)
    if growth <= 0:
        return None
    return growth_grant(
        tenant=tenant,
        member=member_id,
        amount=growth,
        reason=GrowthEntry.Reason.ORDER,
        ref=f"order:{number}",
        note=str(kept_amount),
        now=now,
    )


def _window_growth(tenant: Tenant | int, member_id: int, start: datetime, end: datetime) -> int:
    total = (
        GrowthEntry.objects.for_tenant(tenant)
        .filter(member_id=member_id, created_at__gte=start, created_at__lt=end)
        .exclude(reason=GrowthEntry.Reason.REVIEW)
        .aggregate(total=Sum("delta"))["total"]
    )
    return int(total or 0)


@dataclass(frozen=True)
class ReviewResult:
    member_id: int
    kept: bool
    from_tier_id: int | None
    to_tier_id: int | None
    window_growth: int


def member_tier_review(
    *, tenant: Tenant, member_id: int, now: datetime | None = None, terms: TierTerms | None = None
) -> list[ReviewResult]:
    """Run the member's due reviews (all of them, when the beat was late), each at its own
    anchored instant. Idempotent: a review not due yet does nothing."""
    now = now or timezone.now()
    terms = terms or tier_terms(tenant)
    results: list[ReviewResult] = []
    with transaction.atomic():
        member = lock_objects.members_for_update(tenant=tenant, ids=[member_id]).first()
        state = lock_objects.member_tier_qs_for_update(tenant=tenant, member_id=member_id).first()
        if member is None or state is None:
            return results
        tiers = tiers_of(tenant)
        growth = member.growth
        while state.tier is not None and state.review_at is not None and state.review_at <= now:
            tier = state.tier
            at = state.review_at
            months = terms.review_months
            if months <= 0 or tier.keep_threshold <= 0:
                state.review_at = None
                break
            start = add_months(state.since, state.reviews * months)
            earned = _window_growth(tenant, member_id, start, at)
            if earned >= tier.keep_threshold:
                state.reviews += 1
                state.review_at = _review_at(state.since, state.reviews, tier, months)
                _record_change(
                    tenant=tenant,
                    member_id=member_id,
                    from_tier=tier,
                    to_tier=tier,
                    reason=TierChange.Reason.KEPT,
                    growth=growth,
                    now=at,
                    window_growth=earned,
                )
                results.append(ReviewResult(member_id, True, tier.pk, tier.pk, earned))
                continue
            lower = tier_below(tiers, tier)
            floor = lower.growth_threshold if lower is not None else 0
            if growth > floor:
                GrowthEntry.objects.create(
                    tenant=tenant,
                    member_id=member_id,
                    delta=floor - growth,
                    balance_after=floor,
                    reason=GrowthEntry.Reason.REVIEW,
                    ref=f"review:{member_id}:{at.isoformat()}",
                    note=tier.name[:200],
                    created_at=at,
                )
                growth = floor
            state.tier = lower
            state.since = at
            state.reviews = 0
            state.review_at = _review_at(at, 0, lower, months)
            _record_change(
                tenant=tenant,
                member_id=member_id,
                from_tier=tier,
                to_tier=lower,
                reason=TierChange.Reason.DROPPED,
                growth=growth,
                now=at,
                window_growth=earned,
            )
            results.append(
                ReviewResult(member_id, False, tier.pk, lower.pk if lower else None, earned)
            )
        state.save()
        if growth != member.growth:
            Member.objects.for_tenant(tenant).filter(pk=member_id).update(growth=growth)
    return results


def tier_reviews_run(*, tenant: Tenant, now: datetime | None = None) -> list[ReviewResult]:
    """Review this tenant's members whose review is due (a batch, in id order)."""
    now = now or timezone.now()
    terms = tier_terms(tenant)
    due = list(
        MemberTier.objects.for_tenant(tenant)
        .filter(review_at__lte=now, tier__isnull=False)
        .order_by("review_at", "pk")
        .values_list("member_id", flat=True)[:REVIEW_BATCH]
    )
    results: list[ReviewResult] = []
    for member_id in due:
        results += member_tier_review(tenant=tenant, member_id=member_id, now=now, terms=terms)
    return results


def tier_reviews_run_all(*, now: datetime | None = None) -> int:
    """Beat (platform-wide): the due reviews of every tenant; answers the number of reviews."""
    now = now or timezone.now()
    tenant_ids = sorted(
        set(
            MemberTier.objects.all_tenants()
            .filter(review_at__lte=now, tier__isnull=False)
            .values_list("tenant_id", flat=True)
            .distinct()
        )
    )
    total = 0
    for tenant in Tenant.objects.filter(pk__in=tenant_ids).order_by("pk"):
        total += len(tier_reviews_run(tenant=tenant, now=now))
    return total


def member_tier_set(
    *, tenant: Tenant, member_id: int, tier: Tier | None, now: datetime | None = None
) -> MemberTier:
    """The console sets a member's tier (its review clock starts now)."""
    now = now or timezone.now()
    with transaction.atomic():
        member = lock_objects.members_for_update(tenant=tenant, ids=[member_id]).get()
        state = lock_objects.member_tier_qs_for_update(tenant=tenant, member_id=member_id).first()
        current = state.tier if state is not None else None
        state = _set_tier(
            tenant=tenant,
            state=state,
            member_id=member_id,
            tier=tier,
            since=now,
            months=tier_terms(tenant).review_months,
        )
        if current != tier:
            _record_change(
                tenant=tenant,
                member_id=member_id,
                from_tier=current,
                to_tier=tier,
                reason=TierChange.Reason.MANUAL,
                growth=member.growth,
                now=now,
            )
    return state


def growth_needed(threshold: int, growth: int) -> int:
    return max(threshold - growth, 0)


def merge_member_tiers(*, survivor: Member, loser: Member) -> int:
    """Phone merge: the survivor keeps the higher tier (its own on a tie) with that tier's
    review clock; the loser's growth entries move with the other rows (``Member.growth`` is
    added up by the merge)."""
    rows = MemberTier.objects.for_tenant(survivor.tenant_id)
    theirs = rows.filter(member=loser).select_related("tier").first()
    if theirs is None:
        return 0
    mine = rows.filter(member=survivor).select_related("tier").first()
    if mine is None:
        return rows.filter(pk=theirs.pk).update(member=survivor)
    their_level = theirs.tier.level if theirs.tier else -1
    my_level = mine.tier.level if mine.tier else -1
    if their_level > my_level:
        previous = mine.tier
        mine.tier, mine.since = theirs.tier, theirs.since
        mine.reviews, mine.review_at = theirs.reviews, theirs.review_at
        mine.save()
        _record_change(
            tenant=survivor.tenant_id,
            member_id=survivor.pk,
            from_tier=previous,
            to_tier=mine.tier,
            reason=TierChange.Reason.MERGE,
            growth=survivor.growth,
            now=timezone.now(),
        )
    theirs.delete()
    return 1
