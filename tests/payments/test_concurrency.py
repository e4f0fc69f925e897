"""The same notification delivered 5 times at once: one transition, one on_paid, one event.

Needs PostgreSQL (real row locks and concurrent transactions); SQLite serialises writers at
the database level and would not prove the lock."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient

from payments.models import Payment, PaymentEvent
from tests.payments.conftest import FakeOrders, pay, transaction_resource, wechat_notify

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def _needs_postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL) for concurrent row locks")


def _deliver_concurrently(count: int, fn: Any) -> list[Any]:
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = fn()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_same_wechat_notification_five_times_concurrently(
    orders: FakeOrders,
    buyer: Any,
    buyer_api: APIClient,
    wechatpay: Any,
    wechat_config: Any,
    tenant: Any,
) -> None:
    orders.add("NO9001", "66.00", buyer)
    payment = Payment.objects.get(
        out_trade_no=pay(buyer_api, "NO9001", "wechat").json()["out_trade_no"]
    )
    headers, body = wechatpay.notification(transaction_resource(payment))

    results = _deliver_concurrently(
        5, lambda: wechat_notify(APIClient(), tenant.slug, headers, body).status_code
    )

    assert results == [204] * 5
    payment.refresh_from_db()
    assert payment.status == "succeeded"
    assert orders.paid_calls == [("NO9001", payment.pk, True)]
    assert PaymentEvent.objects.filter(payment=payment, kind="succeeded").count() == 1


def test_paid_after_cancel_concurrently_refunds_exactly_once(
    orders: FakeOrders,
    buyer: Any,
    buyer_api: APIClient,
    wechatpay: Any,
    wechat_config: Any,
    tenant: Any,
) -> None:
    orders.add("NO9002", "8.00", buyer)
    payment = Payment.objects.get(
        out_trade_no=pay(buyer_api, "NO9002", "wechat").json()["out_trade_no"]
    )
    orders.entries["NO9002"].status = "cancelled"
    headers, body = wechatpay.notification(transaction_resource(payment))

    results = _deliver_concurrently(
        5, lambda: wechat_notify(APIClient(), tenant.slug, headers, body).status_code
    )

    assert results == [204] * 5
    payment.refresh_from_db()
    assert payment.purpose_accepted is False and payment.refunds.count() == 1
    assert len(wechatpay.calls("/v3/refund/domestic/refunds")) == 1


def test_settlement_and_profit_sharing_computed_five_times_at_once(
    tenant: Any, wechatpay: Any, wechat_config: Any
) -> None:
    from decimal import Decimal

    from payments.models import OrderSettlement, ProfitSharingOrder
    from payments.profit_sharing.services import (
        profit_sharing_receiver_add,
        profit_sharing_request_for,
        settlement_compute_for,
    )
    from tests.distribution.factories import complete, paid_order
    from tests.members.factories import MemberFactory
    from tests.payments.test_settlement import paid

    profit_sharing_receiver_add(
        tenant=tenant, type="MERCHANT_ID", account="1900000200", name="S", share_rate=Decimal("0.2")
    )
    order = paid_order(tenant, MemberFactory(tenant=tenant), [{"payable": "100.00"}])
    complete(order)
    paid(tenant, order.number, "100.00")

    def run() -> Any:
        profit_sharing_request_for(tenant=tenant, purpose="order", reference=order.number)
        return settlement_compute_for(tenant=tenant, purpose="order", reference=order.number)

    results = _deliver_concurrently(5, run)

    assert ProfitSharingOrder.objects.count() == 1
    assert len(wechatpay.calls("/v3/profitsharing/orders")) == 1
    assert OrderSettlement.objects.count() == 1
    row = OrderSettlement.objects.get()
    assert (row.supplier_shares, row.net) == (Decimal("19.88"), Decimal("79.52"))
    assert all(r is not None and r.pk == row.pk for r in results)
