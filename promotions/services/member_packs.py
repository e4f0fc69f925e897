"""Coupon packs of tiers and paid cards, and tier birthday gifts (docs/members.md).

- A paid card's pack: when the card is bought (a follow-up of the payment) and at the start of
  every card month while it runs (card month k starts at ``starts_at + k months``).
- A tier's monthly pack: once per calendar month (the tenant's time zone) while the member is
  in a tier with a pack (the tier of the moment the beat runs).
- A tier's birthday gift: on the member's birthday (tenant's time zone), once a year: the
  birthday coupon and the birthday points (through ``register_points_granter``: the points
  ledger fills it).

Each grant is a ``BenefitGrant`` row with a unique key per period, written in the transaction
that issues the coupons: running a beat twice, or two workers at once, gives nothing more.
Coupons go through ``coupon_claim`` (channel ``automation``), so the template's total and
per-member limits hold: a monthly pack needs a per-member limit that allows a coupon a month.
A refused coupon (sold out, limit) is recorded in the grant's ``detail.skipped``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from mall.errors import ApplicationError
from mall.tenancy.models import Tenant
from members.models import (
    BenefitGrant,
    CardPlanCoupon,
    Member,
    MemberCard,
    MemberTier,
    TierCoupon,
)
from members.tiers.services import add_months
from promotions.models import CouponTemplate
from promotions.services.coupons import coupon_claim

logger = logging.getLogger(__name__)
K = BenefitGrant.Kind

PointsGranter = Callable[..., object]  # (*, tenant, member, points, reason, ref) -> object
_points_granters: list[PointsGranter] = []


def register_points_granter(granter: PointsGranter) -> None:
    """The points ledger's grant function (birthday points); once."""
    if granter not in _points_granters:
        _points_granters.append(granter)


@dataclass(frozen=True)
class PackItem:
    template_id: int
    quantity: int


def member_pack_issue(
    *,
    tenant: Tenant,
    member: Member,
    kind: str,
    key: str,
    items: Sequence[PackItem],
    points: int = 0,
    now: datetime | None = None,
) -> BenefitGrant | None:
    """Give the pack once per ``key``: answers the grant, or None when it was given before."""
    now = now or timezone.now()
    with transaction.atomic():
        try:
            with transaction.atomic():
                grant = BenefitGrant.objects.create(
                    tenant=tenant, member=member, kind=kind, key=key[:100]
                )
        except IntegrityError:
            return None
        coupons: list[int] = []
        skipped: dict[str, str] = {}
        for item in items:
            for _ in range(item.quantity):
                try:
                    coupon = coupon_claim(
                        tenant=tenant,
                        member=member,
                        template_id=item.template_id,
                        channel=CouponTemplate.Channel.AUTOMATION,
                        now=now,
                    )
                except ApplicationError as exc:
                    skipped[str(item.template_id)] = exc.code
                    break
                coupons.append(coupon.pk)
        detail: dict[str, object] = {"coupons": coupons, "skipped": skipped}
        if points > 0:
            for granter in _points_granters:
                granter(tenant=tenant, member=member, points=points, reason="birthday", ref=key)
            detail["points"] = points
            detail["points_granted"] = bool(_points_granters)
        grant.detail = detail
        grant.save(update_fields=["detail"])
    return grant


# --- paid cards ---------------------------------------------------------------------------


def card_month_start(card: MemberCard, now: datetime) -> datetime | None:
    """The start of the card month ``now`` falls in (None when the card is not running)."""
    if not (card.starts_at <= now < card.ends_at):
        return None
    months = (now.year - card.starts_at.year) * 12 + now.month - card.starts_at.month
    start = add_months(card.starts_at, max(months, 0))
    while start > now:
        months -= 1
        start = add_months(card.starts_at, months)
    return start


def card_pack_key(card: MemberCard, start: datetime) -> str:
    return f"card-pack:{card.member_id}:{start:%Y%m%d%H%M%S}"


def _plan_items(tenant_id: int, plan_ids: set[int]) -> dict[int, list[PackItem]]:
    items: dict[int, list[PackItem]] = {}
    rows = (
        CardPlanCoupon.objects.for_tenant(tenant_id)
        .filter(plan_id__in=plan_ids)
        .order_by("id")
        .values_list("plan_id", "template_id", "quantity")
    )
    for plan_id, template_id, quantity in rows:
        items.setdefault(plan_id, []).append(PackItem(template_id, quantity))
    return items


