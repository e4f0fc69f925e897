"""The cross-tenant matrix: what every route and every tenant-owned model must prove.

Tenant A owns objects; tenant B's member (shopper API), API key (open API) and staff (console)
try to reach them. Every object route must answer 404; every list must not show A's data.

Adding a route or a tenant-owned model without adding it here fails
``test_every_route_is_classified`` / ``test_every_tenant_owned_model_is_covered``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

# A string planted in tenant A's objects; B's answers must never contain it.
MARKER = "tenant-a-marker"

SURFACES = {
    "shopper": "api/v1/",
    "merchant": "api/merchant/v1/",
    "console": "console/",
}


@dataclass(frozen=True)
class Public:
    """A route with no tenant-owned object in its path or answer (login, schema...)."""

    reason: str


@dataclass(frozen=True)
class ObjectRoute:
    """A route addressing one object of tenant A: B's principal must get 404."""

    model: str  # app_label.ModelName, created by MODEL_FACTORIES
    methods: tuple[str, ...] = ("get",)
    # A JSON body, or a function of (object, method) giving one (for bodies naming the object).
    body: dict[str, Any] | Callable[[Any, str], dict[str, Any]] = field(default_factory=dict)
    # The URL kwarg value taken from the object (default its pk).
    lookup: Callable[[Any], Any] | None = None
    # A query string naming the object, for routes that take it as a parameter.
    query: Callable[[Any], str] | None = None


@dataclass(frozen=True)
class ListRoute:
    """A list (or tree) route: B's answer must not contain tenant A's marker."""

    model: str
    query: str = ""


@dataclass(frozen=True)
class MemberOnly:
    """A route about the caller's own member (``/me``): B sees B, never A."""

    model: str = "members.Member"
    methods: tuple[str, ...] = ("get",)


Case = Public | ObjectRoute | ListRoute | MemberOnly


def walk_routes(patterns: list[Any] | None = None, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Yield (route string, URLPattern) for every URL of the project."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from walk_routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern


def route_params(route: str) -> list[str]:
    return re.findall(r"<(?:\w+:)?(\w+)>", route) + re.findall(r"\(\?P<(\w+)>", route)


def fill_route(route: str, value: Any) -> str:
    """Substitute the single path parameter of ``route`` with ``value``."""
    url = re.sub(r"<(?:\w+:)?\w+>", str(value), route)
    return "/" + url
