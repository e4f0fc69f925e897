"""JSON rendering for the whole API: DRF's output, encoded by orjson.

DRF's ``JSONRenderer`` (compact, UTF-8, its encoder's conversions) spends ~0.1 ms on a 10 kB
answer such as a quote; orjson writes the same bytes in under a tenth of that. Values orjson
does not know natively (datetimes, Decimal, lazy translations, ...) go through DRF's own
encoder, so the output stays byte-for-byte DRF's (pinned by tests/mall/test_renderers.py).
Anything orjson refuses (non-string keys, integers beyond 64 bits) and pretty-printed answers
(an ``indent`` in the Accept header) are rendered by DRF itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from rest_framework import renderers
from rest_framework.utils.encoders import JSONEncoder

_drf_default = JSONEncoder().default
_LS, _PS = "\u2028".encode(), "\u2029".encode()


def _fast(data: Any) -> bytes | None:
    """``data`` encoded by orjson as DRF's renderer would, or None where orjson refuses it
    (e.g. integer dict keys, which DRF's encoder turns into strings)."""
    try:
        encoded = orjson.dumps(data, default=_drf_default, option=orjson.OPT_PASSTHROUGH_DATETIME)
    except TypeError:
        return None
    # As DRF: U+2028/U+2029 escaped (valid JSON, but line breaks in JavaScript).
    if _LS in encoded or _PS in encoded:
        encoded = encoded.replace(_LS, rb"\u2028").replace(_PS, rb"\u2029")
    return encoded


class JSONRenderer(renderers.JSONRenderer):
    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if data is None:
            return b""
        if self.get_indent(accepted_media_type or "", renderer_context or {}) is None:
            encoded = _fast(data)
            if encoded is not None:
                return encoded
        return super().render(data, accepted_media_type, renderer_context)
