"""mall.money: rounding to the fen and exact largest-remainder allocation."""

from __future__ import annotations

import math
from decimal import Decimal as D
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mall.money import allocate, from_fen, quantize, to_fen


def test_quantize_rounds_half_up() -> None:
    assert quantize(D("56.905")) == D("56.91")
    assert quantize(D("56.904")) == D("56.90")
    assert quantize(D("-0.005")) == D("-0.01")
    assert quantize(3) == D("3.00")


def test_fen_conversions() -> None:
    assert to_fen(D("19.90")) == 1990
    assert to_fen("0.005") == 1
    assert from_fen(1990) == D("19.90")


def test_allocate_largest_remainder() -> None:
    # 30.00 over 200.00 and 59.90: 2308.58 / 691.42 fen -> the extra fen goes to the .58
    assert allocate(D("30.00"), [D("200.00"), D("59.90")]) == [D("23.09"), D("6.91")]


def test_allocate_ties_go_to_the_earlier_index() -> None:
    assert allocate(D("0.01"), [1, 1, 1]) == [D("0.01"), D("0.00"), D("0.00")]
    assert allocate(D("0.02"), [1, 1, 1]) == [D("0.01"), D("0.01"), D("0.00")]


def test_allocate_zero_weights_split_equally() -> None:
    assert allocate(D("1.00"), [0, 0, 0]) == [D("0.34"), D("0.33"), D("0.33")]


def test_allocate_negative_total_and_errors() -> None:
    assert allocate(D("-1.00"), [1, 2]) == [D("-0.33"), D("-0.67")]
    assert allocate(D("0"), []) == []
    with pytest.raises(ValueError):
        allocate(D("1.00"), [])
    with pytest.raises(ValueError):
        allocate(D("1.00"), [1, -1])


@given(
    total=st.integers(min_value=0, max_value=10_000_000),
    weights=st.lists(st.integers(min_value=0, max_value=1_000_000), min_size=1, max_size=30),
)
def test_allocate_is_exact_and_close_to_proportional(total: int, weights: list[int]) -> None:
    parts = allocate(from_fen(total), weights)
    assert sum(parts) == from_fen(total)
    weight_sum = sum(weights) or len(weights)
    for part, weight in zip(parts, weights or [1] * len(weights), strict=True):
        exact = D(total) * (D(weight if sum(weights) else 1)) / weight_sum
        assert abs(to_fen(part) - exact) < 1


def _reference_allocate(total_fen: int, weights: list[D]) -> list[int]:
    """Largest remainder with exact rationals: the definition ``allocate`` must follow."""
    shares = [Fraction(w) for w in weights]
    weight_sum = sum(shares) or Fraction(len(shares))
    if not any(shares):
        shares = [Fraction(1)] * len(shares)
    exact = [abs(total_fen) * w / weight_sum for w in shares]
    parts = [math.floor(x) for x in exact]
    left = abs(total_fen) - sum(parts)
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - parts[i]), i))
    for index in order[:left]:
        parts[index] += 1
    return [p if total_fen >= 0 else -p for p in parts]


@given(
    total=st.integers(min_value=-10_000_000, max_value=10_000_000),
    weights=st.lists(
        st.one_of(
            *(st.decimals(min_value=0, max_value=100_000, places=places) for places in range(5))
        ),
        min_size=1,
        max_size=25,
    ),
)
def test_allocate_matches_exact_rational_largest_remainder(total: int, weights: list[D]) -> None:
    parts = allocate(from_fen(total), weights)
    assert [to_fen(p) for p in parts] == _reference_allocate(total, weights)


def test_allocate_mixes_decimal_places_and_refuses_non_finite_weights() -> None:
    assert allocate(D("1.00"), [D("0.5"), D("0.25"), 1]) == [D("0.29"), D("0.14"), D("0.57")]
    with pytest.raises(ValueError, match="finite"):
        allocate(D("1.00"), [D("NaN"), 1])
