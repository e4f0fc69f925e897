"""Fulfillment: express/same-city shipments (partial or whole), store pickup verification,
tracking queries through the courier adapter."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from mall.errors import ApplicationError, ConflictError
from mall.events.services import EventName, event_record
from mall.tenancy.models import Tenant
from orders.errors import OrderErrorCode
from orders.models import Fulfillment, Order, OrderLine, Shipment, ShipmentLine
from orders.services.common import invalid_transition, order_event_add, order_lock
from orders.services.transitions import order_transition
from payments.shipping.services import shipping_info_upload_for

S = Order.Status
SHIPPABLE = frozenset({S.PAID, S.PARTIALLY_SHIPPED, S.PARTIALLY_REFUNDED})


@dataclass(frozen=True)
class ShipLine:
    line_id: int
    quantity: int


def _invalid(message: str | Promise, **details: Any) -> ApplicationError:
    return ApplicationError(OrderErrorCode.INVALID_LINES, message, details=details)


def order_ship(
    *,
    tenant: Tenant,
    order: Order,
    actor: str,
    carrier: str = "",
    tracking_no: str = "",
    lines: Sequence[ShipLine] = (),
    courier_name: str = "",
    courier_phone: str = "",
    now: datetime | None = None,
) -> Shipment:
    """Ship the given lines (all that is left when ``lines`` is empty) in one shipment.

    Express needs carrier and tracking number; same-city needs the courier's name and phone.
    When nothing is left to ship the order becomes ``shipped``, else ``partially_shipped``."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = order_lock(tenant=tenant, order_id=order.pk)
        if locked.fulfillment == Fulfillment.PICKUP:
            raise ConflictError(
                OrderErrorCode.INVALID_TRANSITION,
                _("A store pickup order is not shipped; verify its pickup code instead."),
                details={"from": locked.status, "to": S.SHIPPED},
            )
        if locked.status not in SHIPPABLE or locked.shipped_at is not None:
            raise invalid_transition("order", locked.status, S.SHIPPED)
        is_express = locked.fulfillment == Fulfillment.EXPRESS
        if is_express and not (carrier.strip() and tracking_no.strip()):
            raise _invalid(_("Express shipments need a carrier and a tracking number."))
        if not is_express and not (courier_name.strip() and courier_phone.strip()):
            raise _invalid(_("Same-city deliveries need the courier's name and phone."))
        order_lines = {
            line.pk: line
            for line in OrderLine.objects.for_tenant(tenant).filter(order=locked).order_by("pk")
        }
        left = {
            pk: max(line.quantity - line.shipped_quantity - line.refunded_quantity, 0)
            for pk, line in order_lines.items()
        }
        wanted: dict[int, int] = {}
        if lines:
            for item in lines:
                if item.line_id not in order_lines:
                    raise _invalid(_("This line is not in the order."), line_id=item.line_id)
                if item.quantity < 1:
                    raise _invalid(_("Quantities must be at least 1."), line_id=item.line_id)
                wanted[item.line_id] = wanted.get(item.line_id, 0) + item.quantity
        else:
            wanted = {pk: qty for pk, qty in left.items() if qty > 0}
        for pk, qty in wanted.items():
            if qty > left[pk]:
                raise _invalid(
                    _("More than is left to ship."), line_id=pk, requested=qty, left=left[pk]
                )
        if not wanted:
            raise _invalid(_("Nothing is left to ship."))
        shipment = Shipment.objects.create(
            tenant=tenant,
            order=locked,
            kind=Shipment.Kind.EXPRESS if is_express else Shipment.Kind.SAME_CITY,
            carrier=carrier.strip()[:32],
            tracking_no=tracking_no.strip()[:64],
            courier_name=courier_name.strip()[:50],
            courier_phone=courier_phone.strip()[:20],
        )
        ShipmentLine.objects.bulk_create(
            [
                ShipmentLine(tenant=tenant, shipment=shipment, order_line_id=pk, quantity=qty)
                for pk, qty in sorted(wanted.items())
            ]
        )
        for pk, qty in sorted(wanted.items()):
            OrderLine.objects.for_tenant(tenant).filter(
                pk=pk, shipped_quantity__lte=F("quantity") - qty
            ).update(shipped_quantity=F("shipped_quantity") + qty)
        done = all(left[pk] - wanted.get(pk, 0) == 0 for pk in left)
        data = {
            "shipment_id": shipment.pk,
            "carrier": shipment.carrier,
            "tracking_no": shipment.tracking_no,
            "lines": [{"line_id": pk, "quantity": q} for pk, q in sorted(wanted.items())],
        }
        if locked.status == S.PARTIALLY_REFUNDED:
            fields = {"shipped_at": now} if done else {}
            for name, value in fields.items():
                setattr(locked, name, value)
            locked.save(update_fields=[*fields, "updated_at"])
            order_event_add(order=locked, kind="shipment", actor=actor, data=data)
        elif done:
            order_transition(order=locked, to=S.SHIPPED, actor=actor, now=now, data=data)
        else:
            if not order_transition(
                order=locked, to=S.PARTIALLY_SHIPPED, actor=actor, now=now, data=data
            ):
                order_event_add(order=locked, kind="shipment", actor=actor, data=data)
        event_record(
            tenant=tenant,
            name=EventName.ORDER_SHIPPED,
            subject=f"order:{locked.number}",
            payload={"number": locked.number, "complete": done, **data},
        )
        # WeChat holds a mini program merchant's funds until each WeChat-paid order's shipping
        # is uploaded: record it here, payments uploads after commit and retries.
        shipping_info_upload_for(
            tenant=tenant,
            purpose="order",
            reference=locked.number,
            shipment={
                "kind": shipment.kind,
                "shipment_id": shipment.pk,
                "carrier": shipment.carrier,
                "tracking_no": shipment.tracking_no,
                "receiver_phone": (locked.address or {}).get("phone", ""),
                "complete": done,
            },
        )
    return shipment


