"""Helpers of the segments and automation tests: paid orders at given ages, segments."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from members.models import Member
from members.segments.models import Segment, SegmentCondition
from orders.models import Order

_seq = [0]


def paid(
    member: Member,
    *,
    days_ago: float,
    amount: str,
    refunded: str = "0",
    now: datetime,
    status: str = Order.Status.PAID,
) -> Order:
    _seq[0] += 1
    value = Decimal(amount)
    return Order.objects.create(
        tenant_id=member.tenant_id,
        member=member,
        number=f"S{_seq[0]:012d}",
        status=status,
        subtotal=value,
        payable=value,
        paid_amount=value,
        refunded_amount=Decimal(refunded),
        paid_at=now - timedelta(days=days_ago),
    )


def segment(tenant: Any, *rows: dict[str, Any], match: str = "all", name: str = "") -> Segment:
    seg = Segment.objects.create(
        tenant=tenant, name=name or f"segment {Segment.objects.count() + 1}", match=match
    )
    for row in rows:
        condition = SegmentCondition(tenant=tenant, segment=seg, **row)
        condition.full_clean(exclude=["tenant", "segment"])
        condition.save()
    return seg
