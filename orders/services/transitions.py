"""The order state machine: one transition function, and the use cases built on it.

``TRANSITIONS`` is the whole pipeline. A transition that is not in it answers 409
``invalid_transition`` and changes nothing; asking for the status the order already has is a
no-op (not an error, no second effect). Fulfillment progress is kept in timestamps
(``shipped_at``, ``received_at``) so that a partially refunded order can still be shipped,
received and completed.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.inventory import stock_release
from catalog.models import StockMovement
from mall.errors import ConflictError
from mall.events.services import EventName, event_record
from mall.followups.services import follow_up
from mall.money import quantize
from mall.tenancy.models import Tenant
from mall.transitions import transition_check
from members.points.services import points_earn_for_order, points_return_order
from orders import lock_objects
from orders.errors import OrderErrorCode
from orders.hooks import order_paid
from orders.models import AfterSale, Fulfillment, Order, PointsUse
from orders.models.order import ORDER_TRANSITIONS
from orders.services.common import SYSTEM, invalid_transition, order_event_add, order_lock
from orders.services.sales import order_sales_count
from promotions.services import campaign_budget_release, coupon_release, coupon_use

S = Order.Status

TRANSITIONS = ORDER_TRANSITIONS

# Statuses in which the buyer may still ask for an after-sale.
AFTER_SALE_STATUSES = frozenset(
    {S.PAID, S.PARTIALLY_SHIPPED, S.SHIPPED, S.RECEIVED, S.PARTIALLY_REFUNDED}
)

_TIMESTAMPS: dict[str, str] = {
    S.PAID: "paid_at",
    S.SHIPPED: "shipped_at",
    S.RECEIVED: "received_at",
    S.COMPLETED: "completed_at",
    S.CANCELLED: "cancelled_at",
}


def order_transition(
    *,
    order: Order,
    to: str,
    actor: str,
    note: str = "",
    data: dict[str, Any] | None = None,
    now: datetime | None = None,
    fields: dict[str, Any] | None = None,
) -> bool:
    """Move a locked order to ``to`` (call inside a transaction, after ``order_lock``).

    Returns False when the order already is in ``to`` (no-op), True when it moved;
    raises 409 when the move is not in ``TRANSITIONS``."""
    current = order.status
    if not (current == to == S.PARTIALLY_REFUNDED) and not transition_check(
        ORDER_TRANSITIONS,
        entity="order",
        current=current,
        to=to,
        refuse=partial(invalid_transition, "order"),
    ):
        return False
    now = now or timezone.now()
    update_fields = ["status", "updated_at"]
    order.status = to
    stamp = _TIMESTAMPS.get(to)
    if stamp and getattr(order, stamp) is None:
        setattr(order, stamp, now)
        update_fields.append(stamp)
    for name, value in (fields or {}).items():
        setattr(order, name, value)
        update_fields.append(name)
    order.save(update_fields=sorted(set(update_fields)))
    order_event_add(
        order=order,
        kind="status",
        actor=actor,
        from_status=current,
        to_status=to,
        note=note,
        data=data,
    )
    return True


def _pickup_code() -> str:
    return f"{secrets.randbelow(10**8):08d}"


def order_mark_paid(
    *,
    tenant: Tenant,
    number: str,
    amount: Decimal,
    payment_reference: str = "",
    actor: str = "payments",
    now: datetime | None = None,
) -> bool:
    """The paid transition (called by payments inside its transaction). Idempotent.

    True: the order took the money (or already had it from this same payment). False: it can
    no longer take it (cancelled, already paid by another payment, amount differs) and the
    payment must be refunded."""
    now = now or timezone.now()
    with transaction.atomic():
        order = lock_objects.order_by_number_qs_for_update(tenant=tenant, number=number).first()
        if order is None:
            return False
        if order.status != S.PENDING_PAYMENT:
            return order.paid_at is not None and order.payment_reference == payment_reference
        if quantize(amount) != order.payable:
            return False
        fields: dict[str, Any] = {
            "paid_amount": order.payable,
            "payment_reference": payment_reference,
        }
        if order.fulfillment == Fulfillment.PICKUP:
            fields["pickup_code"] = _pickup_code()
        order_transition(order=order, to=S.PAID, actor=actor, now=now, fields=fields)
        coupon_use(tenant=tenant, order_reference=order.number, now=now)
        order_sales_count(tenant=tenant, order=order)
        _points_earn(tenant=tenant, order=order, now=now)
        event_record(
            tenant=tenant,
            name=EventName.ORDER_PAID,
            subject=f"order:{order.number}",
            payload={
                "number": order.number,
                "member_id": order.member_id,
                "paid_amount": str(order.paid_amount),
                "distribution": order.distribution,
            },
        )
        order_paid(tenant=tenant, order=order)
    return True


def points_give_back(*, tenant: Tenant, order: Order, now: datetime) -> None:
    """The order's spent points go back into the lots they came from, exactly once (the
    guarded UPDATE of ``PointsUse.returned_at``; the ledger's return is idempotent too)."""
    if (
        PointsUse.objects.for_tenant(tenant)
        .filter(order=order, returned_at__isnull=True)
        .update(returned_at=now)
    ):
        points_return_order(tenant=tenant, order_number=order.number, actor=SYSTEM, now=now)


