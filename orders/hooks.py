"""What orders asks of the apps above it (see docs/architecture.md, "Layers").

Orders never import a higher app (``distribution``). Where an order flow must let a higher app
act or contribute, it calls a hook registered here by that app's ``AppConfig.ready()``. Every
hook has a default for when nothing is registered: the order flow then simply has no such part.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from mall.tenancy.models import Tenant
    from members.models import Member
    from orders.models import Order


class AttributionSnapshot(Protocol):
    """Who earns on this buyer's order now: a JSON-ready dict checkout stores in
    ``Order.distribution`` (``distribution.services.attribution_snapshot``). Default ``{}``."""

    def __call__(self, *, tenant: Tenant, member: Member) -> dict[str, Any]: ...


class OrderPaidHandler(Protocol):
    """Called once per order inside the paid transition's transaction, after the order is
    paid. Records follow-ups (``mall.followups``); never calls out."""

    def __call__(self, *, tenant: Tenant, order: Order) -> object: ...


class OrderRefundedHandler(Protocol):
    """Called once per finished after-sale refund inside its transaction: ``refund_ref``
    (``after_sale:<id>``) names the refund, ``line_refunds`` maps order line ids to the amount
    refunded on each. Records follow-ups; never calls out."""

    def __call__(
        self,
        *,
        tenant: Tenant,
        order: Order,
        refund_ref: str,
        line_refunds: Mapping[int, Decimal],
    ) -> object: ...


class OrderTextLines(Protocol):
    """Readable lines about an order for the console (one query at most)."""

    def __call__(self, order: Order) -> list[str]: ...


def _no_attribution(*, tenant: Tenant, member: Member) -> dict[str, Any]:
    return {}


def _no_lines(order: Order) -> list[str]:
    return []


_attribution: AttributionSnapshot = _no_attribution
_distribution_lines: OrderTextLines = _no_lines
_paid_handlers: list[OrderPaidHandler] = []
_refunded_handlers: list[OrderRefundedHandler] = []


def register_attribution(snapshot: AttributionSnapshot) -> None:
    """Set the one attribution snapshot checkout stores on every order."""
    global _attribution
    _attribution = snapshot


def attribution_snapshot(*, tenant: Tenant, member: Member) -> dict[str, Any]:
    return _attribution(tenant=tenant, member=member)


def register_distribution_lines(lines: OrderTextLines) -> None:
    """Set how the console's order page reads ``Order.distribution`` (the commission chain)."""
    global _distribution_lines
    _distribution_lines = lines


def distribution_lines(order: Order) -> list[str]:
    return _distribution_lines(order)


def register_order_paid(handler: OrderPaidHandler) -> None:
    """Add a paid handler (once; registering it again is a no-op)."""
    if handler not in _paid_handlers:
        _paid_handlers.append(handler)


def order_paid(*, tenant: Tenant, order: Order) -> None:
    for handler in _paid_handlers:
        handler(tenant=tenant, order=order)


def register_order_refunded(handler: OrderRefundedHandler) -> None:
    """Add a refunded handler (once; registering it again is a no-op)."""
    if handler not in _refunded_handlers:
        _refunded_handlers.append(handler)


def order_refunded(
    *, tenant: Tenant, order: Order, refund_ref: str, line_refunds: Mapping[int, Decimal]
) -> None:
    for handler in _refunded_handlers:
        handler(tenant=tenant, order=order, refund_ref=refund_ref, line_refunds=line_refunds)
