"""Timed jobs with frozen time: cancel unpaid after the tenant timeout, auto-receive, complete;
running a job twice changes nothing more."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine

from catalog.models import StockMovement
from orders import services, tasks
from orders.models import Order, OrderEvent
from promotions.models import Coupon
from tests.orders.conftest import pay, points, stock
from tests.promotions.factories import CouponFactory

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)


def test_unpaid_order_is_cancelled_after_the_timeout_once_even_if_the_task_runs_twice(
    tenant: Any, member: Any, make_sku: Any, place: Any
) -> None:
    tenant.order_timeout_minutes = 15
    tenant.save()
    sku = make_sku("150.00", stock=4)
    with time_machine.travel(T0, tick=False):
        coupon = CouponFactory(template__tenant=tenant, member=member)
        order = place([(sku, 2)], coupon_ids=[coupon.pk], use_points=200)
        paid = pay(place([(sku, 1)]))
    # 200 points used; the paid order earned 150 (1 point per yuan, members/points).
    assert (stock(sku), points(member)) == (1, 950)

    with time_machine.travel(T0 + dt.timedelta(minutes=14, seconds=59), tick=False):
        assert tasks.cancel_expired_orders.delay().get() == 0
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING_PAYMENT

    with time_machine.travel(T0 + dt.timedelta(minutes=15), tick=False):
        assert tasks.cancel_expired_orders.delay().get() == 1
        assert tasks.cancel_expired_orders.delay().get() == 0
        assert services.orders_cancel_expired() == 0

    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert order.cancelled_at == T0 + dt.timedelta(minutes=15)
    assert stock(sku) == 3
    assert points(member) == 1000 + 150
    assert Coupon.objects.get(pk=coupon.pk).status == Coupon.Status.UNUSED
    assert StockMovement.objects.filter(reference=order.number, reason="release").count() == 1
    assert (
        OrderEvent.objects.filter(order=order, to_status="cancelled", actor="system").count() == 1
    )
    paid.refresh_from_db()
    assert paid.status == Order.Status.PAID


def test_receipt_is_confirmed_after_auto_receive_days_and_completed_after_the_window(
    tenant: Any, make_sku: Any, place: Any
) -> None:
    tenant.auto_receive_days = 10
    tenant.after_sale_days = 7
    tenant.save()
    with time_machine.travel(T0, tick=False):
        order = pay(place([(make_sku(), 1)]))
        services.order_ship(tenant=tenant, order=order, actor="x", carrier="sf", tracking_no="SF1")

    with time_machine.travel(T0 + dt.timedelta(days=9, hours=23), tick=False):
        assert tasks.auto_receive_orders.delay().get() == 0
    with time_machine.travel(T0 + dt.timedelta(days=10), tick=False):
        assert tasks.auto_receive_orders.delay().get() == 1
        assert tasks.auto_receive_orders.delay().get() == 0
    order.refresh_from_db()
    assert order.status == Order.Status.RECEIVED
    assert order.received_at == T0 + dt.timedelta(days=10)

    with time_machine.travel(T0 + dt.timedelta(days=16, hours=23), tick=False):
        assert tasks.complete_orders.delay().get() == 0
    with time_machine.travel(T0 + dt.timedelta(days=17), tick=False):
        assert tasks.complete_orders.delay().get() == 1
        assert tasks.complete_orders.delay().get() == 0
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED


def test_an_open_after_sale_holds_completion(
    tenant: Any, member: Any, make_sku: Any, place: Any
) -> None:
    tenant.after_sale_days = 0
    tenant.save()
    order = pay(place([(make_sku(), 1)]))
    services.order_ship(tenant=tenant, order=order, actor="x", carrier="sf", tracking_no="SF1")
    services.order_confirm_receipt(tenant=tenant, order=order, actor="member")
    services.after_sale_request(
        tenant=tenant, member=member, order=order, type="refund", reason="broken", actor="m"
    )
    assert services.orders_complete_due() == 0
    order.refresh_from_db()
    assert order.status == Order.Status.RECEIVED
