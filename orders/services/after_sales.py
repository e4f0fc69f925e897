"""After-sales: refund-only and return-and-refund requests on whole orders or chosen lines.

Amounts (see docs/orders.md):
- a line's refundable goods amount is its allocated payable minus its shipping share
  (``payable - shipping_fee``), i.e. after item/campaign/coupon discounts and points;
- ``q`` of a line's remaining units are worth ``floor(goods * q / quantity)`` to the fen, and
  the request that takes the last remaining units gets exactly what is left, so all requests of
  a line add up to its goods amount to the fen;
- shipping is refunded only when the request covers everything still refundable and nothing
  has been shipped (a full refund before shipment); then each line gives back its full payable;
- amounts held by open requests count as taken; the total can never exceed what was paid
  (checked here and by the database constraint ``refunded_amount <= paid_amount``);
- coupons are not returned by an after-sale refund (they return only when an unpaid order is
  cancelled); points used come back (into the lots they came from) only with the refund that
  makes the order fully refunded: a partial refund keeps them spent, as before;
- points the order earned are reversed in proportion at each refund: the order keeps
  ``floor(earned x (paid - refunded) / paid)`` (``members.points.services``), nothing once
  fully refunded; if they were spent meanwhile the balance goes negative (debt).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.inventory import stock_restock
from mall.errors import ApplicationError, ConflictError, InvalidInputError, NotFoundError
from mall.events.services import EventName, event_record
from mall.followups.services import follow_up
from mall.money import allocate
from mall.tenancy.models import Tenant
from mall.transitions import transition_apply, transition_check
from members.models import Member
from members.points.services import points_reverse_for_refund
from orders import lock_objects
from orders.errors import OrderErrorCode
from orders.hooks import order_refunded
from orders.models import AfterSale, AfterSaleLine, Order, OrderLine
from orders.models.after_sale import AFTER_SALE_REFUND_ABORT_TARGETS, AFTER_SALE_TRANSITIONS
from orders.services.common import (
    after_sale_event_add,
    invalid_transition,
    order_event_add,
    order_lock,
    status_word,
)
from orders.services.sales import after_sale_sales_take_back
from orders.services.transitions import AFTER_SALE_STATUSES, order_transition, points_give_back

A = AfterSale.Status
ZERO = Decimal("0.00")

TRANSITIONS = AFTER_SALE_TRANSITIONS
REFUND_ABORT_TARGETS = AFTER_SALE_REFUND_ABORT_TARGETS


@dataclass(frozen=True)
class AfterSaleLineInput:
    line_id: int
    quantity: int


_refuse = partial(invalid_transition, "after-sale")


def _not_allowed(message: str, **details: Any) -> ApplicationError:
    return ApplicationError(OrderErrorCode.AFTER_SALE_NOT_ALLOWED, message, details=details)


def _held(tenant: Tenant, order: Order) -> dict[int, tuple[int, Decimal]]:
    """Line id -> (quantity, amount) held by the order's open requests."""
    rows = (
        AfterSaleLine.objects.for_tenant(tenant)
        .filter(after_sale__order=order, after_sale__status__in=AfterSale.OPEN_STATUSES)
        .values("order_line_id")
        .annotate(q=Sum("quantity"), a=Sum("amount"))
    )
    return {r["order_line_id"]: (r["q"] or 0, r["a"] or ZERO) for r in rows}


