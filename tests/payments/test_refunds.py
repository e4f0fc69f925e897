"""Refunds for after-sales: partial refunds never exceed the paid amount, idempotent per
request_ref, notifications finalise once, failed refunds are retryable."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F
from rest_framework.test import APIClient

from mall.api.errors import ApplicationError, status_for
from payments.models import Payment, Refund
from payments.refunds.services import refund_request, refund_retry
from tests.payments.conftest import (
    MCH_ID,
    FakeOrders,
    FakeWeChatPay,
    pay,
    transaction_resource,
    wechat_notify,
)


@pytest.fixture
def paid(
    orders: FakeOrders,
    buyer: Any,
    buyer_api: APIClient,
    wechatpay: FakeWeChatPay,
    wechat_config: Any,
    tenant: Any,
) -> Payment:
    orders.add("NO5001", "100.00", buyer)
    payment = Payment.objects.get(
        out_trade_no=pay(buyer_api, "NO5001", "wechat").json()["out_trade_no"]
    )
    headers, body = wechatpay.notification(transaction_resource(payment))
    assert wechat_notify(APIClient(), tenant.slug, headers, body).status_code == 204
    payment.refresh_from_db()
    assert payment.status == "succeeded"
    return payment


def ask(tenant: Any, amount: str, ref: str, capture: Any) -> Refund:
    with capture(execute=True):
        return refund_request(
            tenant=tenant,
            purpose="order",
            reference="NO5001",
            amount=Decimal(amount),
            reason="damaged",
            request_ref=ref,
        )


def refund_notification(fake: FakeWeChatPay, refund: Refund, status: str = "SUCCESS") -> Any:
    return fake.notification(
        {
            "mchid": MCH_ID,
            "out_trade_no": refund.payment.out_trade_no,
            "transaction_id": refund.payment.transaction_id,
            "out_refund_no": refund.out_refund_no,
            "refund_id": "5030000",
            "refund_status": status,
            "success_time": "2026-11-25T11:00:00+08:00",
            "amount": {
                "total": 10000,
                "refund": int(refund.amount * 100),
                "payer_total": 10000,
                "payer_refund": int(refund.amount * 100),
            },
        },
        event_type=f"REFUND.{status}",
        associated_data="refund",
    )


def test_two_partial_refunds_up_to_paid_succeed_and_a_third_is_409(
    paid: Payment,
    wechatpay: FakeWeChatPay,
    tenant: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    first = ask(tenant, "60.00", "after_sale:1", django_capture_on_commit_callbacks)
    second = ask(tenant, "40.00", "after_sale:2", django_capture_on_commit_callbacks)

    with pytest.raises(ApplicationError) as refused:
        ask(tenant, "0.01", "after_sale:3", django_capture_on_commit_callbacks)

    assert status_for(refused.value) == 409 and refused.value.code == "refund_exceeds_paid"
    paid.refresh_from_db()
    assert paid.refunded_amount == Decimal("100.00")
    assert [first.status, second.status] == ["created", "created"]  # objects as created
    assert {r.status for r in Refund.objects.all()} == {"processing"}
    calls = wechatpay.calls("/v3/refund/domestic/refunds")
    assert [c["json"]["amount"]["refund"] for c in calls] == [6000, 4000]
    assert not Refund.objects.filter(request_ref="after_sale:3").exists()


def test_same_request_ref_is_idempotent_and_reuse_with_another_amount_is_409(
    paid: Payment,
    wechatpay: FakeWeChatPay,
    tenant: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    first = ask(tenant, "30.00", "after_sale:7", django_capture_on_commit_callbacks)
    again = ask(tenant, "30.00", "after_sale:7", django_capture_on_commit_callbacks)
    assert again.pk == first.pk
    with pytest.raises(ApplicationError) as reused:
        ask(tenant, "31.00", "after_sale:7", django_capture_on_commit_callbacks)
    assert status_for(reused.value) == 409
    assert len(wechatpay.calls("/v3/refund/domestic/refunds")) == 1
    paid.refresh_from_db()
    assert paid.refunded_amount == Decimal("30.00")


def test_nothing_paid_cannot_be_refunded(orders: FakeOrders, tenant: Any) -> None:
    with pytest.raises(ApplicationError) as refused:
        refund_request(
            tenant=tenant,
            purpose="order",
            reference="NO-NONE",
            amount=Decimal("1"),
            reason="",
            request_ref="after_sale:9",
        )
    assert status_for(refused.value) == 409


def test_refund_notification_twice_finalises_once(
    paid: Payment,
    orders: FakeOrders,
    wechatpay: FakeWeChatPay,
    tenant: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    refund = ask(tenant, "20.00", "after_sale:4", django_capture_on_commit_callbacks)
    headers, body = refund_notification(wechatpay, refund)

    first = wechat_notify(APIClient(), tenant.slug, headers, body, refund=True)
    second = wechat_notify(APIClient(), tenant.slug, headers, body, refund=True)

    assert first.status_code == 204 and second.status_code == 204
    refund.refresh_from_db()
    assert refund.status == "succeeded" and refund.refunded_at is not None
    assert orders.refunded_calls == [("NO5001", refund.pk)]
    assert refund.events.filter(kind="refund_succeeded").count() == 1


def test_refund_notification_with_another_amount_changes_nothing(
    paid: Payment,
    orders: FakeOrders,
    wechatpay: FakeWeChatPay,
    tenant: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    refund = ask(tenant, "20.00", "after_sale:5", django_capture_on_commit_callbacks)
    refund.amount = Decimal("99.00")  # what a forged notification would claim
    headers, body = refund_notification(wechatpay, refund)
    response = wechat_notify(APIClient(), tenant.slug, headers, body, refund=True)
    assert response.status_code == 400
    refund.refresh_from_db()
    assert refund.status == "processing" and orders.refunded_calls == []


def test_failed_refund_is_visible_and_retryable(
    paid: Payment,
    orders: FakeOrders,
    wechatpay: FakeWeChatPay,
    tenant: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    wechatpay.refund_http_status = 500
    refund = ask(tenant, "50.00", "after_sale:6", django_capture_on_commit_callbacks)
    refund.refresh_from_db()
    assert refund.status == "failed" and "unavailable" in refund.last_error
    paid.refresh_from_db()
    assert paid.refunded_amount == Decimal("50.00")  # still reserved for the retry

    wechatpay.refund_http_status = 200
    wechatpay.refund_status = "SUCCESS"
    retried = refund_retry(tenant=tenant, refund_id=refund.pk)

    assert retried.status == "succeeded" and retried.attempts == 2
    assert retried.out_refund_no == refund.out_refund_no  # never reached the gateway before
    assert orders.refunded_calls == [("NO5001", refund.pk)]
    with pytest.raises(ApplicationError) as again:
        refund_retry(tenant=tenant, refund_id=refund.pk)
    assert status_for(again.value) == 409


def test_refund_abnormal_at_gateway_fails_then_retries_with_a_new_number(
    paid: Payment,
    wechatpay: FakeWeChatPay,
    tenant: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    refund = ask(tenant, "10.00", "after_sale:8", django_capture_on_commit_callbacks)
    refund.refresh_from_db()
    headers, body = refund_notification(wechatpay, refund, status="ABNORMAL")
    assert wechat_notify(APIClient(), tenant.slug, headers, body, refund=True).status_code == 204
    refund.refresh_from_db()
    assert refund.status == "failed"
    old_number = refund.out_refund_no
    wechatpay.refund_status = "SUCCESS"
    retried = refund_retry(tenant=tenant, refund_id=refund.pk)
    assert retried.status == "succeeded" and retried.out_refund_no != old_number


def test_database_refuses_refunds_over_the_paid_amount(paid: Payment) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.filter(pk=paid.pk).update(refunded_amount=F("amount") + 1)
