"""Reads of member cards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from mall.tenancy.models import Tenant
from members.models import CardPlanCoupon, Member, MemberCard, MemberCardPlan


def card_plan_list_active(*, tenant: Tenant) -> QuerySet[MemberCardPlan]:
    return MemberCardPlan.objects.for_tenant(tenant).filter(is_active=True).order_by("sort", "id")


def member_card_current(*, member: Member) -> MemberCard | None:
    """The member's card while it runs (``None`` once it ended)."""
    return (
        MemberCard.objects.for_tenant(member.tenant_id)
        .filter(member=member, ends_at__gt=timezone.now())
        .select_related("plan")
        .first()
    )


@dataclass(frozen=True)
class CardCoupon:
    template_id: int
    name: str
    quantity: int


@dataclass(frozen=True)
class CardInForce:
    card: MemberCard
    coupons: tuple[CardCoupon, ...]


def member_card_in_force(*, member: Member, now: datetime | None = None) -> CardInForce | None:
    """The member's running card with its plan's benefits and coupon pack (2 queries), or
    None."""
    now = now or timezone.now()
    card = (
        MemberCard.objects.for_tenant(member.tenant_id)
        .filter(member=member, ends_at__gt=now)
        .select_related("plan")
        .first()
    )
    if card is None:
        return None
    coupons: tuple[CardCoupon, ...] = ()
    if card.plan_id is not None:
        coupons = tuple(
            CardCoupon(template_id, name, quantity)
            for template_id, name, quantity in CardPlanCoupon.objects.for_tenant(member.tenant_id)
            .filter(plan_id=card.plan_id)
            .order_by("id")
            .values_list("template_id", "template__name", "quantity")
        )
    return CardInForce(card, coupons)