def refundable_lines(
    *, tenant: Tenant, order: Order, lines: Sequence[AfterSaleLineInput] = ()
) -> tuple[dict[int, tuple[int, Decimal]], bool]:
    """(line id -> (quantity, max amount), includes shipping) for a request on ``lines``
    (everything still refundable when empty)."""
    order_lines = {
        line.pk: line
        for line in OrderLine.objects.for_tenant(tenant).filter(order=order, is_gift=False)
    }
    held = _held(tenant, order)
    remaining: dict[int, int] = {}
    for pk, line in order_lines.items():
        remaining[pk] = line.quantity - line.refunded_quantity - held.get(pk, (0, ZERO))[0]
    wanted: dict[int, int] = {}
    for item in lines:
        if item.line_id not in order_lines:
            raise _not_allowed(_("This line is not in the order."), line_id=item.line_id)
        wanted[item.line_id] = wanted.get(item.line_id, 0) + item.quantity
    if not lines:
        wanted = {pk: q for pk, q in remaining.items() if q > 0}
    if not wanted:
        raise _not_allowed(_("Nothing in this order can be refunded any more."))
    for pk, qty in wanted.items():
        if qty < 1 or qty > remaining[pk]:
            raise _not_allowed(
                _("More than can still be refunded on this line."),
                line_id=pk,
                requested=qty,
                refundable=max(remaining[pk], 0),
            )
    everything = all(wanted.get(pk, 0) == q for pk, q in remaining.items() if q > 0)
    includes_shipping = (
        everything
        and order.shipped_at is None
        and not any(line.shipped_quantity for line in order_lines.values())
        and not held
    )
    result: dict[int, tuple[int, Decimal]] = {}
    for pk, qty in sorted(wanted.items()):
        line = order_lines[pk]
        _held_q, held_a = held.get(pk, (0, ZERO))
        if includes_shipping:
            amount = line.payable - line.refunded_amount - held_a
        else:
            goods = line.payable - line.shipping_fee
            if qty == remaining[pk]:
                amount = goods - line.refunded_amount - held_a
            else:
                amount = (goods * qty / line.quantity).quantize(Decimal("0.01"), ROUND_DOWN)
        result[pk] = (qty, max(amount, ZERO))
    return result, includes_shipping


def after_sale_request(
    *,
    tenant: Tenant,
    member: Member,
    order: Order,
    type: str,
    reason: str,
    lines: Sequence[AfterSaleLineInput] = (),
    amount: Decimal | None = None,
    actor: str,
) -> AfterSale:
    """The buyer asks for a refund (or a return and refund) of lines and quantities."""
    with transaction.atomic():
        locked = order_lock(tenant=tenant, order_id=order.pk)
        if locked.member_id != member.pk:
            raise NotFoundError(_("Order not found."), code=OrderErrorCode.ORDER_NOT_FOUND)
        if locked.status not in AFTER_SALE_STATUSES:
            raise _not_allowed(
                _("A %(status)s order takes no after-sale request.")
                % {"status": status_word(locked.status)},
                status=locked.status,
            )
        if (
            type == AfterSale.Type.RETURN_REFUND
            and not OrderLine.objects.for_tenant(tenant)
            .filter(order=locked, shipped_quantity__gt=0)
            .exists()
        ):
            raise _not_allowed(_("Nothing was shipped yet: ask for a refund instead of a return."))
        maxima, includes_shipping = refundable_lines(tenant=tenant, order=locked, lines=lines)
        total_max = sum((a for _, a in maxima.values()), ZERO)
        held_total = sum((a for _, a in _held(tenant, locked).values()), ZERO)
        total_max = min(total_max, locked.paid_amount - locked.refunded_amount - held_total)
        if amount is not None and amount <= 0:
            raise InvalidInputError(
                OrderErrorCode.REFUND_INVALID_AMOUNT,
                _("A refund amount must be more than zero."),
                details={"amount": [_("Ensure this value is greater than 0.00.")]},
            )
        if amount is None:
            amount = total_max
        if amount <= 0:
            raise _not_allowed(_("Nothing in this order can be refunded any more."))
        if amount > total_max:
            raise ApplicationError(
                OrderErrorCode.REFUND_EXCEEDS_PAID,
                _("The amount is more than can be refunded."),
                details={"requested": str(amount), "refundable": str(total_max)},
            )
        ids = sorted(maxima)
        parts = (
            [maxima[pk][1] for pk in ids]
            if amount == sum((maxima[pk][1] for pk in ids), ZERO)
            else _capped_allocation(amount, [maxima[pk][1] for pk in ids])
        )
        after_sale = AfterSale.objects.create(
            tenant=tenant,
            order=locked,
            member=member,
            type=type,
            reason=reason[:200],
            amount=amount,
            includes_shipping=includes_shipping and amount == total_max,
        )
        AfterSaleLine.objects.bulk_create(
            [
                AfterSaleLine(
                    tenant=tenant,
                    after_sale=after_sale,
                    order_line_id=pk,
                    quantity=maxima[pk][0],
                    amount=part,
                )
                for pk, part in zip(ids, parts, strict=True)
            ]
        )
        after_sale_event_add(
            after_sale=after_sale, actor=actor, to_status=after_sale.status, note=reason
        )
        order_event_add(
            order=locked,
            kind="after_sale",
            actor=actor,
            data={"after_sale_id": after_sale.pk, "amount": str(amount)},
        )
    return after_sale


