"""The quote's and checkout's fast input path (mall.api.fast_input) is derived from their
serializers: whenever it takes a body it answers exactly the serializer's validated data, and
it takes the common well-formed bodies."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from mall.api.fast_input import FastInput
from orders.api.serializers import (
    OrderCreateSerializer,
    _order_create_fast,
    order_create_validate,
)
from promotions.api.serializers import QuoteInputSerializer, quote_input_parse
from tests.promotions.test_api import QUOTE_BODIES

LINE = {"sku_id": 1, "quantity": 1}
BODIES = [
    *QUOTE_BODIES,
    {"lines": [LINE], "remark": "a\x00b"},  # the serializer refuses NUL characters
    {"lines": [LINE], "remark": "\ud800"},  # and lone surrogates
    {"lines": [LINE], "remark": ""},
    {"lines": [LINE], "coupon_ids": None},
    {"lines": [LINE], "use_points": None},
    {"lines": [{"sku_id": 1}]},
    {"lines": [LINE], "store_id": 2**63},
    {"from_cart": True},
    {"from_cart": True, "lines": []},
    {"lines": [LINE], "expected_payable": "10.00"},
    {"lines": [LINE], "expected_payable": None},
]


@pytest.mark.parametrize("serializer_class", [QuoteInputSerializer, OrderCreateSerializer])
@pytest.mark.parametrize("body", BODIES)
def test_the_fast_path_answers_the_serializers_validated_data(
    serializer_class: Any, body: Any
) -> None:
    parsed = FastInput(serializer_class)(body)
    serializer = serializer_class(data=body)
    valid = serializer.is_valid()
    if parsed is None:  # the caller runs the serializer: nothing to compare
        return
    assert valid, serializer.errors
    assert parsed == {
        **serializer.validated_data,
        **(
            {"lines": [dict(line) for line in serializer.validated_data["lines"]]}
            if "lines" in serializer.validated_data
            else {}
        ),
    }


def test_the_common_bodies_take_the_fast_path() -> None:
    assert all(quote_input_parse(body) is not None for body in QUOTE_BODIES[:7])
    assert quote_input_parse({"lines": [LINE], "remark": "a\x00b"}) is None
    assert quote_input_parse({"from_cart": True}) is None  # refused by the quote's validate()
    assert _order_create_fast({"from_cart": True}) is not None
    assert _order_create_fast({"lines": [LINE], "expected_payable": "1.00"}) is None
    body = order_create_validate({"lines": [LINE], "expected_payable": "1.00"})
    assert body["expected_payable"] == Decimal("1.00")
