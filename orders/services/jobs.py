"""Timed jobs (Celery beat): cancel unpaid orders, confirm receipt, complete orders.

Each job selects due orders of every tenant by indexed columns and runs the one transition
service per order; the transitions are idempotent, so running a job twice (or two workers at
once) changes nothing more."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db.models import Exists, F, OuterRef, Q, Value
from django.db.models.functions import Concat
from django.utils import timezone

from mall.errors import ApplicationError
from mall.tenancy.models import Tenant
from members.models import GrowthEntry
from members.tiers.services import growth_grant_for_order, tier_terms
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


# Growth is credited once the after-sale window closed (the order is completed); orders
# completed longer ago than this were swept already (the sweep runs hourly).
GROWTH_LOOKBACK = timedelta(days=30)


def orders_growth_due(*, now: datetime | None = None) -> int:
    """Credit member growth for completed orders that have none yet (every tenant): paid minus
    refunded, times the tenant's growth per yuan (``members.tiers``). One NOT EXISTS
    statement finds the batch; each credit is idempotent (ref ``order:<number>``), so a second
    run or two workers change nothing more. Answers the number of orders credited."""
    now = now or timezone.now()
    credited = GrowthEntry.objects.filter(
        tenant_id=OuterRef("tenant_id"), ref=Concat(Value("order:"), OuterRef("number"))
    )
    due = list(
        Order.objects.all_tenants()  # beat sweep over every tenant
        .filter(
            status=S.COMPLETED,
            completed_at__gte=now - GROWTH_LOOKBACK,
            paid_amount__gt=F("refunded_amount"),
        )
        .exclude(Exists(credited))
        .order_by("pk")
        .values_list("pk", "tenant_id", "member_id", "number", "paid_amount", "refunded_amount")[
            :BATCH
        ]
    )
    done = 0
    tenants: dict[int, Tenant] = {}
    for _pk, tenant_id, member_id, number, paid, refunded in due:
        tenant = tenants.get(tenant_id) or Tenant.objects.get(pk=tenant_id)
        tenants[tenant_id] = tenant
        rate = tier_terms(tenant).growth_per_yuan
        if growth_grant_for_order(
            tenant=tenant,
            member_id=member_id,
            number=number,
            kept_amount=paid - refunded,
            rate=rate,
            now=now,
        ):
            done += 1
    return done