def _capped_allocation(amount: Decimal, caps: list[Decimal]) -> list[Decimal]:
    parts = allocate(amount, caps)
    # allocation by weight never exceeds a cap when amount <= sum(caps), except by rounding
    # fen: move any excess to lines with room.
    excess = sum((max(p - c, ZERO) for p, c in zip(parts, caps, strict=True)), ZERO)
    parts = [min(p, c) for p, c in zip(parts, caps, strict=True)]
    for i, cap in enumerate(caps):
        if excess <= 0:
            break
        room = min(cap - parts[i], excess)
        parts[i] += room
        excess -= room
    return parts


def _lock(tenant: Tenant, after_sale_id: int) -> AfterSale:
    after_sale = lock_objects.after_sale_qs_for_update(tenant=tenant, pk=after_sale_id).first()
    if after_sale is None:
        raise NotFoundError(_("After-sale not found."), code=OrderErrorCode.AFTER_SALE_NOT_FOUND)
    return after_sale


def _move(
    after_sale: AfterSale,
    to: str,
    actor: str,
    note: str = "",
    *,
    allowed: frozenset[str] | None = None,
    **fields: Any,
) -> bool:
    current = after_sale.status
    table = AFTER_SALE_TRANSITIONS if allowed is None else {current: allowed}
    if not transition_apply(after_sale, table, to, entity="after-sale", refuse=_refuse):
        return False
    for name, value in fields.items():
        setattr(after_sale, name, value)
    after_sale.save(update_fields=["status", "updated_at", *fields])
    after_sale_event_add(
        after_sale=after_sale, actor=actor, from_status=current, to_status=to, note=note
    )
    return True


def _check_refund(after_sale: AfterSale) -> None:
    """Before moving to refunding: what payments would refuse after commit is refused now, in
    this transaction, so a failed approval or refund leaves the after-sale where it was."""
    from orders.refunds import check_refund_for_after_sale

    check_refund_for_after_sale(after_sale=after_sale)


def _schedule_refund(after_sale: AfterSale) -> None:
    """After commit: ask payments for the refund (a follow-up, so it survives a crash)."""
    follow_up(
        tenant=after_sale.tenant_id,
        task="orders.tasks.after_sale_refund_request",
        key=f"after_sale_refund_request:{after_sale.pk}",
        kwargs={"tenant_id": after_sale.tenant_id, "after_sale_id": after_sale.pk},
    )


def after_sale_refund_request(*, tenant_id: int, after_sale_id: int) -> bool:
    """The follow-up of ``_schedule_refund``: ask payments to refund a ``refunding``
    after-sale (asking twice is one refund: its reference is stable). False when the
    after-sale has moved on."""
    from orders.refunds import request_refund_for_after_sale

    fresh = (
        AfterSale.objects.for_tenant(tenant_id)
        .select_related("order", "order__tenant")
        .get(pk=after_sale_id)
    )
    if fresh.status != A.REFUNDING:
        return False
    request_refund_for_after_sale(after_sale=fresh)
    return True


def after_sale_approve(
    *, tenant: Tenant, after_sale: AfterSale, actor: str, restock: bool = False, note: str = ""
) -> AfterSale:
    """Merchant approves. Refund-only requests go straight to refunding (payments is asked
    after commit); returns wait for the goods."""
    with transaction.atomic():
        locked = _lock(tenant, after_sale.pk)
        if locked.status in (A.APPROVED, *AfterSale.OPEN_STATUSES[2:], A.REFUNDED):
            return locked  # approving twice is a no-op
        if locked.type == AfterSale.Type.REFUND:
            _check_refund(locked)
        _move(locked, A.APPROVED, actor, note, restock=restock)
        if locked.type == AfterSale.Type.REFUND:
            _move(locked, A.REFUNDING, actor)
            _schedule_refund(locked)
    return locked


