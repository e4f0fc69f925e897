"""Reads of member cards."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from mall.tenancy.models import Tenant
from members.models import Member, MemberCard, MemberCardPlan


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
