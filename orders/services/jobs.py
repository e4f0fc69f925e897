"""Timed jobs (Celery beat): cancel unpaid orders, confirm receipt, complete orders.

Each job selects due orders of every tenant by indexed columns and runs the one transition
service per order; the transitions are idempotent, so running a job twice (or two workers at
once) changes nothing more."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from mall.errors import ApplicationError
from mall.tenancy.models import Tenant
from orders.models import Fulfillment, Order
from orders.services.common import SYSTEM
from orders.services.transitions import order_cancel, order_complete, order_confirm_receipt

logger = logging.getLogger(__name__)
S = Order.Status
BATCH = 500


def _run(orders: list[Order], fn: object, **kwargs: object) -> int:
    done = 0
    tenants: dict[int, Tenant] = {}
    for order in orders:
        tenant = tenants.get(order.tenant_id) or Tenant.objects.get(pk=order.tenant_id)
        tenants[order.tenant_id] = tenant
        try:
            fn(tenant=tenant, order=order, actor=SYSTEM, **kwargs)  # type: ignore[operator]
        except ApplicationError as exc:  # moved on meanwhile (paid, refunded...): skip
            logger.info("order %s skipped: %s", order.number, exc.code)
            continue
        done += 1
    return done


def orders_cancel_expired(*, now: datetime | None = None) -> int:
    """Cancel unpaid orders past their tenant's timeout (``expires_at``)."""
    now = now or timezone.now()
    due = list(
        Order.objects.all_tenants()  # beat sweep over every tenant
        .filter(status=S.PENDING_PAYMENT, expires_at__lte=now)
        .order_by("pk")[:BATCH]
    )
    return _run(due, order_cancel, reason="payment timeout", now=now)


def orders_auto_receive(*, now: datetime | None = None) -> int:
    """Confirm receipt of orders shipped more than the tenant's ``auto_receive_days`` ago."""
    now = now or timezone.now()
    due = []
    candidates = (
        Order.objects.filter(
            status__in=[S.SHIPPED, S.PARTIALLY_REFUNDED],
            shipped_at__isnull=False,
            received_at__isnull=True,
            shipped_at__lte=now - timedelta(days=1),
        )
        .exclude(fulfillment=Fulfillment.PICKUP)
        .select_related("tenant")
        .order_by("pk")[:BATCH]
    )
    for order in candidates:
        if order.shipped_at <= now - timedelta(days=order.tenant.auto_receive_days):
            due.append(order)
    return _run(due, order_confirm_receipt, now=now)


def orders_complete_due(*, now: datetime | None = None) -> int:
    """Complete received orders whose after-sale window (``after_sale_days``) has closed."""
    now = now or timezone.now()
    candidates = (
        Order.objects.filter(
            Q(status=S.RECEIVED) | Q(status=S.PARTIALLY_REFUNDED),
            received_at__isnull=False,
            received_at__lte=now,
        )
        .select_related("tenant")
        .order_by("pk")[:BATCH]
    )
    due = [o for o in candidates if o.received_at <= now - timedelta(days=o.tenant.after_sale_days)]
    return _run(due, order_complete, now=now)