def order_pickup_verify(
    *, tenant: Tenant, order: Order, code: str, actor: str, now: datetime | None = None
) -> Order:
    """Staff checks the buyer's pickup code; right: the order is received; wrong: refused,
    and after ``PICKUP_MAX_ATTEMPTS`` wrong codes the order is locked for pickup."""
    now = now or timezone.now()
    wrong = False
    with transaction.atomic():
        locked = order_lock(tenant=tenant, order_id=order.pk)
        if locked.fulfillment != Fulfillment.PICKUP:
            raise ConflictError(
                OrderErrorCode.INVALID_TRANSITION,
                _("This order is not a store pickup order."),
                details={"from": locked.status, "to": S.RECEIVED},
            )
        if locked.received_at is not None:
            return locked  # already picked up: no-op
        if locked.status not in (S.PAID, S.PARTIALLY_REFUNDED):
            raise invalid_transition("order", locked.status, S.RECEIVED)
        if locked.pickup_attempts >= Order.PICKUP_MAX_ATTEMPTS:
            raise ConflictError(
                OrderErrorCode.PICKUP_LOCKED,
                _("Too many wrong codes; the buyer must show the code again after a reset."),
            )
        import hmac

        if not locked.pickup_code or not hmac.compare_digest(locked.pickup_code, code.strip()):
            Order.objects.for_tenant(locked.tenant_id).filter(pk=locked.pk).update(
                pickup_attempts=F("pickup_attempts") + 1
            )
            order_event_add(order=locked, kind="pickup_failed", actor=actor)
            wrong = True
        else:
            OrderLine.objects.for_tenant(tenant).filter(order=locked).update(
                shipped_quantity=F("quantity") - F("refunded_quantity")
            )
            if locked.status == S.PARTIALLY_REFUNDED:
                locked.received_at = now
                locked.shipped_at = now
                locked.save(update_fields=["received_at", "shipped_at", "updated_at"])
                order_event_add(order=locked, kind="received", actor=actor)
            else:
                order_transition(
                    order=locked,
                    to=S.RECEIVED,
                    actor=actor,
                    now=now,
                    note="picked up",
                    fields={"shipped_at": now},
                )
            shipping_info_upload_for(
                tenant=tenant,
                purpose="order",
                reference=locked.number,
                shipment={"kind": "pickup", "shipment_id": f"pickup:{locked.pk}", "complete": True},
            )
    if wrong:  # the attempt is counted (committed) and the answer is a refusal
        locked.refresh_from_db(fields=["pickup_attempts"])
        raise ApplicationError(
            OrderErrorCode.WRONG_PICKUP_CODE,
            _("Wrong pickup code."),
            details={"attempts_left": max(Order.PICKUP_MAX_ATTEMPTS - locked.pickup_attempts, 0)},
        )
    return locked


def order_pickup_code_reset(*, tenant: Tenant, order: Order, actor: str) -> Order:
    """A manager issues a new pickup code and clears the failed attempts."""
    from orders.services.transitions import _pickup_code

    with transaction.atomic():
        locked = order_lock(tenant=tenant, order_id=order.pk)
        if locked.fulfillment != Fulfillment.PICKUP or locked.received_at is not None:
            raise invalid_transition("order", locked.status, "pickup_reset")
        locked.pickup_code = _pickup_code()
        locked.pickup_attempts = 0
        locked.save(update_fields=["pickup_code", "pickup_attempts", "updated_at"])
        order_event_add(order=locked, kind="pickup_reset", actor=actor)
    return locked


