"""The order state machine: paid (idempotent, refuses late money), cancellation returns
stock/coupons/points/budgets exactly once, illegal transitions answer 409 and change nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from catalog.models import StockMovement
from mall.api.errors import ApplicationError, status_for
from mall.events.models import OutboxEvent
from orders import services
from orders.models import Order, OrderEvent
from orders.payables import OrderPayableHandler
from orders.services.common import SYSTEM
from payments.purposes import purpose_handler
from promotions.models import Campaign, Coupon
from tests.orders.conftest import pay, points, stock
from tests.promotions.factories import CampaignFactory, CouponFactory

pytestmark = pytest.mark.django_db


def _snapshot(order: Order) -> tuple:
    order.refresh_from_db()
    return (
        order.status,
        order.paid_amount,
        order.refunded_amount,
        order.shipped_at,
        OrderEvent.objects.filter(order=order).count(),
    )


def test_order_purpose_is_registered() -> None:
    assert isinstance(purpose_handler("order"), OrderPayableHandler)


def test_paid_is_idempotent_and_emits_order_paid_once(
    tenant: Any, member: Any, make_sku: Any, place: Any
) -> None:
    coupon = CouponFactory(template__tenant=tenant, member=member)
    order = place([(make_sku("120.00"), 1)], coupon_ids=[coupon.pk])
    handler = purpose_handler("order")

    class Payment:
        pk = 77

    assert handler.on_paid(
        tenant=tenant, reference=order.number, payment=Payment(), amount=Decimal("100.00")
    )
    assert handler.on_paid(
        tenant=tenant, reference=order.number, payment=Payment(), amount=Decimal("100.00")
    )
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert order.paid_amount == Decimal("100.00")
    assert Coupon.objects.get(pk=coupon.pk).status == Coupon.Status.USED
    assert OutboxEvent.objects.filter(name="order.paid").count() == 1

    class Other:
        pk = 78

    # Another payment for an order already paid: refused, so payments refunds it.
    assert not handler.on_paid(
        tenant=tenant, reference=order.number, payment=Other(), amount=Decimal("100.00")
    )


def test_payment_of_a_cancelled_order_or_wrong_amount_is_refused(
    tenant: Any, make_sku: Any, place: Any
) -> None:
    order = place([(make_sku(), 1)])
    assert not services.order_mark_paid(tenant=tenant, number=order.number, amount=Decimal("1.00"))
    services.order_cancel(tenant=tenant, order=order, actor=SYSTEM, reason="test")
    assert not services.order_mark_paid(tenant=tenant, number=order.number, amount=order.payable)
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED and order.paid_amount == 0


def test_payable_for_member(tenant: Any, member: Any, make_sku: Any, place: Any) -> None:
    order = place([(make_sku("35.50"), 2)])
    payable = purpose_handler("order").payable_for_member(
        tenant=tenant, member=member, reference=order.number
    )
    assert (payable.amount, payable.reference, payable.member_id) == (
        Decimal("71.00"),
        order.number,
        member.pk,
    )
    pay(order)
    with pytest.raises(ApplicationError) as exc:
        purpose_handler("order").payable_for_member(
            tenant=tenant, member=member, reference=order.number
        )
    assert status_for(exc.value) == 409


def test_cancel_returns_everything_exactly_once(
    tenant: Any, member: Any, make_sku: Any, place: Any
) -> None:
    sku = make_sku("250.00", stock=3)
    campaign = CampaignFactory(tenant=tenant)
    coupon = CouponFactory(template__tenant=tenant, member=member)
    order = place([(sku, 1)], coupon_ids=[coupon.pk], use_points=300)
    assert (stock(sku), points(member)) == (2, 700)

    services.order_cancel(tenant=tenant, order=order, actor="member:1", reason="changed mind")
    services.order_cancel(tenant=tenant, order=order, actor="member:1", reason="again")

    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert order.cancel_reason == "changed mind"
    assert stock(sku) == 3
    assert points(member) == 1000
    assert Coupon.objects.get(pk=coupon.pk).status == Coupon.Status.UNUSED
    assert Campaign.objects.get(pk=campaign.pk).discount_given == Decimal("0.00")
    assert StockMovement.objects.filter(reference=order.number, reason="release").count() == 1
    assert OutboxEvent.objects.filter(name="order.cancelled").count() == 1
    assert OrderEvent.objects.filter(order=order, to_status="cancelled").count() == 1


def test_illegal_transitions_answer_409_and_change_nothing(
    tenant: Any, make_sku: Any, place: Any
) -> None:
    sku = make_sku(stock=5)
    cancelled = place([(sku, 1)])
    services.order_cancel(tenant=tenant, order=cancelled, actor=SYSTEM)
    before = _snapshot(cancelled)
    with pytest.raises(ApplicationError) as exc:
        services.order_ship(
            tenant=tenant, order=cancelled, actor=SYSTEM, carrier="sf", tracking_no="1"
        )
    assert (status_for(exc.value), exc.value.code) == (409, "invalid_transition")
    assert _snapshot(cancelled) == before

    shipped = pay(place([(sku, 1)]))
    services.order_ship(tenant=tenant, order=shipped, actor=SYSTEM, carrier="sf", tracking_no="1")
    before = _snapshot(shipped)
    stock_before = stock(sku)
    with pytest.raises(ApplicationError) as exc:
        services.order_cancel(tenant=tenant, order=shipped, actor=SYSTEM)
    assert status_for(exc.value) == 409
    with pytest.raises(ApplicationError) as exc:
        services.order_ship(
            tenant=tenant, order=shipped, actor=SYSTEM, carrier="sf", tracking_no="2"
        )
    assert status_for(exc.value) == 409
    assert _snapshot(shipped) == before
    assert stock(sku) == stock_before

    unpaid = place([(sku, 1)])
    for call in (
        lambda: services.order_confirm_receipt(tenant=tenant, order=unpaid, actor=SYSTEM),
        lambda: services.order_complete(tenant=tenant, order=unpaid),
        lambda: services.order_ship(
            tenant=tenant, order=unpaid, actor=SYSTEM, carrier="sf", tracking_no="3"
        ),
    ):
        before = _snapshot(unpaid)
        with pytest.raises(ApplicationError) as exc:
            call()
        assert status_for(exc.value) == 409
        assert _snapshot(unpaid) == before


def test_transition_table_has_terminal_states() -> None:
    assert services.TRANSITIONS[Order.Status.CANCELLED] == frozenset()
    assert services.TRANSITIONS[Order.Status.COMPLETED] == frozenset()
    assert services.TRANSITIONS[Order.Status.REFUNDED] == frozenset()
    assert set(services.TRANSITIONS) == set(Order.Status.values)
