"""End to end with the real orders app: an order placed, paid through WeChat Pay (fake on
loopback) and the sandbox, the paid transition with its event, paid-after-cancel refunded."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from mall.events.models import OutboxEvent
from members.models import Member
from orders import services as order_services
from orders.models import Order
from payments.models import Payment
from tests.catalog.factories import ProductFactory, SkuFactory
from tests.members.factories import AddressFactory
from tests.payments.conftest import FakeWeChatPay, pay, transaction_resource, wechat_notify

pytest.importorskip("orders.payables")


@pytest.fixture
def order(tenant: Any, buyer: Member, channel: Any) -> Order:
    sku = SkuFactory(product=ProductFactory(tenant=tenant), price=Decimal("30.00"), stock=5)
    address = AddressFactory(tenant=tenant, member=buyer)
    return order_services.order_place(
        tenant=tenant,
        member=buyer,
        channel=channel,
        lines=[order_services.CheckoutLine(sku.pk, 2)],
        address_id=address.pk,
    )


def test_wechat_payment_marks_the_real_order_paid_once(
    order: Order,
    buyer_api: APIClient,
    wechatpay: FakeWeChatPay,
    wechat_config: Any,
    tenant: Any,
) -> None:
    answer = pay(buyer_api, order.number, "wechat").json()
    payment = Payment.objects.get(out_trade_no=answer["out_trade_no"])
    assert payment.amount == order.payable
    headers, body = wechatpay.notification(transaction_resource(payment))

    for _ in range(3):
        assert wechat_notify(APIClient(), tenant.slug, headers, body).status_code == 204

    order.refresh_from_db()
    assert order.status == "paid" and order.paid_amount == order.payable
    assert (
        OutboxEvent.objects.filter(name="order.paid", subject=f"order:{order.number}").count() == 1
    )
    assert pay(buyer_api, order.number, "wechat").status_code == 409  # paid: nothing to pay


def test_sandbox_purchase_of_a_real_order(order: Order, buyer_api: APIClient, tenant: Any) -> None:
    answer = pay(buyer_api, order.number, "sandbox").json()
    done = buyer_api.post(f"/api/v1/payments/sandbox/{answer['out_trade_no']}/complete")
    assert done.json()["status"] == "succeeded"
    order.refresh_from_db()
    assert order.status == "paid"


def test_payment_after_cancel_is_refunded_and_the_order_stays_cancelled(
    order: Order,
    buyer_api: APIClient,
    wechatpay: FakeWeChatPay,
    wechat_config: Any,
    tenant: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    answer = pay(buyer_api, order.number, "wechat").json()
    payment = Payment.objects.get(out_trade_no=answer["out_trade_no"])
    order_services.order_cancel(tenant=tenant, order=order, actor="timeout", reason="expired")
    headers, body = wechatpay.notification(transaction_resource(payment))

    with django_capture_on_commit_callbacks(execute=True):
        assert wechat_notify(APIClient(), tenant.slug, headers, body).status_code == 204

    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.status == "cancelled"
    assert payment.status == "succeeded" and payment.purpose_accepted is False
    assert payment.refunds.get().amount == payment.amount
    assert len(wechatpay.calls("/v3/refund/domestic/refunds")) == 1
