"""Display helpers of the console: amounts as ``¥1,234.50``, changes as ``+12.5%``, times in
the tenant's zone.

Use them from Python (``list_display`` callables, ``@admin.display``) or from templates::

    {% load console %}
    {{ order.pay_amount|yuan }}            -> ¥1,234.50
    {{ order.paid_at|tenant_datetime:tenant }}  -> 2026-03-01 09:30 (tenant's time zone)

Amounts are ``Decimal`` CNY (``mall.money``); the grouping and decimals do not depend on the
active language (merchants expect ``¥1,234.50`` in Chinese and English alike).
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.utils import timezone

from mall.money import quantize

YUAN = "¥"
TENTH = Decimal("0.1")
DATETIME_FORMAT = "%Y-%m-%d %H:%M"
DATE_FORMAT = "%Y-%m-%d"


def format_yuan(amount: Decimal | int | float | str | None, *, empty: str = "-") -> str:
    """``Decimal("1234.5") -> "¥1,234.50"``; negative ``"-¥12.00"``; None -> ``empty``."""
    if amount is None or amount == "":
        return empty
    try:
        value = quantize(Decimal(str(amount)))
    except (InvalidOperation, ValueError, TypeError):
        return str(amount)
    sign = "-" if value < 0 else ""
    return f"{sign}{YUAN}{abs(value):,.2f}"


def _zone(tenant_or_zone: Any) -> zoneinfo.ZoneInfo:
    if isinstance(tenant_or_zone, zoneinfo.ZoneInfo):
        return tenant_or_zone
    if isinstance(tenant_or_zone, str):
        return zoneinfo.ZoneInfo(tenant_or_zone)
    tz = getattr(tenant_or_zone, "tz", None)
    if tz is not None:
        return tz
    return zoneinfo.ZoneInfo(str(timezone.get_default_timezone()))


def tenant_localtime(value: datetime, tenant_or_zone: Any) -> datetime:
    """An aware datetime in the tenant's time zone (a naive one is taken as UTC)."""
    if timezone.is_naive(value):
        value = timezone.make_aware(value, zoneinfo.ZoneInfo("UTC"))
    return value.astimezone(_zone(tenant_or_zone))


def format_tenant_datetime(
    value: datetime | None, tenant_or_zone: Any, *, fmt: str = DATETIME_FORMAT, empty: str = "-"
) -> str:
    """``2026-03-01 01:30 UTC`` for a Shanghai shop -> ``"2026-03-01 09:30"``."""
    if value is None:
        return empty
    return tenant_localtime(value, tenant_or_zone).strftime(fmt)


def format_cny(amount: Decimal | int | str | None) -> str:
    """The dashboard's name for :func:`format_yuan` (zero when there is no amount)."""
    return format_yuan(amount or 0)


def format_count(value: int | None) -> str:
    """``12345`` -> ``"12,345"``."""
    return f"{int(value or 0):,}"


def change_percent(current: Decimal | int, previous: Decimal | int) -> Decimal | None:
    """The change from ``previous`` to ``current`` in percent, one decimal (half up);
    ``None`` when there is nothing to compare with (``previous`` is zero)."""
    if not previous:
        return None
    ratio = (Decimal(current) - Decimal(previous)) * 100 / Decimal(previous)
    return ratio.quantize(TENTH, rounding=ROUND_HALF_UP)


def format_change(change: Decimal | None) -> str:
    """``12.5`` -> ``"+12.5%"``, ``-3`` -> ``"-3.0%"``, ``None`` (no base) -> ``"—"``."""
    if change is None:
        return "—"
    sign = "+" if change > 0 else ""
    return f"{sign}{change:.1f}%"
