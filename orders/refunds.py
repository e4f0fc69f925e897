"""The refund of an approved after-sale is a call into payments (``payments.refunds.services``)."""

from __future__ import annotations

from typing import Any


def request_refund_for_after_sale(*, after_sale: Any) -> None:
    """Ask payments to refund the after-sale's amount of the order's payment.

    Payments answers later through ``OrderPayableHandler.on_refunded`` (the after-sale then
    becomes ``refunded``). ``request_ref`` is stable, so asking twice is one refund."""
    from payments.refunds.services import refund_request

    order = after_sale.order
    refund_request(
        tenant=order.tenant,
        purpose="order",
        reference=order.number,
        amount=after_sale.amount,
        reason=after_sale.reason or f"after-sale {after_sale.pk}",
        request_ref=f"after_sale:{after_sale.pk}",
    )


def check_refund_for_after_sale(*, after_sale: Any) -> None:
    """Raise now (inside the caller's transaction, before any state change) what payments
    would refuse the refund with after commit: an amount <= 0, nothing paid, more than is
    left of the payment. A refusal leaves the after-sale where it was."""
    from payments.refunds.services import refund_check

    order = after_sale.order
    refund_check(
        tenant=order.tenant,
        purpose="order",
        reference=order.number,
        amount=after_sale.amount,
        request_ref=f"after_sale:{after_sale.pk}",
    )


def refund_status_for_after_sale(*, after_sale: Any) -> str | None:
    """The payments refund of the after-sale: its status, or None when it was never created."""
    from payments.selectors import refund_status_for

    return refund_status_for(tenant=after_sale.tenant_id, request_ref=f"after_sale:{after_sale.pk}")
