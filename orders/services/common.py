"""Helpers shared by the order services: actors, timeline events, scoped fetches."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from mall.errors import ApplicationError, ConflictError, NotFoundError
from mall.tenancy.models import Tenant
from orders import lock_objects
from orders.errors import OrderErrorCode
from orders.models import AfterSale, AfterSaleEvent, Order, OrderEvent

SYSTEM = "system"


def actor_member(member: Any) -> str:
    return f"member:{member.pk}"


def actor_staff(user: Any) -> str:
    return f"staff:{user.pk}"


def actor_api_key(api_key: Any) -> str:
    return f"apikey:{api_key.pk}"


def order_event_add(
    *,
    order: Order,
    kind: str,
    actor: str,
    from_status: str = "",
    to_status: str = "",
    note: str = "",
    data: dict[str, Any] | None = None,
) -> OrderEvent:
    return OrderEvent.objects.create(
        tenant_id=order.tenant_id,
        order=order,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        actor=actor[:64],
        note=note[:255],
        data=data or {},
    )


def after_sale_event_add(
    *,
    after_sale: AfterSale,
    actor: str,
    from_status: str = "",
    to_status: str = "",
    kind: str = "status",
    note: str = "",
    data: dict[str, Any] | None = None,
) -> AfterSaleEvent:
    return AfterSaleEvent.objects.create(
        tenant_id=after_sale.tenant_id,
        after_sale=after_sale,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        actor=actor[:64],
        note=note[:255],
        data=data or {},
    )


def order_lock(*, tenant: Tenant | int, order_id: int) -> Order:
    """The order row, locked until the end of the transaction (404 when not this tenant's)."""
    order = lock_objects.order_qs_for_update(tenant=tenant, pk=order_id).first()
    if order is None:
        raise NotFoundError(_("Order not found."), code=OrderErrorCode.ORDER_NOT_FOUND)
    return order


def status_word(value: str) -> str:
    """An order or after-sale status as a word inside a sentence, in the active language."""
    labels = {**dict(Order.Status.choices), **dict(AfterSale.Status.choices)}
    label = labels.get(value)
    if label is None:
        return value.replace("_", " ")
    text = str(label)
    return text[:1].lower() + text[1:]


KINDS = {"order": _("order"), "after-sale": _("after-sale")}


def invalid_transition(kind: str, current: str, target: str) -> ApplicationError:
    return ConflictError(
        OrderErrorCode.INVALID_TRANSITION,
        _("A %(current)s %(kind)s cannot become %(target)s.")
        % {
            "current": status_word(current),
            "kind": str(KINDS.get(kind, kind)),
            "target": status_word(target),
        },
        details={"from": current, "to": target},
    )
