"""Display helpers of the console: amounts as ``¥1,234.50``, changes as ``+12.5%``.

Used by the dashboard; kept in one place so the console theme can share them.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
TENTH = Decimal("0.1")


def format_cny(amount: Decimal | int | str | None) -> str:
    """``Decimal("1234.5")`` -> ``"¥1,234.50"``; negative amounts as ``"-¥3.00"``."""
    value = Decimal(amount or 0).quantize(CENT, rounding=ROUND_HALF_UP)
    sign = "-" if value < 0 else ""
    return f"{sign}¥{abs(value):,.2f}"


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