def after_sale_reject(
    *, tenant: Tenant, after_sale: AfterSale, actor: str, reason: str
) -> AfterSale:
    with transaction.atomic():
        locked = _lock(tenant, after_sale.pk)
        _move(locked, A.REJECTED, actor, reason, reject_reason=reason[:200])
    return locked


def after_sale_cancel(*, tenant: Tenant, after_sale: AfterSale, actor: str) -> AfterSale:
    """The buyer withdraws a request that is not being refunded yet."""
    with transaction.atomic():
        locked = _lock(tenant, after_sale.pk)
        _move(locked, A.CANCELLED, actor)
    return locked


def after_sale_return_ship(
    *, tenant: Tenant, after_sale: AfterSale, actor: str, carrier: str, tracking_no: str
) -> AfterSale:
    """The buyer sends the goods back and gives the tracking number."""
    if not carrier.strip() or not tracking_no.strip():
        raise InvalidInputError(
            OrderErrorCode.INVALID_LINES, _("Carrier and tracking number are required.")
        )
    with transaction.atomic():
        locked = _lock(tenant, after_sale.pk)
        if locked.type != AfterSale.Type.RETURN_REFUND:
            raise invalid_transition("after-sale", locked.status, A.RETURN_SHIPPED)
        _move(
            locked,
            A.RETURN_SHIPPED,
            actor,
            return_carrier=carrier.strip()[:32],
            return_tracking_no=tracking_no.strip()[:64],
        )
    return locked


def after_sale_return_receive(
    *, tenant: Tenant, after_sale: AfterSale, actor: str, restock: bool | None = None
) -> AfterSale:
    """The merchant confirms the returned goods arrived (and may now choose to restock)."""
    with transaction.atomic():
        locked = _lock(tenant, after_sale.pk)
        fields: dict[str, Any] = {} if restock is None else {"restock": restock}
        _move(locked, A.RETURN_RECEIVED, actor, **fields)
    return locked


def after_sale_refund(*, tenant: Tenant, after_sale: AfterSale, actor: str) -> AfterSale:
    """Start the refund (approved refund-only, or a return whose goods arrived). Asking again
    while refunding re-sends the same request to payments (its request_ref is stable)."""
    with transaction.atomic():
        locked = _lock(tenant, after_sale.pk)
        if locked.status == A.REFUNDED:
            return locked
        if locked.status == A.REFUNDING:
            _check_refund(locked)
            _schedule_refund(locked)
            return locked
        if locked.type == AfterSale.Type.RETURN_REFUND and locked.status == A.APPROVED:
            raise invalid_transition("after-sale", locked.status, A.REFUNDING)
        transition_check(
            AFTER_SALE_TRANSITIONS,
            entity="after-sale",
            current=locked.status,
            to=A.REFUNDING,
            refuse=_refuse,
        )
        _check_refund(locked)
        _move(locked, A.REFUNDING, actor)
        _schedule_refund(locked)
    return locked


def after_sale_refund_abort(
    *, tenant: Tenant, after_sale: AfterSale, actor: str, close: bool = False, note: str = ""
) -> AfterSale:
    """The way out of a ``refunding`` after-sale whose refund was never created at payments
    (payments refused it after commit, e.g. an amount of 0.00 accepted by older code, or a
    concurrent refund took what was left): back to where the refund started (``approved``
    for a refund-only request, ``return_received`` for a return) so it can be refunded again
    or rejected, or, with ``close``, closed (``cancelled``), which frees the order to complete
    and its commissions to settle. A refund that exists at payments is 409: one under way
    finishes by itself, a failed one is retried from the console (Payments > Refunds)."""
    from orders.refunds import refund_status_for_after_sale

    with transaction.atomic():
        locked = _lock(tenant, after_sale.pk)
        if close:
            to = A.CANCELLED
        elif locked.type == AfterSale.Type.RETURN_REFUND:
            to = A.RETURN_RECEIVED
        else:
            to = A.APPROVED
        if locked.status != A.REFUNDING:
            raise invalid_transition("after-sale", locked.status, to)
        refund_status = refund_status_for_after_sale(after_sale=locked)
        if refund_status is not None:
            raise ConflictError(
                OrderErrorCode.REFUND_UNDER_WAY,
                _("Payments has this refund (%(status)s); it cannot be abandoned here.")
                % {"status": refund_status},
                details={"refund_status": refund_status},
            )
        _move(
            locked,
            to,
            actor,
            note or _("Refund abandoned: payments never created it."),
            allowed=REFUND_ABORT_TARGETS,
        )
    return locked


