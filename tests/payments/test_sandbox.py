"""The sandbox gateway: params from /pay, completion through the same verification path."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from payments.gateways.sandbox import sandbox_notification
from payments.models import GatewayConfig, Payment, PaymentEvent
from tests.payments.conftest import FakeOrders, pay, wechat_notify


def test_sandbox_purchase_from_pay_to_paid(
    orders: FakeOrders, buyer: Any, buyer_api: APIClient, tenant: Any
) -> None:
    orders.add("NO7001", "9.90", buyer)

    body = pay(buyer_api, "NO7001", "sandbox").json()

    assert body["gateway"] == "sandbox" and body["sandbox"] is True
    assert body["params"]["package"].startswith("prepay_id=sandbox_")
    config = GatewayConfig.objects.get(tenant=tenant, gateway="sandbox")
    assert config.sandbox_signing_key and config.public_key_id.startswith("PUB_KEY_ID_SANDBOX")

    done = buyer_api.post(f"/api/v1/payments/sandbox/{body['out_trade_no']}/complete")

    assert done.status_code == 200, done.content
    assert done.json() == {
        "out_trade_no": body["out_trade_no"],
        "status": "succeeded",
        "purpose_accepted": True,
    }
    payment = Payment.objects.get(out_trade_no=body["out_trade_no"])
    assert orders.paid_calls == [("NO7001", payment.pk, True)]
    # It went through the notification path, like a gateway's.
    event = PaymentEvent.objects.get(payment=payment, kind="succeeded")
    assert event.source == "notification"


def test_sandbox_notification_is_verified_like_wechat(
    orders: FakeOrders, buyer: Any, buyer_api: APIClient, tenant: Any
) -> None:
    orders.add("NO7002", "9.90", buyer)
    payment = Payment.objects.get(
        out_trade_no=pay(buyer_api, "NO7002", "sandbox").json()["out_trade_no"]
    )
    config = GatewayConfig.objects.get(tenant=tenant, gateway="sandbox")
    headers, body = sandbox_notification(config, payment)
    django_headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    tampered = body.replace('"TRANSACTION.SUCCESS"', '"TRANSACTION.OTHER"')

    response = APIClient().post(
        f"/api/v1/payments/notify/sandbox/{tenant.slug}",
        data=tampered,
        content_type="application/json",
        **django_headers,
    )
    assert response.status_code == 401
    # Sandbox keys are not WeChat's: the WeChat endpoint refuses it (no WeChat config here).
    assert wechat_notify(APIClient(), tenant.slug, django_headers, body).status_code == 404
    payment.refresh_from_db()
    assert payment.status == "pending"

    ok = APIClient().post(
        f"/api/v1/payments/notify/sandbox/{tenant.slug}",
        data=body,
        content_type="application/json",
        **django_headers,
    )
    assert ok.status_code == 204
    payment.refresh_from_db()
    assert payment.status == "succeeded"


def test_sandbox_is_refused_outside_debug_unless_allowed(
    orders: FakeOrders, buyer: Any, buyer_api: APIClient, settings: Any
) -> None:
    orders.add("NO7003", "9.90", buyer)
    settings.DEBUG = False
    settings.MALL_ALLOW_SANDBOX = False

    response = pay(buyer_api, "NO7003", "sandbox")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "sandbox_disabled"
    assert Payment.objects.count() == 0
    complete = buyer_api.post("/api/v1/payments/sandbox/Pxyz/complete")
    assert complete.status_code == 403
    with pytest.raises(CommandError):
        call_command("sandbox_pay", "--tenant", "shop-a", "--order", "NO7003")


def test_sandbox_complete_of_another_members_payment_is_404(
    orders: FakeOrders, buyer: Any, buyer_api: APIClient, channel: Any, tenant: Any
) -> None:
    from tests.conftest import shopper_client
    from tests.members.factories import MemberFactory, access_token_for

    orders.add("NO7004", "9.90", buyer)
    number = pay(buyer_api, "NO7004", "sandbox").json()["out_trade_no"]
    stranger = shopper_client(channel.app_id, access_token_for(MemberFactory(tenant=tenant)))
    assert stranger.post(f"/api/v1/payments/sandbox/{number}/complete").status_code == 404
    assert Payment.objects.get(out_trade_no=number).status == "pending"


def test_sandbox_pay_command(orders: FakeOrders, buyer: Any, tenant: Any) -> None:
    orders.add("NO7005", "5.00", buyer)
    out = StringIO()
    call_command("sandbox_pay", "--tenant", tenant.slug, "--order", "NO7005", stdout=out)
    payment = Payment.objects.get(reference="NO7005")
    assert payment.status == "succeeded" and payment.gateway == "sandbox"
    assert f"{payment.out_trade_no}: succeeded" in out.getvalue()
    assert orders.entries["NO7005"].status == "paid"