def card_packs_issue(
    *, tenant: Tenant, member_ids: Sequence[int] | None = None, now: datetime | None = None
) -> int:
    """Give the running cards of this tenant (or of ``member_ids``) their pack for the current
    card month when not given yet; answers the number of packs given."""
    now = now or timezone.now()
    cards_qs = MemberCard.objects.for_tenant(tenant).filter(
        ends_at__gt=now, starts_at__lte=now, plan__isnull=False, plan__coupons__isnull=False
    )
    if member_ids is not None:
        cards_qs = cards_qs.filter(member_id__in=member_ids)
    cards = list(cards_qs.distinct().select_related("member").order_by("pk"))
    due = [(card, card_month_start(card, now)) for card in cards]
    keys = {card.pk: card_pack_key(card, start) for card, start in due if start is not None}
    given = set(
        BenefitGrant.objects.for_tenant(tenant)
        .filter(key__in=list(keys.values()))
        .values_list("key", flat=True)
    )
    items = _plan_items(tenant.pk, {card.plan_id for card in cards if card.plan_id})
    done = 0
    for card, _start in due:
        key = keys.get(card.pk)
        if key is None or key in given or card.plan_id is None:
            continue
        if member_pack_issue(
            tenant=tenant,
            member=card.member,
            kind=K.CARD_PACK,
            key=key,
            items=items.get(card.plan_id, []),
            now=now,
        ):
            done += 1
    return done


# --- tiers --------------------------------------------------------------------------------


def tier_packs_issue(*, tenant: Tenant, now: datetime | None = None) -> int:
    """This calendar month's (tenant time zone) tier packs not given yet."""
    now = now or timezone.now()
    month = timezone.localtime(now, tenant.tz).strftime("%Y-%m")
    states = list(
        MemberTier.objects.for_tenant(tenant)
        .filter(tier__monthly_coupons__isnull=False)
        .distinct()
        .select_related("member")
        .order_by("pk")
    )
    keys = {s.pk: f"tier-pack:{s.member_id}:{month}" for s in states}
    given = set(
        BenefitGrant.objects.for_tenant(tenant)
        .filter(key__in=list(keys.values()))
        .values_list("key", flat=True)
    )
    items: dict[int, list[PackItem]] = {}
    for tier_id, template_id, quantity in (
        TierCoupon.objects.for_tenant(tenant)
        .filter(tier_id__in={s.tier_id for s in states})
        .order_by("id")
        .values_list("tier_id", "template_id", "quantity")
    ):
        items.setdefault(tier_id, []).append(PackItem(template_id, quantity))
    done = 0
    for state in states:
        key = keys[state.pk]
        if key in given or state.tier_id is None:
            continue
        if member_pack_issue(
            tenant=tenant,
            member=state.member,
            kind=K.TIER_PACK,
            key=key,
            items=items.get(state.tier_id, []),
            now=now,
        ):
            done += 1
    return done


def birthday_gifts_issue(*, tenant: Tenant, now: datetime | None = None) -> int:
    """Birthday gifts of the members whose birthday is today (tenant time zone)."""
    now = now or timezone.now()
    today = timezone.localtime(now, tenant.tz).date()
    states = list(
        MemberTier.objects.for_tenant(tenant)
        .filter(
            member__birthday__month=today.month,
            member__birthday__day=today.day,
            tier__isnull=False,
        )
        .exclude(tier__birthday_coupon__isnull=True, tier__birthday_points=0)
        .select_related("member", "tier")
        .order_by("pk")
    )
    done = 0
    for state in states:
        tier = state.tier
        assert tier is not None
        items = [PackItem(tier.birthday_coupon_id, 1)] if tier.birthday_coupon_id else []
        if member_pack_issue(
            tenant=tenant,
            member=state.member,
            kind=K.BIRTHDAY,
            key=f"birthday:{state.member_id}:{today.year}",
            items=items,
            points=tier.birthday_points,
            now=now,
        ):
            done += 1
    return done


def member_packs_issue_all(*, now: datetime | None = None) -> int:
    """Beat (platform-wide): card and tier packs and birthday gifts due in every tenant."""
    now = now or timezone.now()
    tenant_ids = set(
        MemberCard.objects.all_tenants()
        .filter(ends_at__gt=now, plan__coupons__isnull=False)
        .values_list("tenant_id", flat=True)
        .distinct()
    ) | set(
        MemberTier.objects.all_tenants()
        .filter(tier__isnull=False)
        .values_list("tenant_id", flat=True)
        .distinct()
    )
    total = 0
    for tenant in Tenant.objects.filter(pk__in=tenant_ids).order_by("pk"):
        try:
            total += card_packs_issue(tenant=tenant, now=now)
            total += tier_packs_issue(tenant=tenant, now=now)
            total += birthday_gifts_issue(tenant=tenant, now=now)
        except Exception:  # one tenant's failure must not stop the others (retried next run)
            logger.exception("member packs of tenant %s failed", tenant.pk)
    return total