def after_sale_mark_refunded(
    *,
    tenant: Tenant,
    after_sale_id: int,
    amount: Decimal | None = None,
    actor: str = "payments",
    now: datetime | None = None,
) -> AfterSale:
    """Payments reports the refund finished: amounts move onto the order and its lines,
    stock comes back if the merchant chose so, the order becomes (partially) refunded.
    Idempotent."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock(tenant, after_sale_id)
        if locked.status == A.REFUNDED:
            return locked
        if amount is not None and amount != locked.amount:
            raise ConflictError(
                OrderErrorCode.REFUND_EXCEEDS_PAID,
                _("The refunded amount differs from the approved amount."),
                details={"approved": str(locked.amount), "refunded": str(amount)},
            )
        order = order_lock(tenant=tenant, order_id=locked.order_id)
        if order.refunded_amount + locked.amount > order.paid_amount:
            raise ConflictError(
                OrderErrorCode.REFUND_EXCEEDS_PAID,
                _("A refund can never exceed what was paid."),
                details={
                    "paid": str(order.paid_amount),
                    "refunded": str(order.refunded_amount),
                    "amount": str(locked.amount),
                },
            )
        _move(locked, A.REFUNDED, actor, refunded_at=now)
        lines = list(AfterSaleLine.objects.for_tenant(tenant).filter(after_sale=locked))
        for line in lines:
            OrderLine.objects.for_tenant(tenant).filter(pk=line.order_line_id).update(
                refunded_quantity=F("refunded_quantity") + line.quantity,
                refunded_amount=F("refunded_amount") + line.amount,
            )
        after_sale_sales_take_back(tenant=tenant, lines=lines)
        order.refunded_amount += locked.amount
        target = (
            Order.Status.REFUNDED
            if order.refunded_amount == order.paid_amount
            else Order.Status.PARTIALLY_REFUNDED
        )
        order_transition(
            order=order,
            to=target,
            actor=actor,
            now=now,
            data={"after_sale_id": locked.pk, "amount": str(locked.amount)},
            fields={"refunded_amount": order.refunded_amount},
        )
        if locked.restock:
            skus = dict(
                OrderLine.objects.for_tenant(tenant)
                .filter(pk__in=[line.order_line_id for line in lines], sku__isnull=False)
                .values_list("pk", "sku_id")
            )
            restock: dict[int, int] = {}
            for line in lines:
                if line.order_line_id in skus:
                    sku_id = skus[line.order_line_id]
                    restock[sku_id] = restock.get(sku_id, 0) + line.quantity
            if restock:
                stock_restock(
                    tenant=tenant,
                    lines=restock,
                    reference=f"after_sale:{locked.pk}",
                    note=f"after-sale of order {order.number}",
                )
        event_record(
            tenant=tenant,
            name=EventName.AFTER_SALE_REFUNDED,
            subject=f"order:{order.number}",
            payload={
                "number": order.number,
                "after_sale_id": locked.pk,
                "amount": str(locked.amount),
                "lines": [
                    {"line_id": x.order_line_id, "quantity": x.quantity, "amount": str(x.amount)}
                    for x in lines
                ],
            },
        )
        points_reverse_for_refund(
            tenant=tenant,
            order_number=order.number,
            paid_amount=order.paid_amount,
            refunded_amount=order.refunded_amount,
            refund_ref=f"after_sale:{locked.pk}",
            now=now,
        )
        if target == Order.Status.REFUNDED:
            points_give_back(tenant=tenant, order=order, now=now)
        order_refunded(
            tenant=tenant,
            order=order,
            refund_ref=f"after_sale:{locked.pk}",
            line_refunds={x.order_line_id: x.amount for x in lines},
        )
    return locked
