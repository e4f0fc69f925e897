"""The demo seed places one order in every state, through the services, and is idempotent."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management.base import OutputWrapper

from orders import seed
from orders.models import Order, Store

pytestmark = pytest.mark.django_db


def test_seed_orders_in_every_state_twice(
    tenant: Any, channel: Any, address: Any, make_sku: Any
) -> None:
    make_sku("39.00", stock=100)
    make_sku("12.00", stock=100)
    out = OutputWrapper(io.StringIO())
    seed.seed(tenant=tenant, stdout=out)
    seed.seed(tenant=tenant, stdout=out)

    statuses = set(Order.objects.for_tenant(tenant).values_list("status", flat=True))
    assert statuses == {
        "pending_payment",
        "paid",
        "partially_shipped",
        "shipped",
        "received",
        "completed",
        "cancelled",
        "partially_refunded",
        "refunded",
    }
    assert Order.objects.for_tenant(tenant).count() == len(seed.STATES)
    assert Store.objects.for_tenant(tenant).count() == 1
    refunded = Order.objects.for_tenant(tenant).get(status="refunded")
    assert refunded.refunded_amount == refunded.paid_amount
