"""The API's JSON parser: DRF's, after a nesting-depth check.

Python's JSON decoder recurses once per nested array or object; a small body of a thousand
nested arrays (6 KB) would exhaust the interpreter's recursion limit (a 500 on every JSON
endpoint, before authentication). Bodies nested deeper than ``MALL_MAX_JSON_DEPTH`` (64) are
refused with ``400 invalid_json`` before any parser reads them; the quote's orjson fast path
runs the same check (``json_depth_check``).
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from itertools import accumulate, count
from operator import sub
from typing import Any

from django.conf import settings
from django.utils.translation import gettext
from rest_framework import exceptions, parsers

# ``mall.api.errors.INVALID_JSON`` (not imported: DRF imports this module while
# ``mall.api.errors`` itself is still importing DRF's views).
INVALID_JSON = "invalid_json"


# A JSON string (escapes included): its brackets are text, not nesting.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
# Openers count 2, closers 0: after n brackets the depth is (their sum) - n.
_TWO_ZERO = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")


def json_depth_exceeds(raw: bytes, limit: int) -> bool:
    """Whether the JSON text ``raw`` nests arrays/objects deeper than ``limit``. Cheap for the
    usual body (fewer brackets than the limit cannot nest deeper); otherwise strings are
    dropped and the running depth of the remaining brackets is computed in C iterators."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    brackets = _STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    if len(brackets) <= limit:
        return False
    depths = map(sub, accumulate(brackets.translate(_TWO_ZERO)), count(1))
    return max(depths) > limit


def json_depth_check(raw: bytes) -> None:
    """Raise ``400 invalid_json`` when ``raw`` nests deeper than ``MALL_MAX_JSON_DEPTH``."""
    limit = settings.MALL_MAX_JSON_DEPTH
    if json_depth_exceeds(raw, limit):
        raise InvalidJSON(
            gettext("JSON nested deeper than %(limit)d levels is not accepted.") % {"limit": limit},
            details={"max_depth": limit},
        )


class InvalidJSON(exceptions.ParseError):
    """A JSON body refused before parsing (rendered as ``400 invalid_json`` with details)."""

    def __init__(self, detail: str, *, details: dict[str, Any]) -> None:
        super().__init__(detail, code=INVALID_JSON)
        self.details = details


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser behind the depth check (and never a RecursionError)."""

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        raw = stream.read() if stream is not None else b""
        json_depth_check(raw)
        try:
            return super().parse(io.BytesIO(raw), media_type, parser_context)
        except RecursionError as exc:  # the check bounds depth; this is a last line of defence
            raise InvalidJSON(
                gettext("JSON nested too deeply."),
                details={"max_depth": settings.MALL_MAX_JSON_DEPTH},
            ) from exc