def _points_earn(*, tenant: Tenant, order: Order, now: datetime) -> None:
    """Points for the paid order (rate x multipliers) and the first-order bonus, once."""
    first = (
        not Order.objects.for_tenant(tenant)
        .filter(member_id=order.member_id, paid_at__isnull=False)
        .exclude(pk=order.pk)
        .exists()
    )
    points_earn_for_order(
        tenant=tenant,
        member_id=order.member_id,
        order_number=order.number,
        paid_amount=order.paid_amount,
        first_order=first,
        now=now,
    )


def _release_resources(*, tenant: Tenant, order: Order, now: datetime) -> None:
    """Stock, coupons, points and campaign budgets go back, exactly once per order."""
    if order.resources_released_at is not None:
        return
    if (
        StockMovement.objects.for_tenant(tenant)
        .filter(reason=StockMovement.Reason.RESERVE, reference=order.number)
        .exists()
    ):
        stock_release(tenant=tenant, reference=order.number, note="order cancelled")
    coupon_release(tenant=tenant, order_reference=order.number)
    points_give_back(tenant=tenant, order=order, now=now)
    for campaign_id, amount in order.campaign_discounts:
        campaign_budget_release(tenant=tenant, campaign_id=campaign_id, amount=Decimal(amount))
    order.resources_released_at = now
    order.save(update_fields=["resources_released_at"])


def order_cancel(
    *, tenant: Tenant, order: Order, actor: str, reason: str = "", now: datetime | None = None
) -> Order:
    """Cancel an unpaid order (buyer, merchant or timeout); its resources come back once."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = order_lock(tenant=tenant, order_id=order.pk)
        moved = order_transition(
            order=locked,
            to=S.CANCELLED,
            actor=actor,
            note=reason,
            now=now,
            fields={"cancel_reason": reason[:200]},
        )
        if moved:
            _release_resources(tenant=tenant, order=locked, now=now)
            event_record(
                tenant=tenant,
                name=EventName.ORDER_CANCELLED,
                subject=f"order:{locked.number}",
                payload={"number": locked.number, "reason": reason},
            )
            follow_up(
                tenant=tenant,
                task="payments.tasks.close_for_payable",
                key=f"close_for_payable:order:{locked.number}",
                kwargs={"tenant_id": tenant.pk, "purpose": "order", "reference": locked.number},
            )
    return locked


def _fully_shipped(order: Order) -> bool:
    return order.shipped_at is not None or order.fulfillment == Fulfillment.PICKUP


def order_confirm_receipt(
    *, tenant: Tenant, order: Order, actor: str, now: datetime | None = None
) -> Order:
    """The buyer (or the auto-receive job) confirms receipt of a fully shipped order."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = order_lock(tenant=tenant, order_id=order.pk)
        if locked.received_at is not None and locked.status in (S.RECEIVED, S.PARTIALLY_REFUNDED):
            return locked  # already received: no-op
        if locked.status == S.PARTIALLY_REFUNDED and locked.shipped_at is not None:
            locked.received_at = now
            locked.save(update_fields=["received_at", "updated_at"])
            order_event_add(order=locked, kind="received", actor=actor)
            return locked
        if (
            locked.status == S.PARTIALLY_REFUNDED
            or locked.fulfillment == Fulfillment.PICKUP
            or locked.shipped_at is None
        ):
            raise invalid_transition("order", locked.status, S.RECEIVED)
        order_transition(order=locked, to=S.RECEIVED, actor=actor, now=now)
    return locked


def order_complete(
    *, tenant: Tenant, order: Order, actor: str = SYSTEM, now: datetime | None = None
) -> Order:
    """The after-sale window closed: received -> completed (distribution settles then)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = order_lock(tenant=tenant, order_id=order.pk)
        if locked.status == S.COMPLETED:
            return locked
        if locked.received_at is None:
            raise invalid_transition("order", locked.status, S.COMPLETED)
        if (
            AfterSale.objects.for_tenant(tenant)
            .filter(order=locked, status__in=AfterSale.OPEN_STATUSES)
            .exists()
        ):
            raise ConflictError(
                OrderErrorCode.INVALID_TRANSITION,
                _("The order has an open after-sale request."),
                details={"from": locked.status, "to": S.COMPLETED},
            )
        order_transition(order=locked, to=S.COMPLETED, actor=actor, now=now)
        event_record(
            tenant=tenant,
            name=EventName.ORDER_COMPLETED,
            subject=f"order:{locked.number}",
            payload={
                "number": locked.number,
                "member_id": locked.member_id,
                "paid_amount": str(locked.paid_amount),
                "refunded_amount": str(locked.refunded_amount),
            },
        )
    return locked


def order_expiry(*, tenant: Tenant, now: datetime) -> datetime:
    return now + timedelta(minutes=tenant.order_timeout_minutes)
