"""WeChat Pay: prepay and wx.requestPayment params, verified notifications, close, query."""

from __future__ import annotations

import base64
import logging
import time
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from django.utils import timezone
from rest_framework.test import APIClient

from payments.collection.services import payment_close_for, payments_sync_pending
from payments.models import Payment, PaymentEvent
from tests.mall.factories import TenantFactory
from tests.payments.conftest import (
    MCH_ID,
    WECHAT_APP_ID,
    FakeOrders,
    FakeWeChatPay,
    Keys,
    pay,
    transaction_resource,
    wechat_notify,
)


@pytest.fixture
def pending(
    orders: FakeOrders, buyer: Any, buyer_api: APIClient, wechatpay: Any, wechat_config: Any
) -> Payment:
    orders.add("NO1001", "19.90", buyer)
    response = pay(buyer_api, "NO1001", "wechat")
    assert response.status_code == 200, response.content
    return Payment.objects.get(out_trade_no=response.json()["out_trade_no"])


def test_pay_answers_signed_request_payment_params(
    orders: FakeOrders,
    buyer: Any,
    buyer_api: APIClient,
    wechatpay: FakeWeChatPay,
    wechat_config: Any,
    keys: Keys,
    tenant: Any,
) -> None:
    orders.add("NO1001", "19.90", buyer)

    response = pay(buyer_api, "NO1001", "wechat")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["gateway"] == "wechat"
    params = body["params"]
    assert set(params) == {"appId", "timeStamp", "nonceStr", "package", "signType", "paySign"}
    assert params["appId"] == WECHAT_APP_ID and params["signType"] == "RSA"
    # The fake verified our Authorization signature and got exactly what we owe.
    [prepay] = wechatpay.calls("/v3/pay/transactions/jsapi")
    assert prepay["json"]["amount"] == {"total": 1990, "currency": "CNY"}
    assert prepay["json"]["payer"] == {"openid": "o-buyer-openid"}
    assert prepay["json"]["mchid"] == MCH_ID and prepay["json"]["appid"] == WECHAT_APP_ID
    assert prepay["json"]["notify_url"] == (
        f"https://mall.example.com/api/v1/payments/notify/wechat/{tenant.slug}"
    )
    assert params["package"].startswith("prepay_id=wx")
    message = (
        f"{params['appId']}\n{params['timeStamp']}\n{params['nonceStr']}\n{params['package']}\n"
    )
    keys.merchant.public_key().verify(
        base64.b64decode(params["paySign"]), message.encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    payment = Payment.objects.get(out_trade_no=body["out_trade_no"])
    assert payment.status == "pending" and payment.amount == payment.amount.__class__("19.90")

    # Asking again reuses the prepay (no second gateway order), with a fresh signature.
    again = pay(buyer_api, "NO1001", "wechat").json()
    assert again["out_trade_no"] == body["out_trade_no"]
    assert again["params"]["package"] == params["package"]
    assert len(wechatpay.calls("/v3/pay/transactions/jsapi")) == 1


def test_pay_refuses_unknown_order_missing_identity_and_unconfigured_gateway(
    orders: FakeOrders,
    buyer: Any,
    buyer_api: APIClient,
    wechatpay: Any,
    tenant: Any,
) -> None:
    orders.add("NO1", "1.00", buyer)
    assert pay(buyer_api, "NOPE", "wechat").status_code == 404
    response = pay(buyer_api, "NO1", "wechat")  # no GatewayConfig
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "gateway_not_configured"
    assert pay(buyer_api, "NO1", "paypal").status_code == 400
    assert Payment.objects.count() == 0


def test_pay_gateway_down_is_502_and_the_payment_failed(
    orders: FakeOrders,
    buyer: Any,
    buyer_api: APIClient,
    wechatpay: FakeWeChatPay,
    wechat_config: Any,
) -> None:
    orders.add("NO1", "1.00", buyer)
    wechatpay.prepay_http_status = 500
    response = pay(buyer_api, "NO1", "wechat")
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "gateway_unavailable"
    assert Payment.objects.get().status == "failed"


def test_valid_notification_pays_once(
    pending: Payment, orders: FakeOrders, wechatpay: FakeWeChatPay, tenant: Any
) -> None:
    headers, body = wechatpay.notification(transaction_resource(pending))
    client = APIClient()

    first = wechat_notify(client, tenant.slug, headers, body)
    second = wechat_notify(client, tenant.slug, headers, body)

    assert first.status_code == 204 and second.status_code == 204
    pending.refresh_from_db()
    assert pending.status == "succeeded" and pending.purpose_accepted is True
    assert pending.transaction_id.startswith("4200") and pending.paid_at is not None
    assert pending.raw_notification["out_trade_no"] == pending.out_trade_no
    assert orders.paid_calls == [("NO1001", pending.pk, True)]
    assert PaymentEvent.objects.filter(payment=pending, kind="succeeded").count() == 1


def _bad(case: str, payment: Payment, fake: FakeWeChatPay, keys: Keys) -> tuple[dict, str]:
    if case == "wrong signature":
        return fake.notification(transaction_resource(payment), key=keys.stranger)
    if case == "unknown serial":
        return fake.notification(transaction_resource(payment), serial="PUB_KEY_ID_UNKNOWN")
    if case == "stale timestamp":
        return fake.notification(transaction_resource(payment), timestamp=int(time.time()) - 301)
    if case == "tampered amount":
        return fake.notification(
            transaction_resource(payment, amount={"total": 1, "payer_total": 1})
        )
    if case == "other mch id":
        return fake.notification(transaction_resource(payment, mchid="1900000999"))
    if case == "other app id":
        return fake.notification(transaction_resource(payment, appid="wx-shop-b"))
    if case == "wrong apiv3 key":
        return fake.notification(transaction_resource(payment), api_v3_key="z" * 32)
    if case == "body tampered after signing":
        headers, body = fake.notification(transaction_resource(payment))
        return headers, body.replace("TRANSACTION.SUCCESS", "TRANSACTION.SUCCES5")
    raise AssertionError(case)


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("wrong signature", 401),
        ("unknown serial", 401),
        ("stale timestamp", 401),
        ("tampered amount", 400),
        ("other mch id", 400),
        ("other app id", 400),
        ("wrong apiv3 key", 400),
        ("body tampered after signing", 401),
    ],
)
def test_unverifiable_notifications_change_nothing_and_are_logged(
    case: str,
    status: int,
    pending: Payment,
    orders: FakeOrders,
    wechatpay: FakeWeChatPay,
    keys: Keys,
    tenant: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    headers, body = _bad(case, pending, wechatpay, keys)
    requests_before = len(wechatpay.requests)

    with caplog.at_level(logging.WARNING, logger="payments.notifications"):
        response = wechat_notify(APIClient(), tenant.slug, headers, body)

    assert response.status_code == status
    assert response.json()["code"] == "FAIL"
    pending.refresh_from_db()
    assert pending.status == "pending" and pending.transaction_id == ""
    assert orders.paid_calls == []
    assert any("rejected wechat notification" in r.getMessage() for r in caplog.records)
    # An unknown serial never makes us download certificates.
    assert len(wechatpay.requests) == requests_before


def test_another_tenants_notification_is_refused(
    pending: Payment, orders: FakeOrders, wechatpay: FakeWeChatPay, keys: Keys, tenant: Any
) -> None:
    """Tenant B's slug with tenant A's trade: B has no such payment (nor config)."""
    other = TenantFactory(slug="shop-other")
    headers, body = wechatpay.notification(transaction_resource(pending))
    response = wechat_notify(APIClient(), other.slug, headers, body)
    assert response.status_code == 404
    pending.refresh_from_db()
    assert pending.status == "pending"


def test_paid_after_cancel_is_recorded_and_refunded_exactly_once(
    pending: Payment,
    orders: FakeOrders,
    wechatpay: FakeWeChatPay,
    tenant: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    orders.entries["NO1001"].status = "cancelled"  # the timeout fired as the buyer paid
    headers, body = wechatpay.notification(transaction_resource(pending))

    with django_capture_on_commit_callbacks(execute=True):
        assert wechat_notify(APIClient(), tenant.slug, headers, body).status_code == 204
    with django_capture_on_commit_callbacks(execute=True):
        assert wechat_notify(APIClient(), tenant.slug, headers, body).status_code == 204

    pending.refresh_from_db()
    assert pending.status == "succeeded" and pending.purpose_accepted is False
    [refund] = pending.refunds.all()
    assert refund.amount == pending.amount and refund.request_ref == f"auto:{pending.pk}"
    assert refund.status == "processing"
    [call] = wechatpay.calls("/v3/refund/domestic/refunds")
    assert call["json"]["amount"] == {"refund": 1990, "total": 1990, "currency": "CNY"}
    assert call["json"]["out_refund_no"] == refund.out_refund_no
    assert call["json"]["notify_url"].endswith(f"/notify/wechat/{tenant.slug}/refund")
    assert pending.refunded_amount == pending.amount

    # WeChat confirms the refund; on_refunded is not called for an automatic refund.
    refund_headers, refund_body = wechatpay.notification(
        {
            "mchid": MCH_ID,
            "out_trade_no": pending.out_trade_no,
            "transaction_id": "4200x",
            "out_refund_no": refund.out_refund_no,
            "refund_id": "50000",
            "refund_status": "SUCCESS",
            "amount": {"total": 1990, "refund": 1990, "payer_total": 1990, "payer_refund": 1990},
        },
        event_type="REFUND.SUCCESS",
        associated_data="refund",
    )
    response = wechat_notify(APIClient(), tenant.slug, refund_headers, refund_body, refund=True)
    assert response.status_code == 204
    refund.refresh_from_db()
    assert refund.status == "succeeded"
    assert orders.refunded_calls == []


def test_close_for_a_cancelled_payable(
    pending: Payment, wechatpay: FakeWeChatPay, tenant: Any
) -> None:
    closed = payment_close_for(tenant, "order", "NO1001")
    assert [p.pk for p in closed] == [pending.pk]
    pending.refresh_from_db()
    assert pending.status == "closed"
    [call] = wechatpay.calls("/close")
    assert call["json"] == {"mchid": MCH_ID}


def test_close_of_a_paid_trade_applies_the_payment_instead(
    pending: Payment,
    orders: FakeOrders,
    wechatpay: FakeWeChatPay,
    tenant: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    orders.entries["NO1001"].status = "cancelled"
    wechatpay.close_answer = (400, {"code": "ORDERPAID", "message": "paid"})
    wechatpay.trades[pending.out_trade_no].update(
        trade_state="SUCCESS", transaction_id="4200closed", payer={"openid": "o-buyer-openid"}
    )
    with django_capture_on_commit_callbacks(execute=True):
        payment_close_for(tenant, "order", "NO1001")
    pending.refresh_from_db()
    assert pending.status == "succeeded" and pending.purpose_accepted is False
    assert pending.refunds.count() == 1


def test_fallback_query_applies_a_lost_notification(
    pending: Payment, orders: FakeOrders, wechatpay: FakeWeChatPay
) -> None:
    Payment.objects.filter(pk=pending.pk).update(created_at=timezone.now() - timedelta(minutes=10))
    wechatpay.trades[pending.out_trade_no].update(
        trade_state="SUCCESS",
        transaction_id="4200lost",
        payer={"openid": "o-buyer-openid"},
        success_time="2026-11-25T10:00:00+08:00",
    )
    assert payments_sync_pending(older_than_minutes=5) == 1
    pending.refresh_from_db()
    assert pending.status == "succeeded" and pending.transaction_id == "4200lost"
    assert orders.paid_calls == [("NO1001", pending.pk, True)]


def test_fallback_query_closes_payments_whose_payable_is_gone(
    pending: Payment, orders: FakeOrders, wechatpay: FakeWeChatPay
) -> None:
    Payment.objects.filter(pk=pending.pk).update(created_at=timezone.now() - timedelta(minutes=10))
    orders.entries["NO1001"].status = "cancelled"
    payments_sync_pending(older_than_minutes=5)
    pending.refresh_from_db()
    assert pending.status == "closed"
    assert len(wechatpay.calls("/close")) == 1


def test_recent_pending_payments_are_not_queried(
    pending: Payment, wechatpay: FakeWeChatPay
) -> None:
    assert payments_sync_pending(older_than_minutes=5) == 0
    assert wechatpay.calls(pending.out_trade_no + "?mchid=" + MCH_ID) == []


@pytest.mark.parametrize("case", ["forged answer", "unknown serial"])
def test_unverifiable_gateway_answers_are_refused_without_fetching_certificates(
    case: str,
    orders: FakeOrders,
    buyer: Any,
    buyer_api: APIClient,
    wechatpay: FakeWeChatPay,
    wechat_config: Any,
    keys: Keys,
) -> None:
    orders.add("NO1", "1.00", buyer)
    if case == "forged answer":
        wechatpay.answer_key = keys.stranger
    else:
        wechatpay.answer_serial = "PUB_KEY_ID_ROTATED"
    response = pay(buyer_api, "NO1", "wechat")
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "gateway_invalid_response"
    assert Payment.objects.get().status == "failed"
    assert wechatpay.calls("/v3/certificates") == []
