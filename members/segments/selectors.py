"""Segment evaluation: a segment's conditions composed into one ``Q`` on ``Member`` (subqueries,
no Python loop over members), so counting or listing a segment is one SQL query."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import reduce
from operator import and_, or_

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from mall.tenancy.models import Tenant
from members.models import Address, Member, MemberIdentity
from members.segments.hooks import distributor_members_source
from members.segments.models import MemberRfm, MemberTag, Segment, SegmentCondition, Tag

K = SegmentCondition.Kind

NOTHING = Q(pk__in=[])


def _compare(field: str, comparison: str, value: object) -> Q:
    return Q(**{f"{field}__{'gte' if comparison == 'gte' else 'lte'}": value})


def _rfm(tenant_id: int, q: Q) -> Q:
    return Q(pk__in=MemberRfm.objects.for_tenant(tenant_id).filter(q).values("member_id"))


def condition_q(condition: SegmentCondition, *, tenant_id: int, now: datetime) -> Q:
    """The members meeting one condition (before ``negate``)."""
    kind = condition.kind
    if kind == K.TAG:
        return Q(
            Exists(
                MemberTag.objects.filter(
                    tenant_id=tenant_id, member_id=OuterRef("pk"), tag_id=condition.tag_id
                )
            )
        )
    if kind == K.PLATFORM:
        return Q(
            Exists(
                MemberIdentity.objects.filter(
                    tenant_id=tenant_id, member_id=OuterRef("pk"), platform=condition.platform
                )
            )
        )
    if kind == K.CITY:
        city = condition.city.strip()
        return Q(
            Exists(
                Address.objects.filter(tenant_id=tenant_id, member_id=OuterRef("pk")).filter(
                    Q(city=city) | Q(city_code=city)
                )
            )
        )
    if kind == K.BIRTHDAY_MONTH:
        return Q(birthday__month=condition.month)
    if kind == K.DISTRIBUTOR:
        source = distributor_members_source()
        return Q(pk__in=source(tenant_id)) if source is not None else NOTHING
    if kind == K.TIER:
        return Q(tier_state__tier_id=condition.tier_id)
    comparison = condition.comparison
    if kind == K.DAYS_SINCE_PAID:
        # "at least N days" = last paid on or before now - N days; "at most" = after it.
        # Members who never paid have no RFM row: they are "at least N days" for every N.
        boundary = now - timedelta(days=condition.number or 0)
        if comparison == "gte":
            return ~_rfm(tenant_id, Q(last_paid_at__gt=boundary))
        return _rfm(tenant_id, Q(last_paid_at__gte=boundary))
    if kind in (K.PAID_ORDERS, K.PAID_AMOUNT):
        column = ("orders_" if kind == K.PAID_ORDERS else "amount_") + f"{condition.window_days}d"
        value = condition.number if kind == K.PAID_ORDERS else condition.amount
        matched = _rfm(tenant_id, _compare(column, comparison, value))
        if comparison == "lte" or not value:
            # No row = 0 orders, 0 yuan: included by "at most" (and by "at least 0").
            return matched | ~_rfm(tenant_id, Q())
        return matched
    if kind in (K.R_SCORE, K.F_SCORE, K.M_SCORE):
        column = f"{kind[0]}_score"
        matched = _rfm(tenant_id, _compare(column, comparison, condition.number))
        if comparison == "lte":
            return matched | ~_rfm(tenant_id, Q())  # no row: score 0
        return matched
    raise ValueError(f"unknown condition kind {kind!r}")


def segment_q(
    segment: Segment, conditions: Iterable[SegmentCondition], *, now: datetime | None = None
) -> Q:
    now = now or timezone.now()
    parts = []
    for condition in conditions:
        q = condition_q(condition, tenant_id=segment.tenant_id, now=now)
        parts.append(~q if condition.negate else q)
    if not parts:
        return Q()  # no condition: every member
    return reduce(and_ if segment.match == Segment.Match.ALL else or_, parts)


def segment_members(
    *, tenant: Tenant | int, segment: Segment, now: datetime | None = None
) -> QuerySet[Member]:
    """The segment's members now (active, not merged away): one query when evaluated. The
    conditions are read once (one query) unless they were prefetched."""
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    if segment.tenant_id != tenant_id:
        return Member.objects.none()
    conditions = list(segment.conditions.all())
    return (
        Member.objects.for_tenant(tenant_id)
        .filter(is_active=True, merged_into__isnull=True)
        .filter(segment_q(segment, conditions, now=now))
    )


def segment_count(*, tenant: Tenant | int, segment: Segment, now: datetime | None = None) -> int:
    return segment_members(tenant=tenant, segment=segment, now=now).count()


def segment_member_ids(
    *, tenant: Tenant | int, segment: Segment, now: datetime | None = None
) -> list[int]:
    return list(
        segment_members(tenant=tenant, segment=segment, now=now)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def segments_for_tenant(tenant: Tenant | int) -> QuerySet[Segment]:
    return Segment.objects.for_tenant(tenant)


def tags_for_tenant(tenant: Tenant | int) -> QuerySet[Tag]:
    return Tag.objects.for_tenant(tenant)


def member_tag_names(*, tenant: Tenant | int, member_id: int) -> list[str]:
    return list(
        MemberTag.objects.for_tenant(tenant)
        .filter(member_id=member_id)
        .order_by("tag__name")
        .values_list("tag__name", flat=True)
    )
