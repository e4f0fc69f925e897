"""The member's pricing benefits (tier and paid card) as one scalar SQL expression, for the
quote's one SKU statement (like ``members.sql.address_province_column``), and read on its own
by ``members.tiers.selectors.member_benefits`` (cached)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection

from mall.rawsql import as_datetime, scalar_values

_FIELDS = "t.discount_rate, t.free_shipping, c.ends_at, p.price_rate, p.free_shipping"
_SELECT = {
    "postgresql": f"SELECT CAST(json_build_array({_FIELDS}) AS TEXT)",
    "sqlite": f"SELECT json_array({_FIELDS})",
}
# One row whatever the member has (member LEFT JOIN tier state, card); NULL for a member not
# in this shop.
_FROM = (
    " FROM members_member m"
    " LEFT JOIN members_membertier mt ON mt.member_id = m.id AND mt.tenant_id = m.tenant_id"
    " LEFT JOIN members_tier t ON t.id = mt.tier_id AND t.tenant_id = m.tenant_id"
    " LEFT JOIN members_membercard c ON c.member_id = m.id AND c.tenant_id = m.tenant_id"
    " LEFT JOIN members_membercardplan p ON p.id = c.plan_id AND p.tenant_id = m.tenant_id"
    " WHERE m.tenant_id = %s AND m.id = %s"
)


@dataclass(frozen=True)
class MemberBenefits:
    """What the member's tier and paid card give on prices and shipping (the card's only
    while it runs: ``card_ends_at``, checked at read time)."""

    tier_discount_rate: Decimal | None = None
    tier_free_shipping: bool = False
    card_ends_at: datetime | None = None
    card_price_rate: Decimal | None = None
    card_free_shipping: bool = False

    def card_active(self, now: datetime) -> bool:
        return self.card_ends_at is not None and now < self.card_ends_at

    def card_rate(self, now: datetime) -> Decimal | None:
        return self.card_price_rate if self.card_active(now) else None

    def free_shipping_source(self, now: datetime) -> str | None:
        """``tier_free_shipping`` / ``card_free_shipping`` when one of them gives it."""
        if self.tier_free_shipping:
            return "tier_free_shipping"
        if self.card_free_shipping and self.card_active(now):
            return "card_free_shipping"
        return None


NO_BENEFITS = MemberBenefits()


def member_benefits_column(*, tenant_id: int, member_id: int) -> tuple[str, list[Any]]:
    """The member's benefits as one JSON text column; ``member_benefits_from_column`` reads it."""
    return _SELECT[connection.vendor] + _FROM, [tenant_id, member_id]


def _rate(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def member_benefits_from_column(value: str | None) -> MemberBenefits:
    if not value:
        return NO_BENEFITS
    row: Sequence[Any] = json.loads(value, parse_float=Decimal)
    return MemberBenefits(
        tier_discount_rate=_rate(row[0]),
        tier_free_shipping=bool(row[1]),
        card_ends_at=as_datetime(row[2]) if row[2] is not None else None,
        card_price_rate=_rate(row[3]),
        card_free_shipping=bool(row[4]),
    )


def member_benefits_load(*, tenant_id: int, member_id: int) -> MemberBenefits:
    """The benefits in one statement of their own."""
    (value,) = scalar_values([member_benefits_column(tenant_id=tenant_id, member_id=member_id)])
    return member_benefits_from_column(value)