def shipment_tracking_refresh(*, tenant: Tenant, shipment: Shipment) -> Shipment:
    """Ask the courier for the shipment's tracking events (outside any lock) and store them."""
    from orders.couriers import courier_adapter

    if shipment.kind != Shipment.Kind.EXPRESS:
        return shipment
    phone = str(shipment.order.address.get("phone", ""))[-4:] if shipment.order_id else ""
    tracking = courier_adapter().track(
        carrier=shipment.carrier, tracking_no=shipment.tracking_no, phone=phone
    )
    shipment.tracking = [asdict(e) for e in tracking.events]
    shipment.tracking_state = tracking.state
    shipment.tracking_checked_at = timezone.now()
    Shipment.objects.for_tenant(tenant).filter(pk=shipment.pk).update(
        tracking=shipment.tracking,
        tracking_state=shipment.tracking_state,
        tracking_checked_at=shipment.tracking_checked_at,
    )
    return shipment


@dataclass(frozen=True)
class BatchShipRow:
    """One row of a batch-shipping file: its row number in the file, order number, courier
    (name or Kuaidi100 code) and tracking number, as typed."""

    row: int
    number: str
    courier: str
    tracking_no: str


def _batch_rows_check(
    *, tenant: Tenant, rows: Sequence[BatchShipRow]
) -> tuple[list[tuple[BatchShipRow, Order, str]], list[dict[str, Any]]]:
    """(rows ready to ship with their order and courier code, problems)."""
    from orders.couriers import courier_find

    numbers = {r.number.strip() for r in rows if r.number.strip()}
    orders = {o.number: o for o in Order.objects.for_tenant(tenant).filter(number__in=numbers)}
    ready: list[tuple[BatchShipRow, Order, str]] = []
    problems: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for row in rows:
        number, tracking_no = row.number.strip(), row.tracking_no.strip()
        courier = courier_find(row.courier)
        reason = ""
        order = orders.get(number)
        if not number:
            reason = gettext("The order number is missing.")
        elif number in seen:
            reason = gettext("Order %(number)s is already on row %(row)s.") % {
                "number": number,
                "row": seen[number],
            }
        elif order is None:
            reason = gettext("No order %(number)s in this shop.") % {"number": number}
        elif order.fulfillment != Fulfillment.EXPRESS:
            reason = gettext("Order %(number)s is not an express order.") % {"number": number}
        elif order.status not in SHIPPABLE or order.shipped_at is not None:
            reason = gettext("Order %(number)s cannot be shipped: it is %(status)s.") % {
                "number": number,
                "status": order.get_status_display(),
            }
        elif not row.courier.strip():
            reason = gettext("The courier is missing.")
        elif courier is None:
            reason = gettext("Unknown courier “%(courier)s”.") % {"courier": row.courier.strip()}
        elif not tracking_no:
            reason = gettext("The tracking number is missing.")
        elif len(tracking_no) > 64:
            reason = gettext("The tracking number is longer than 64 characters.")
        if number and number not in seen:
            seen[number] = row.row
        if reason:
            problems.append({"row": row.row, "number": number, "reason": reason})
        else:
            assert order is not None and courier is not None
            ready.append((row, order, courier.code))
    return ready, problems


def orders_ship_batch(
    *, tenant: Tenant, rows: Sequence[BatchShipRow], actor: str, now: datetime | None = None
) -> list[Shipment]:
    """Ship every order of a batch file (everything left of each order, one shipment each).

    All or nothing: every row is checked first and any bad row refuses the whole file; the
    shipments are then made in one transaction, and a row that fails there (the order changed
    meanwhile) rolls all of them back. The error's ``details.rows`` lists every bad row
    (row number, order number, reason)."""
    if not rows:
        raise _invalid(gettext("The file has no rows to ship."), rows=[])
    ready, problems = _batch_rows_check(tenant=tenant, rows=rows)
    if problems:
        raise _batch_refused(problems)
    shipments: list[Shipment] = []
    with transaction.atomic():
        for row, order, carrier in ready:
            try:
                shipments.append(
                    order_ship(
                        tenant=tenant,
                        order=order,
                        actor=actor,
                        carrier=carrier,
                        tracking_no=row.tracking_no.strip(),
                        now=now,
                    )
                )
            except ApplicationError as exc:
                problems.append({"row": row.row, "number": order.number, "reason": exc.message})
        if problems:
            transaction.set_rollback(True)
    if problems:
        raise _batch_refused(problems)
    return shipments


def _batch_refused(problems: list[dict[str, Any]]) -> ApplicationError:
    return _invalid(
        ngettext(
            "%(count)d row of the file is wrong; nothing was shipped.",
            "%(count)d rows of the file are wrong; nothing was shipped.",
            len(problems),
        )
        % {"count": len(problems)},
        rows=problems,
    )
