"""The one money helper: rounding to the fen and exact proportional allocation.

Amounts are ``Decimal`` CNY with two places. Rounding is ROUND_HALF_UP everywhere. ``allocate``
splits a total over weights by the largest-remainder method, so the parts always add up to the
total to the fen (line discounts, refunds, commissions).
"""

from __future__ import annotations

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


def allocate(total: Decimal | int | str, weights: Sequence[Decimal | int]) -> list[Decimal]:
    """Split ``total`` over ``weights`` exactly to the fen (largest remainder).

    Each part is the floor of its exact share in fen; the fen left over go one each to the
    parts with the largest remainders (ties: the earlier index). All-zero weights split
    equally. Negative weights are refused; a negative total is split as its absolute value
    and negated, so ``sum(result) == total`` always holds.
    """
    total_fen = to_fen(total)
    count = len(weights)
    if count == 0:
        if total_fen != 0:
            raise ValueError("Cannot allocate a non-zero total over no weights.")
        return []
    decimal_weights = [Decimal(w) for w in weights]
    if any(w < 0 for w in decimal_weights):
        raise ValueError("Weights must not be negative.")
    weight_sum = sum(decimal_weights, Decimal(0))
    if weight_sum == 0:
        decimal_weights = [Decimal(1)] * count
        weight_sum = Decimal(count)
    sign = -1 if total_fen < 0 else 1
    remaining = abs(total_fen)
    parts: list[int] = []
    remainders: list[tuple[Decimal, int]] = []
    for index, weight in enumerate(decimal_weights):
        exact = Decimal(abs(total_fen)) * weight / weight_sum
        floor = int(exact.to_integral_value(rounding=ROUND_DOWN))
        parts.append(floor)
        remainders.append((exact - floor, index))
        remaining -= floor
    # The largest remainders first; on a tie the earlier index wins (stable, deterministic).
    for _, index in sorted(remainders, key=lambda item: (-item[0], item[1]))[:remaining]:
        parts[index] += 1
    return [from_fen(sign * part) for part in parts]
