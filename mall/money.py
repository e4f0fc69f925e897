"""The one money helper: rounding to the fen and exact proportional allocation.

Amounts are ``Decimal`` CNY with two places. Rounding is ROUND_HALF_UP everywhere. ``allocate``
splits a total over weights by the largest-remainder method, so the parts always add up to the
total to the fen (line discounts, refunds, commissions).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

FEN = Decimal("0.01")
ZERO = Decimal("0.00")


def quantize(amount: Decimal | int | str, *, rounding: str = ROUND_HALF_UP) -> Decimal:
    """``amount`` rounded to the fen (ROUND_HALF_UP unless told otherwise)."""
    return Decimal(amount).quantize(FEN, rounding=rounding)


def quantize_down(amount: Decimal | int | str) -> Decimal:
    """``amount`` truncated to the fen (caps: never round a limit up)."""
    return quantize(amount, rounding=ROUND_DOWN)


def to_fen(amount: Decimal | int | str) -> int:
    """Whole fen of ``amount`` (rounded half up): ``Decimal("19.90") -> 1990``."""
    return int(quantize(amount) * 100)


def from_fen(fen: int) -> Decimal:
    """``1990 -> Decimal("19.90")``."""
    return (Decimal(fen) / 100).quantize(FEN)


def _as_integers(weights: Sequence[Decimal | int]) -> list[int]:
    """The weights times one common factor, as exact integers (same proportions)."""
    try:
        ratios = [w.as_integer_ratio() for w in weights]  # exact; int and Decimal alike
    except (ValueError, OverflowError) as exc:  # NaN, infinity
        raise ValueError("Weights must be finite numbers.") from exc
    scale = math.lcm(*(d for _, d in ratios))
    if scale == 1:
        return [n for n, _ in ratios]
    return [n * (scale // d) for n, d in ratios]


def allocate(total: Decimal | int | str, weights: Sequence[Decimal | int]) -> list[Decimal]:
    """Split ``total`` over ``weights`` exactly to the fen (largest remainder).

    Each part is the floor of its exact share in fen; the fen left over go one each to the
    parts with the largest remainders (ties: the earlier index). All-zero weights split
    equally. Negative weights are refused; a negative total is split as its absolute value
    and negated, so ``sum(result) == total`` always holds. Shares are worked out in exact
    integer arithmetic (fen times scaled weights), never rounded.
    """
    total_fen = to_fen(total)
    count = len(weights)
    if count == 0:
        if total_fen != 0:
            raise ValueError("Cannot allocate a non-zero total over no weights.")
        return []
    scaled = _as_integers(weights)
    if any(w < 0 for w in scaled):
        raise ValueError("Weights must not be negative.")
    weight_sum = sum(scaled)
    if weight_sum == 0:
        scaled = [1] * count
        weight_sum = count
    sign = -1 if total_fen < 0 else 1
    amount = abs(total_fen)
    remaining = amount
    parts: list[int] = []
    remainders: list[tuple[int, int]] = []
    for index, weight in enumerate(scaled):
        floor, remainder = divmod(amount * weight, weight_sum)
        parts.append(floor)
        remainders.append((remainder, index))
        remaining -= floor
    # The largest remainders first; on a tie the earlier index wins (stable, deterministic).
    for _, index in sorted(remainders, key=lambda item: (-item[0], item[1]))[:remaining]:
        parts[index] += 1
    return [from_fen(sign * part) for part in parts]
