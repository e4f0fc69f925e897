"""After-sales: amounts from allocated line payables (exact to the fen, never more than paid),
explicit shipping rule, approve/reject, returns with tracking, restock choice, refund through
payments and back."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from catalog.models import StockMovement
from mall.api.errors import ApplicationError, status_for
from mall.events.models import OutboxEvent
from orders import services
from orders.models import AfterSale, Order
from tests.orders.conftest import pay, refund_finished, stock
from tests.promotions.factories import CampaignFactory

pytestmark = pytest.mark.django_db
L = services.AfterSaleLineInput


def _request(tenant: Any, member: Any, order: Order, lines: Any = (), **kw: Any) -> AfterSale:
    kw.setdefault("type", "refund")
    return services.after_sale_request(
        tenant=tenant,
        member=member,
        order=order,
        reason="not needed",
        actor="member",
        lines=lines,
        **kw,
    )


def _ship_all(tenant: Any, order: Order) -> None:
    services.order_ship(tenant=tenant, order=order, actor="x", carrier="sf", tracking_no="SF1")


def test_partial_refunds_add_up_to_the_line_payable_exactly(
    tenant: Any,
    member: Any,
    make_sku: Any,
    place: Any,
    refunds: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    sku = make_sku("33.33", stock=10)
    CampaignFactory(tenant=tenant, rules={"tiers": [{"threshold": "50.00", "reduction": "10.00"}]})
    order = pay(place([(sku, 3)]))  # 99.99 - 10 = 89.99
    _ship_all(tenant, order)
    line = order.lines.get()
    assert line.payable == Decimal("89.99")

    amounts = []
    for _ in range(3):
        after_sale = _request(tenant, member, order, [L(line.pk, 1)])
        amounts.append(after_sale.amount)
        with django_capture_on_commit_callbacks(execute=True):
            services.after_sale_approve(tenant=tenant, after_sale=after_sale, actor="staff")
        refund_finished(tenant, refunds[-1])
    assert amounts == [Decimal("29.99"), Decimal("29.99"), Decimal("30.01")]
    order.refresh_from_db()
    assert order.refunded_amount == order.paid_amount == Decimal("89.99")
    assert order.status == Order.Status.REFUNDED
    line.refresh_from_db()
    assert (line.refunded_quantity, line.refunded_amount) == (3, Decimal("89.99"))
    with pytest.raises(ApplicationError) as exc:
        _request(tenant, member, order)
    assert status_for(exc.value) == 422


def test_shipping_is_refunded_only_on_a_full_refund_before_shipment(
    tenant: Any, member: Any, make_sku: Any, place: Any
) -> None:
    from tests.catalog.factories import FreightTemplateFactory

    template = FreightTemplateFactory(tenant=tenant, first_fee=Decimal("8.00"))
    a = make_sku("40.00", freight_template=template)
    b = make_sku("60.00", freight_template=template)
    order = pay(place([(a, 1), (b, 1)]))
    assert order.shipping_fee == Decimal("8.00") and order.payable == Decimal("108.00")
    la, _lb = order.lines.order_by("id")

    partial = _request(tenant, member, order, [L(la.pk, 1)])
    assert (partial.amount, partial.includes_shipping) == (Decimal("40.00"), False)
    services.after_sale_cancel(tenant=tenant, after_sale=partial, actor="member")

    full = _request(tenant, member, order)
    assert (full.amount, full.includes_shipping) == (Decimal("108.00"), True)
    services.after_sale_cancel(tenant=tenant, after_sale=full, actor="member")

    _ship_all(tenant, order)
    after_ship = _request(tenant, member, order, type="return_refund")
    assert (after_ship.amount, after_ship.includes_shipping) == (Decimal("100.00"), False)


def test_amount_never_exceeds_what_is_refundable(
    tenant: Any, member: Any, make_sku: Any, place: Any
) -> None:
    order = pay(place([(make_sku("50.00"), 2)]))
    line = order.lines.get()
    with pytest.raises(ApplicationError) as exc:
        _request(tenant, member, order, [L(line.pk, 1)], amount=Decimal("50.01"))
    assert (exc.value.code, status_for(exc.value)) == ("refund_exceeds_paid", 422)
    held = _request(tenant, member, order, [L(line.pk, 1)], amount=Decimal("20.00"))
    assert held.lines.get().amount == Decimal("20.00")
    with pytest.raises(ApplicationError) as exc:
        _request(tenant, member, order, [L(line.pk, 2)])  # one unit is held by the open request
    assert exc.value.code == "after_sale_not_allowed"
    assert AfterSale.objects.count() == 1


def test_unpaid_or_cancelled_orders_take_no_after_sale(
    tenant: Any, member: Any, make_sku: Any, place: Any
) -> None:
    order = place([(make_sku(), 1)])
    with pytest.raises(ApplicationError) as exc:
        _request(tenant, member, order)
    assert exc.value.code == "after_sale_not_allowed"


def test_refund_more_than_paid_is_refused_by_the_order_too(
    tenant: Any, member: Any, make_sku: Any, place: Any, refunds: Any
) -> None:
    order = pay(place([(make_sku("50.00"), 1)]))
    after_sale = _request(tenant, member, order)
    services.after_sale_approve(tenant=tenant, after_sale=after_sale, actor="staff")
    AfterSale.objects.filter(pk=after_sale.pk).update(amount=Decimal("50.01"))
    with pytest.raises(ApplicationError) as exc:
        services.after_sale_mark_refunded(tenant=tenant, after_sale_id=after_sale.pk)
    assert (status_for(exc.value), exc.value.code) == (409, "refund_exceeds_paid")
    order.refresh_from_db()
    assert order.refunded_amount == 0 and order.status == Order.Status.PAID
    assert AfterSale.objects.get(pk=after_sale.pk).status == AfterSale.Status.REFUNDING


def test_return_and_refund_with_tracking_and_restock(
    tenant: Any,
    member: Any,
    make_sku: Any,
    place: Any,
    refunds: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    sku = make_sku("25.00", stock=5)
    order = pay(place([(sku, 2)]))
    _ship_all(tenant, order)
    services.order_confirm_receipt(tenant=tenant, order=order, actor="member")
    line = order.lines.get()
    after_sale = _request(tenant, member, order, [L(line.pk, 1)], type="return_refund")

    with django_capture_on_commit_callbacks(execute=True):
        services.after_sale_approve(tenant=tenant, after_sale=after_sale, actor="s", restock=True)
    assert refunds == []  # a return waits for the goods
    with pytest.raises(ApplicationError) as exc:
        services.after_sale_refund(tenant=tenant, after_sale=after_sale, actor="s")
    assert status_for(exc.value) == 409
    services.after_sale_return_ship(
        tenant=tenant, after_sale=after_sale, actor="m", carrier="sf", tracking_no="RT1"
    )
    services.after_sale_return_receive(tenant=tenant, after_sale=after_sale, actor="s")
    with django_capture_on_commit_callbacks(execute=True):
        services.after_sale_refund(tenant=tenant, after_sale=after_sale, actor="s")
    assert refunds == [
        {
            "tenant": tenant,
            "purpose": "order",
            "reference": order.number,
            "amount": Decimal("25.00"),
            "reason": "not needed",
            "request_ref": f"after_sale:{after_sale.pk}",
        }
    ]
    stock_before = stock(sku)
    refund_finished(tenant, refunds[0])
    refund_finished(tenant, refunds[0])  # reported twice: one effect

    after_sale.refresh_from_db()
    assert after_sale.status == AfterSale.Status.REFUNDED
    assert after_sale.return_tracking_no == "RT1"
    order.refresh_from_db()
    assert order.status == Order.Status.PARTIALLY_REFUNDED
    assert order.refunded_amount == Decimal("25.00")
    assert stock(sku) == stock_before + 1
    assert StockMovement.objects.filter(reason="restock").count() == 1
    assert OutboxEvent.objects.filter(name="after_sale.refunded").count() == 1
    # The partially refunded order is still completed when its window closes.
    services.order_complete(tenant=tenant, order=order)
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED


def test_reject_with_reason_and_illegal_after_sale_moves(
    tenant: Any, member: Any, make_sku: Any, place: Any
) -> None:
    order = pay(place([(make_sku(), 1)]))
    after_sale = _request(tenant, member, order)
    services.after_sale_reject(tenant=tenant, after_sale=after_sale, actor="s", reason="used")
    after_sale.refresh_from_db()
    assert (after_sale.status, after_sale.reject_reason) == ("rejected", "used")
    with pytest.raises(ApplicationError) as exc:
        services.after_sale_approve(tenant=tenant, after_sale=after_sale, actor="s")
    assert status_for(exc.value) == 409
    # the rejected request no longer holds the line
    again = _request(tenant, member, order)
    assert again.amount == order.payable
