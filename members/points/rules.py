"""Earn rules that other parts of members contribute to (tiers, paid cards).

``earn_multiplier(member)`` is the product of the Decimal factors returned by the registered
providers (none by default: 1). The tiers and card benefits register theirs in their
``AppConfig.ready()`` (or at import of their services) with ``register_earn_multiplier``.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from members.models import Member

EarnMultiplierProvider = Callable[["Member"], Decimal]

_providers: list[EarnMultiplierProvider] = []


def register_earn_multiplier(provider: EarnMultiplierProvider) -> None:
    """Add a provider (once; registering it again is a no-op)."""
    if provider not in _providers:
        _providers.append(provider)


def unregister_earn_multiplier(provider: EarnMultiplierProvider) -> None:
    """Remove a provider (tests)."""
    if provider in _providers:
        _providers.remove(provider)


def earn_multiplier(member: Member) -> Decimal:
    """The product of every provider's factor for ``member`` (1 when none is registered)."""
    factor = Decimal(1)
    for provider in _providers:
        factor *= Decimal(provider(member))
    return factor
