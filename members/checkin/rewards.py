"""Hooks of check-in rewards that other parts fill in (none by default: nothing happens).

- ``grant_growth``: the tiers part registers a handler with ``register_growth_handler`` that
  adds growth (a growth ledger row; idempotent per ``ref``).
- ``grant_coupon``: promotions registers a handler with ``register_coupon_handler`` that issues
  one coupon of a template to the member (idempotent per ``ref``).

Handlers run inside the check-in's transaction; they record, never call out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from mall.tenancy.models import Tenant


class GrowthHandler(Protocol):
    def __call__(self, *, tenant: Tenant, member_id: int, amount: int, ref: str) -> object: ...


class CouponHandler(Protocol):
    def __call__(self, *, tenant: Tenant, member_id: int, template_id: int, ref: str) -> object: ...


growth_handlers: list[GrowthHandler] = []
coupon_handlers: list[CouponHandler] = []


def register_growth_handler(handler: GrowthHandler) -> None:
    if handler not in growth_handlers:
        growth_handlers.append(handler)


def register_coupon_handler(handler: CouponHandler) -> None:
    if handler not in coupon_handlers:
        coupon_handlers.append(handler)


def grant_growth(*, tenant: Tenant, member_id: int, amount: int, ref: str) -> None:
    """Give ``amount`` growth through the registered handlers (none: nothing)."""
    for handler in tuple(growth_handlers):
        handler(tenant=tenant, member_id=member_id, amount=amount, ref=ref)


def grant_coupon(*, tenant: Tenant, member_id: int, template_id: int, ref: str) -> bool:
    """Issue a coupon of ``template_id`` through the registered handlers. True when one of
    them issued it (a handler answers False when it refused: limit reached, sold out)."""
    issued = False
    for handler in tuple(coupon_handlers):
        if (
            handler(tenant=tenant, member_id=member_id, template_id=template_id, ref=ref)
            is not False
        ):
            issued = True
    return issued
