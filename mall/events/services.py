"""Recording domain events into the outbox (delivery comes with the webhooks issue)."""

from __future__ import annotations

from typing import Any

from mall.events.models import OutboxEvent
from mall.tenancy.models import Tenant


class EventName:
    ORDER_CREATED = "order.created"
    ORDER_PAID = "order.paid"
    ORDER_SHIPPED = "order.shipped"
    ORDER_COMPLETED = "order.completed"
    ORDER_CANCELLED = "order.cancelled"
    AFTER_SALE_REFUNDED = "after_sale.refunded"
    PRODUCT_STOCK_LOW = "product.stock_low"
    MEMBER_CREATED = "member.created"
    COMMISSION_SETTLED = "commission.settled"


def event_record(
    *, tenant: Tenant | int, name: str, payload: dict[str, Any], subject: str = ""
) -> OutboxEvent:
    """Record an event; call inside the transaction of the change it describes."""
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    return OutboxEvent.objects.create(
        tenant_id=tenant_id, name=name, payload=payload, subject=subject[:128]
    )
