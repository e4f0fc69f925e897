"""Row-locking querysets of the members domain (always in pk order)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Q, QuerySet

from mall.tenancy.models import Tenant
from members.models import (
    AutomationExecution,
    CardPurchase,
    Member,
    MemberCard,
    MemberTier,
    PointsLot,
)


def members_for_update(*, tenant: Tenant | int, ids: Iterable[int]) -> QuerySet[Member]:
    return (
        Member.objects.for_tenant(tenant)
        .select_for_update()
        .filter(pk__in=sorted(set(ids)))
        .order_by("pk")
    )


def card_purchase_qs_for_update(*, tenant: Tenant | int, reference: str) -> QuerySet[CardPurchase]:
    return CardPurchase.objects.for_tenant(tenant).select_for_update().filter(reference=reference)


def member_card_qs_for_update(*, tenant: Tenant | int, member_id: int) -> QuerySet[MemberCard]:
    return MemberCard.objects.for_tenant(tenant).select_for_update().filter(member_id=member_id)


def automation_pending_for_update(
    *, tenant: Tenant | int, rule_id: int, limit: int
) -> QuerySet[AutomationExecution]:
    """A batch of a rule's pending executions, locked; rows another runner holds are skipped
    (two sweeps at once share the work instead of doing it twice)."""
    return (
        AutomationExecution.objects.for_tenant(tenant)
        .filter(rule_id=rule_id, status=AutomationExecution.Status.PENDING)
        .order_by("pk")
        .select_for_update(skip_locked=True, of=("self",))[:limit]
    )


def member_tier_qs_for_update(*, tenant: Tenant | int, member_id: int) -> QuerySet[MemberTier]:
    """The member's tier row (lock the member first: ``members_for_update``)."""
    return MemberTier.objects.for_tenant(tenant).select_for_update().filter(member_id=member_id)


def member_tiers_for_update(*, tenant: Tenant | int, ids: Iterable[int]) -> QuerySet[MemberTier]:
    return (
        MemberTier.objects.for_tenant(tenant)
        .select_for_update()
        .filter(pk__in=sorted(set(ids)))
        .order_by("pk")
    )


def points_lots_for_update(*, tenant: Tenant | int, ids: Iterable[int]) -> QuerySet[PointsLot]:
    """Lots by id (pk order); take the member's row lock first (``members_for_update``)."""
    return (
        PointsLot.objects.for_tenant(tenant)
        .select_for_update()
        .filter(pk__in=sorted(set(ids)))
        .order_by("pk")
    )


def points_lots_live_for_update(*, tenant: Tenant | int, member_id: int) -> QuerySet[PointsLot]:
    """The member's unexpired lots with points left, oldest expiry first (FIFO spending);
    take the member's row lock first."""
    return (
        PointsLot.objects.for_tenant(tenant)
        .select_for_update()
        .filter(member_id=member_id, expired=False, remaining__gt=0)
        .order_by("expires_at", "pk")
    )


def points_lots_due_for_update(*, ids: Iterable[int]) -> QuerySet[PointsLot]:
    """Lots of any shop by id (the expiry sweep, inside ``all_tenants()``), pk order."""
    return (
        PointsLot.objects.all_tenants()
        .select_for_update()
        .filter(pk__in=sorted(set(ids)))
        .order_by("pk")
    )


def members_any_tenant_for_update(*, ids: Iterable[int]) -> QuerySet[Member]:
    """Members of any shop by id (the expiry sweep, inside ``all_tenants()``), pk order."""
    return (
        Member.objects.all_tenants()
        .select_for_update()
        .filter(pk__in=sorted(set(ids)))
        .order_by("pk")
    )


def points_lots_past_expiry_for_update(
    *, member_ids: Iterable[int], now: datetime
) -> QuerySet[PointsLot]:
    """Lots of any shop past their expiry, of these (already locked) members: the expiry
    sweep, inside ``all_tenants()``."""
    return (
        PointsLot.objects.all_tenants()
        .select_for_update()
        .filter(member_id__in=sorted(set(member_ids)), expired=False, expires_at__lte=now)
    )


def points_lots_skip_locked(condition: Q) -> QuerySet[PointsLot]:
    """Lots of any shop matching ``condition``, locked; rows another sweep holds are skipped
    (the expiry notice, inside ``all_tenants()``)."""
    return PointsLot.objects.all_tenants().select_for_update(skip_locked=True).filter(condition)
