"""Points through the order flow: checkout spends from the lots, cancellation and a full
refund give them back into the same lots, a paid order earns (once), refunds reverse it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from members.models import Member, PointsLedger, PointsLot, PointsSettings
from orders import services
from orders.models import Order
from tests.members.points_helpers import assert_invariant
from tests.orders.conftest import pay, points, refund_finished

pytestmark = pytest.mark.django_db
L = services.AfterSaleLineInput


def _rows(tenant: Any, member: Member) -> list[tuple[str, int, str]]:
    return list(
        PointsLedger.objects.for_tenant(tenant)
        .filter(member=member)
        .order_by("id")
        .values_list("reason", "delta", "order_number")
    )


def _refund(
    tenant: Any, member: Member, order: Order, refunds: Any, capture: Any, lines: Any = ()
) -> None:
    after_sale = services.after_sale_request(
        tenant=tenant,
        member=member,
        order=order,
        reason="not needed",
        actor="member",
        lines=lines,
        type="refund",
    )
    with capture(execute=True):
        services.after_sale_approve(tenant=tenant, after_sale=after_sale, actor="staff")
    refund_finished(tenant, refunds[-1])


def test_paid_order_earns_rate_times_paid_plus_first_order_bonus_once(
    tenant: Any, member: Member, make_sku: Any, place: Any
) -> None:
    PointsSettings.objects.create(tenant=tenant, earn_per_yuan=Decimal("2"), first_order_bonus=50)
    sku = make_sku("50.00")

    first = pay(place([(sku, 2)], use_points=500))  # 100.00 - 5.00 for 500 points
    assert first.paid_amount == Decimal("95.00")
    assert services.order_mark_paid(
        tenant=tenant, number=first.number, amount=first.payable, payment_reference="p1"
    )  # the same payment again: nothing earned twice
    second = pay(place([(sku, 1)]))

    assert _rows(tenant, member) == [
        ("adjust", 1000, ""),
        ("spend_order", -500, first.number),
        ("earn_order", 190, first.number),
        ("first_order", 50, first.number),
        ("earn_order", 100, second.number),
    ]
    assert points(member) == 1000 - 500 + 190 + 50 + 100
    assert assert_invariant(tenant, member) == 840


def test_cancellation_returns_points_into_their_lot(
    tenant: Any, member: Member, make_sku: Any, place: Any
) -> None:
    order = place([(make_sku("50.00"), 1)], use_points=300)
    lot = PointsLot.objects.for_tenant(tenant).get(member=member)
    assert (lot.remaining, points(member)) == (700, 700)

    services.order_cancel(tenant=tenant, order=order, actor="member")
    services.order_cancel(tenant=tenant, order=order, actor="member")

    lot.refresh_from_db()
    assert (lot.remaining, points(member)) == (1000, 1000)
    assert _rows(tenant, member)[1:] == [
        ("spend_order", -300, order.number),
        ("return_order", 300, order.number),
    ]
    assert assert_invariant(tenant, member) == 1000


def test_full_refund_returns_the_points_and_reverses_the_earning(
    tenant: Any,
    member: Member,
    make_sku: Any,
    place: Any,
    refunds: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    order = pay(place([(make_sku("50.00"), 2)], use_points=500))  # pays 95.00, earns 95
    assert points(member) == 595

    _refund(tenant, member, order, refunds, django_capture_on_commit_callbacks)

    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert _rows(tenant, member)[3:] == [
        ("reverse_order", -95, order.number),
        ("return_order", 500, order.number),
    ]
    assert points(member) == 1000
    assert PointsLot.objects.for_tenant(tenant).get(reason="adjust").remaining == 1000
    assert assert_invariant(tenant, member) == 1000


def test_partial_refund_reverses_in_proportion_and_keeps_the_spent_points(
    tenant: Any,
    member: Member,
    make_sku: Any,
    place: Any,
    refunds: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    a, b = make_sku("60.00"), make_sku("40.00")
    order = pay(place([(a, 1), (b, 1)], use_points=1000))  # pays 90.00, earns 90
    services.order_ship(tenant=tenant, order=order, actor="x", carrier="sf", tracking_no="SF1")
    line_b = order.lines.get(sku=b)
    assert line_b.payable == Decimal("36.00")  # 40 - 4 of the points deduction

    _refund(tenant, member, order, refunds, django_capture_on_commit_callbacks, [L(line_b.pk, 1)])

    # Keeps floor(90 x (90 - 36) / 90) = 54 of 90: 36 reversed; the 1000 spent stay spent.
    assert _rows(tenant, member)[3:] == [("reverse_order", -36, order.number)]
    assert points(member) == 54
    assert assert_invariant(tenant, member) == 54


def test_refund_after_the_earned_points_were_spent_leaves_debt(
    tenant: Any,
    member: Member,
    make_sku: Any,
    place: Any,
    refunds: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    sku = make_sku("50.00", stock=30)
    order = pay(place([(sku, 2)]))  # earns 100: 1100
    member.refresh_from_db()
    place([(sku, 20)], use_points=1100)  # all spent on another (unpaid) order

    _refund(tenant, member, order, refunds, django_capture_on_commit_callbacks)

    fresh = Member.objects.get(pk=member.pk)
    assert (fresh.points, fresh.points_debt) == (-100, 100)
    assert assert_invariant(tenant, member) == -100
