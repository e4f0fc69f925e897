"""The per-order settlement ledger: exact to the fen, idempotent, computed for completed
orders by the beat task, shown with totals to finance and owners only."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from distribution.models import Commission
from mall.tenancy.models import Staff
from members.models import Member
from orders.models import Order, OrderLine
from payments.models import GatewayConfig, OrderSettlement, Payment
from payments.profit_sharing.services import settlement_compute_for, settlements_run
from payments.tasks import settle_completed
from tests.distribution.factories import complete, distributor, paid_order
from tests.mall.factories import StaffFactory, TenantFactory, UserFactory
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


def paid(
    tenant: Any,
    number: str,
    amount: str,
    *,
    gateway: str = "wechat",
    refunded: str = "0",
    accepted: bool | None = True,
    status: str = "succeeded",
    no: str | None = None,
) -> Payment:
    return Payment.objects.create(
        tenant=tenant,
        purpose="order",
        reference=number,
        gateway=gateway,
        out_trade_no=no or f"P{number}{gateway}",
        amount=Decimal(amount),
        refunded_amount=Decimal(refunded),
        status=status,
        purpose_accepted=accepted,
        transaction_id=f"4200{number}",
        paid_at=timezone.now(),
    )


def commission(order: Order, amount: str, reversed_amount: str = "0", tier: int = 1) -> None:
    line = OrderLine.objects.filter(order=order).first()
    Commission.objects.create(
        tenant=order.tenant,
        order=order,
        order_line=line,
        beneficiary=distributor(order.tenant),
        buyer=order.member,
        tier=tier,
        base_amount=line.payable,
        amount=Decimal(amount),
        reversed_amount=Decimal(reversed_amount),
    )


@pytest.fixture
def buyer_member(tenant: Any) -> Member:
    return MemberFactory(tenant=tenant)


@pytest.fixture
def order(tenant: Any, buyer_member: Member) -> Order:
    order = paid_order(tenant, buyer_member, [{"payable": "100.00"}])
    complete(order)
    return order


def test_worked_example_exact_to_the_fen(tenant: Any, order: Order) -> None:
    paid(tenant, order.number, "100.00", refunded="10.00")
    commission(order, "10.00", reversed_amount="1.00", tier=1)  # net 9.00
    commission(order, "5.00", tier=2)

    s = settlement_compute_for(tenant=tenant, purpose="order", reference=order.number)

    assert (s.gross, s.refunds, s.commissions, s.supplier_shares, s.fee) == (
        Decimal("100.00"),
        Decimal("10.00"),
        Decimal("14.00"),
        Decimal("0.00"),
        Decimal("0.60"),  # WeChat's default 0.6%
    )
    assert s.net == Decimal("75.40") and s.gateway == "wechat"


def test_recomputing_updates_the_same_row(tenant: Any, order: Order) -> None:
    payment = paid(tenant, order.number, "100.00")
    first = settlement_compute_for(tenant=tenant, purpose="order", reference=order.number)
    assert first.net == Decimal("99.40")
    Payment.objects.filter(pk=payment.pk).update(refunded_amount=Decimal("20.00"))

    again = settlement_compute_for(tenant=tenant, purpose="order", reference=order.number)

    assert again.pk == first.pk
    assert OrderSettlement.objects.count() == 1
    assert (again.refunds, again.net) == (Decimal("20.00"), Decimal("79.40"))
    third = settlement_compute_for(tenant=tenant, purpose="order", reference=order.number)
    assert (third.pk, third.net) == (first.pk, Decimal("79.40"))


def test_configured_fee_rate_rounds_half_up_per_payment(tenant: Any, order: Order) -> None:
    GatewayConfig.objects.create(tenant=tenant, gateway="wechat", fee_rate=Decimal("0.0100"))
    paid(tenant, order.number, "12.50")  # 0.125 -> 0.13 (half up, not banker's 0.12)

    s = settlement_compute_for(tenant=tenant, purpose="order", reference=order.number)

    assert (s.fee, s.net) == (Decimal("0.13"), Decimal("12.37"))


def test_only_accepted_succeeded_payments_count(tenant: Any, order: Order) -> None:
    paid(tenant, order.number, "100.00", gateway="sandbox")  # sandbox: no fee
    paid(tenant, order.number, "100.00", accepted=False, no="Pdup")  # refused, refunded
    paid(tenant, order.number, "100.00", status="pending", accepted=None, no="Ppend")

    s = settlement_compute_for(tenant=tenant, purpose="order", reference=order.number)

    assert (s.gross, s.refunds, s.fee, s.net) == (
        Decimal("100.00"),
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("100.00"),
    )


def test_another_tenants_rows_do_not_count(tenant: Any, order: Order) -> None:
    other = TenantFactory(slug="shop-other")
    other_order = paid_order(other, MemberFactory(tenant=other), [{"payable": "50.00"}])
    Order.objects.filter(pk=other_order.pk).update(number=order.number)  # same number
    other_order.refresh_from_db()
    commission(other_order, "7.00")
    paid(other, order.number, "50.00")
    paid(tenant, order.number, "100.00", no="Pmine")

    s = settlement_compute_for(tenant=tenant, purpose="order", reference=order.number)

    assert (s.gross, s.commissions, s.net) == (
        Decimal("100.00"),
        Decimal("0.00"),
        Decimal("99.40"),
    )


def test_beat_settles_completed_orders_only_once(
    tenant: Any, order: Order, buyer_member: Member
) -> None:
    open_order = paid_order(tenant, buyer_member, [{"payable": "30.00"}])  # paid, not completed
    paid(tenant, order.number, "100.00")
    paid(tenant, open_order.number, "30.00")

    assert settle_completed() == 1
    row = OrderSettlement.objects.get()
    assert (row.reference, row.net) == (order.number, Decimal("99.40"))
    assert not OrderSettlement.objects.filter(reference=open_order.number).exists()
    assert settlements_run() == 0  # already settled: nothing to do
    assert OrderSettlement.objects.count() == 1


def _client(tenant: Any, role: str) -> Client:
    client = Client()
    user = UserFactory(username=f"{role}-{tenant.slug}@x.test")
    client.force_login(StaffFactory(tenant=tenant, role=role, user=user).user)
    return client


def test_console_lists_settlements_with_totals(
    tenant: Any, order: Order, buyer_member: Member
) -> None:
    second = paid_order(tenant, buyer_member, [{"payable": "20.00"}])
    complete(second)
    paid(tenant, order.number, "100.00", refunded="10.00")
    paid(tenant, second.number, "20.00")
    settlements_run()
    other = TenantFactory(slug="shop-other")
    OrderSettlement.objects.create(
        tenant=other,
        purpose="order",
        reference="OTHER-1",
        gross=Decimal("999.00"),
        net=Decimal("999.00"),
        computed_at=timezone.now(),
    )

    clients = {role: _client(tenant, role) for role in (Staff.Role.FINANCE, Staff.Role.OWNER)}
    for client in clients.values():
        page = client.get("/console/payments/ordersettlement/")
        assert page.status_code == 200
        totals = page.context["finance_totals"]
        assert totals["count"] == 2
        assert totals["sums"]["gross"] == Decimal("120.00")
        assert totals["sums"]["fee"] == Decimal("0.72")  # 0.60 + 0.12
        assert totals["sums"]["net"] == Decimal("109.28")  # 89.40 + 19.88
        assert "¥109.28" in page.content.decode() and b"OTHER-1" not in page.content

    for role in (Staff.Role.OPERATOR, Staff.Role.SERVICE, Staff.Role.ADMIN):
        assert _client(tenant, role).get("/console/payments/ordersettlement/").status_code == 403
    row = OrderSettlement.objects.get(tenant=other)
    page = clients[Staff.Role.FINANCE].get(f"/console/payments/ordersettlement/{row.pk}/change/")
    assert page.status_code == 404
