"""The API's JSON renderer writes exactly what DRF's JSONRenderer writes, only faster."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.utils.translation import gettext_lazy
from rest_framework import renderers

from mall.api.renderers import JSONRenderer

PAYLOADS: list[Any] = [
    {"lines": [{"sku_id": 1, "payable": "19.90", "ref_id": None}], "problems": []},
    {"title": "夏季新品 · 满199减30", "emoji": "🎁", "quote": 'a "b" \\ c\n'},
    {"separators": "line\u2028paragraph\u2029end", "twice": "\u2028\u2028"},
    {"when": dt.datetime(2026, 11, 26, 8, 30, 1, 123456, tzinfo=dt.UTC)},
    {"when": dt.datetime(2026, 11, 26, 8, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))},
    {"day": dt.date(2026, 11, 26), "at": dt.time(8, 30, 15), "naive": dt.datetime(2026, 1, 2)},
    {"amount": Decimal("19.90"), "id": uuid.UUID("12345678-1234-5678-1234-567812345678")},
    {"label": gettext_lazy("Not found."), "flags": [True, False, None], "rate": 0.85},
    {1: "integer keys", 2: ["go through DRF's encoder"]},
    {"big": 2**70},
    [],
    "plain",
]


@pytest.mark.parametrize("data", PAYLOADS)
def test_renders_the_same_bytes_as_drf(data: Any) -> None:
    assert JSONRenderer().render(data) == renderers.JSONRenderer().render(data)


def test_nothing_and_pretty_printing_behave_as_drf() -> None:
    ours, drf = JSONRenderer(), renderers.JSONRenderer()
    assert ours.render(None) == b""
    pretty = "application/json; indent=2"
    data = {"a": [1, {"b": "c"}]}
    assert (
        ours.render(data, pretty, {})
        == drf.render(data, pretty, {})
        == (b'{\n  "a": [\n    1,\n    {\n      "b": "c"\n    }\n  ]\n}')
    )
