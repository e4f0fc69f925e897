"""Serializer fields shared by the API surfaces."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

# Primary keys are PostgreSQL bigints; anything larger can name no row and would overflow the
# database driver's integer types (SQLite refuses it outright).
ID_MAX = 2**63 - 1


class IdField(serializers.IntegerField):
    """A row id: an integer from 1 to ``ID_MAX`` (larger ones are a 400, not a lookup)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(**kwargs)
