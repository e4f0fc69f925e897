"""The ``order`` payment purpose: how payments sees an order (see payments/purposes.py)."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from mall.errors import ConflictError, NotFoundError
from mall.tenancy.models import Tenant
from orders.errors import OrderErrorCode
from orders.models import Order
from orders.services.common import status_word
from payments.purposes import Payable

logger = logging.getLogger(__name__)


def _payable(order: Order) -> Payable:
    return Payable(
        purpose="order",
        reference=order.number,
        amount=order.payable,
        subject=f"Order {order.number}",
        member_id=order.member_id,
        expires_at=order.expires_at,
    )


class OrderPayableHandler:
    def payable_for_member(self, *, tenant: Tenant, member: Any, reference: str) -> Payable:
        order = (
            Order.objects.for_tenant(tenant).filter(number=reference, member_id=member.pk).first()
        )
        if order is None:
            raise NotFoundError(_("Order not found."), code=OrderErrorCode.ORDER_NOT_FOUND)
        if order.status != Order.Status.PENDING_PAYMENT:
            raise ConflictError(
                OrderErrorCode.INVALID_TRANSITION,
                _("A %(status)s order cannot be paid.") % {"status": status_word(order.status)},
                details={"from": order.status, "to": Order.Status.PAID},
            )
        return _payable(order)

    def payable_get(self, *, tenant: Tenant, reference: str) -> Payable | None:
        order = Order.objects.for_tenant(tenant).filter(number=reference).first()
        if order is None or order.status != Order.Status.PENDING_PAYMENT:
            return None  # gone: cancelled or already paid; payments closes stale trades
        return _payable(order)

    def on_paid(self, *, tenant: Tenant, reference: str, payment: Any, amount: Decimal) -> bool:
        from orders.services import order_mark_paid

        return order_mark_paid(
            tenant=tenant,
            number=reference,
            amount=amount,
            payment_reference=str(getattr(payment, "pk", "") or ""),
        )

    def on_refunded(self, *, tenant: Tenant, reference: str, refund: Any) -> None:
        from orders.services import after_sale_mark_refunded

        request_ref = str(getattr(refund, "request_ref", "") or "")
        if not request_ref.startswith("after_sale:"):
            # e.g. the automatic refund of a payment that arrived after cancellation
            logger.info("refund %s of order %s is not an after-sale's", request_ref, reference)
            return
        after_sale_mark_refunded(
            tenant=tenant,
            after_sale_id=int(request_ref.split(":", 1)[1]),
            amount=getattr(refund, "amount", None),
        )
