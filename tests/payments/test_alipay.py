"""Alipay: trade.create for my.tradePay, verified async notifications, refunds, paid twice."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from rest_framework.test import APIClient

from payments.models import Payment
from tests.payments.conftest import (
    ALIPAY_APP_ID,
    FakeAlipay,
    FakeOrders,
    FakeWeChatPay,
    Keys,
    pay,
    transaction_resource,
    wechat_notify,
)


@pytest.fixture
def ali_pending(
    orders: FakeOrders, buyer: Any, buyer_api: APIClient, alipay: FakeAlipay, alipay_config: Any
) -> Payment:
    orders.add("NO2001", "25.50", buyer)
    response = pay(buyer_api, "NO2001", "alipay")
    assert response.status_code == 200, response.content
    return Payment.objects.get(out_trade_no=response.json()["out_trade_no"])


def notify(client: APIClient, slug: str, form: dict[str, str]) -> Any:
    return client.post(f"/api/v1/payments/notify/alipay/{slug}", data=form)


def test_pay_creates_the_trade_with_the_buyer_id(
    ali_pending: Payment, alipay: FakeAlipay, tenant: Any
) -> None:
    [call] = alipay.calls("alipay.trade.create")
    assert call["biz"]["buyer_id"] == "2088000000000001"
    assert call["biz"]["total_amount"] == "25.50"
    assert call["biz"]["out_trade_no"] == ali_pending.out_trade_no
    assert call["params"]["notify_url"] == (
        f"https://mall.example.com/api/v1/payments/notify/alipay/{tenant.slug}"
    )
    assert ali_pending.status == "pending"
    assert ali_pending.prepay_id == alipay.trades[ali_pending.out_trade_no]["trade_no"]


def test_pay_answers_the_trade_no(
    orders: FakeOrders, buyer: Any, buyer_api: APIClient, alipay: FakeAlipay, alipay_config: Any
) -> None:
    orders.add("NO2002", "3.00", buyer)
    body = pay(buyer_api, "NO2002", "alipay").json()
    assert body["gateway"] == "alipay" and body["trade_no"].startswith("2026")


@pytest.mark.parametrize("status", ["TRADE_SUCCESS", "TRADE_FINISHED"])
def test_valid_notification_pays_and_answers_success(
    status: str, ali_pending: Payment, orders: FakeOrders, alipay: FakeAlipay, tenant: Any
) -> None:
    form = alipay.notification(ali_pending, trade_status=status)
    first = notify(APIClient(), tenant.slug, form)
    second = notify(APIClient(), tenant.slug, form)
    assert first.status_code == 200 and first.content == b"success"
    assert second.content == b"success"
    ali_pending.refresh_from_db()
    assert ali_pending.status == "succeeded"
    assert ali_pending.payer_id == "2088000000000001"
    assert orders.paid_calls == [("NO2001", ali_pending.pk, True)]


@pytest.mark.parametrize(
    "case", ["wrong signature", "tampered amount", "other app id", "amount changed after signing"]
)
def test_unverifiable_notifications_change_nothing(
    case: str,
    ali_pending: Payment,
    orders: FakeOrders,
    alipay: FakeAlipay,
    keys: Keys,
    tenant: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    if case == "wrong signature":
        form = alipay.notification(ali_pending, key=keys.stranger)
    elif case == "tampered amount":
        form = alipay.notification(ali_pending, total_amount="0.01")
    elif case == "other app id":
        form = alipay.notification(ali_pending, app_id="2021000000000777")
    else:
        form = alipay.notification(ali_pending)
        form["total_amount"] = "0.01"
    with caplog.at_level(logging.WARNING, logger="payments.notifications"):
        response = notify(APIClient(), tenant.slug, form)
    assert response.status_code in (400, 404) and response.content == b"fail"
    ali_pending.refresh_from_db()
    assert ali_pending.status == "pending"
    assert orders.paid_calls == []
    assert any("rejected alipay notification" in r.getMessage() for r in caplog.records)


def test_paid_twice_wechat_then_alipay_refunds_the_second_exactly_once(
    orders: FakeOrders,
    buyer: Any,
    buyer_api: APIClient,
    wechatpay: FakeWeChatPay,
    alipay: FakeAlipay,
    wechat_config: Any,
    alipay_config: Any,
    tenant: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    orders.add("NO3001", "10.00", buyer)
    wx = Payment.objects.get(out_trade_no=pay(buyer_api, "NO3001", "wechat").json()["out_trade_no"])
    ali = Payment.objects.get(
        out_trade_no=pay(buyer_api, "NO3001", "alipay").json()["out_trade_no"]
    )

    headers, body = wechatpay.notification(transaction_resource(wx))
    form = alipay.notification(ali)
    with django_capture_on_commit_callbacks(execute=True):
        assert wechat_notify(APIClient(), tenant.slug, headers, body).status_code == 204
        assert notify(APIClient(), tenant.slug, form).content == b"success"
    with django_capture_on_commit_callbacks(execute=True):
        assert notify(APIClient(), tenant.slug, form).content == b"success"

    wx.refresh_from_db()
    ali.refresh_from_db()
    assert (wx.status, wx.purpose_accepted) == ("succeeded", True)
    assert (ali.status, ali.purpose_accepted) == ("succeeded", False)
    assert orders.entries["NO3001"].paid_by == wx.pk
    [refund] = ali.refunds.all()
    assert refund.status == "succeeded" and refund.amount == ali.amount
    [call] = alipay.calls("alipay.trade.refund")
    assert call["biz"]["out_request_no"] == refund.out_refund_no
    assert call["biz"]["refund_amount"] == "10.00"
    assert wx.refunds.count() == 0
    assert orders.refunded_calls == []  # the order itself was not refunded


def test_close_on_cancel(ali_pending: Payment, alipay: FakeAlipay, tenant: Any) -> None:
    from payments.collection.services import payment_close_for

    payment_close_for(tenant, "order", "NO2001")
    ali_pending.refresh_from_db()
    assert ali_pending.status == "closed"
    assert alipay.calls("alipay.trade.close")[0]["biz"] == {
        "out_trade_no": ali_pending.out_trade_no
    }


def test_notification_for_unconfigured_tenant_fails(
    ali_pending: Payment, alipay: FakeAlipay
) -> None:
    from tests.mall.factories import TenantFactory

    other = TenantFactory(slug="no-alipay")
    assert notify(APIClient(), other.slug, alipay.notification(ali_pending)).status_code == 404
    assert ALIPAY_APP_ID  # the fake's app id is the configured one
