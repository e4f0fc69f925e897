"""Across apps, through the HTTP APIs: a shopper arrives by a distributor's share scene, orders,
pays in the sandbox, gets a partial refund; attribution, commissions and their reversal follow,
and a cancelled order's unpaid gateway trade is closed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from distribution.models import Binding, Commission
from mall.tenancy.services import api_key_create
from members.models import Member
from orders.models import Order
from payments.models import Payment, Refund
from tests.catalog.factories import ProductFactory, SkuFactory
from tests.conftest import shopper_client
from tests.distribution.factories import distributor, enable, grade
from tests.mall.factories import ChannelFactory
from tests.members.factories import AddressFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(tenant: Any) -> dict[str, Any]:
    channel = ChannelFactory(tenant=tenant, app_id="wx-growth-sandbox", is_sandbox=True)
    enable(tenant, tiers=2)
    gold = grade(tenant, rates=("0.10", "0.05", "0.00"))
    upline = distributor(tenant, grade_obj=gold)
    seller = distributor(tenant, parent=upline, grade_obj=gold)
    sku = SkuFactory(product=ProductFactory(tenant=tenant), price=Decimal("100.00"), stock=5)
    _, key = api_key_create(tenant=tenant, scopes=["orders"])
    merchant = APIClient()
    merchant.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return {
        "channel": channel,
        "upline": upline,
        "seller": seller,
        "sku": sku,
        "merchant": merchant,
    }


def _login(channel: Any, code: str, scene: str = "") -> tuple[APIClient, Member]:
    body = {"code": code, **({"scene": scene} if scene else {})}
    answer = shopper_client(channel.app_id).post("/api/v1/auth/wechat/login", body, format="json")
    assert answer.status_code in (200, 201), answer.content
    member = Member.objects.get(pk=answer.json()["member"]["id"])
    return shopper_client(channel.app_id, answer.json()["access"]), member


def _order(client: APIClient, member: Member, sku: Any, quantity: int, key: str) -> Order:
    address = AddressFactory(tenant=member.tenant, member=member)
    created = client.post(
        "/api/v1/orders",
        {
            "lines": [{"sku_id": sku.pk, "quantity": quantity}],
            "fulfillment": "express",
            "address_id": address.pk,
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    assert created.status_code == 201, created.content
    return Order.objects.get(number=created.json()["number"])


def test_share_scene_order_pay_refund_moves_commissions_exactly(
    tenant: Any, shop: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    seller, upline = shop["seller"], shop["upline"]

    # Arrives through the seller's poster scene: bound at login.
    client, buyer = _login(shop["channel"], "buyer-1", scene=f"d={seller.share_code}")
    assert Binding.objects.get(customer=buyer).distributor_id == seller.pk

    # Orders 2 x 100.00: the order carries the attribution snapshot.
    order = _order(client, buyer, shop["sku"], 2, "growth-1")
    chain = [link["distributor_id"] for link in order.distribution["chain"]]
    assert chain == [seller.pk, upline.pk]

    # Pays in the sandbox: the paid transition creates one commission per line and tier.
    with django_capture_on_commit_callbacks(execute=True):
        trade = client.post(
            f"/api/v1/orders/{order.number}/pay", {"gateway": "sandbox"}, format="json"
        ).json()
        done = client.post(f"/api/v1/payments/sandbox/{trade['out_trade_no']}/complete")
    assert done.json()["status"] == "succeeded"
    order.refresh_from_db()
    assert order.status == "paid" and order.paid_amount == Decimal("200.00")
    commissions = {c.tier: c for c in Commission.objects.filter(order=order)}
    assert {t: c.amount for t, c in commissions.items()} == {
        1: Decimal("20.00"),
        2: Decimal("10.00"),
    }
    assert commissions[1].beneficiary_id == seller.pk

    # One of the two items is refunded (approved through the open API, refunded by the
    # sandbox): half of each commission is taken back, exactly.
    line = order.lines.get()
    with django_capture_on_commit_callbacks(execute=True):
        requested = client.post(
            f"/api/v1/orders/{order.number}/after-sales",
            {"type": "refund", "lines": [{"line_id": line.pk, "quantity": 1}], "reason": "size"},
            format="json",
        )
        assert requested.status_code == 201, requested.content
        after_sale_id = requested.json()["id"]
        approved = shop["merchant"].post(f"/api/merchant/v1/after-sales/{after_sale_id}/approve")
        assert approved.status_code == 200, approved.content
    refund = Refund.objects.get(payment__reference=order.number)
    assert (refund.amount, refund.status) == (Decimal("100.00"), "succeeded")
    order.refresh_from_db()
    assert order.status == "partially_refunded" and order.refunded_amount == Decimal("100.00")
    for tier, left in ((1, Decimal("10.00")), (2, Decimal("5.00"))):
        commission = Commission.objects.get(order=order, tier=tier)
        assert commission.amount - commission.reversed_amount == left


def test_cancelled_order_closes_its_unpaid_sandbox_trade(
    tenant: Any, shop: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    client, buyer = _login(shop["channel"], "buyer-2")
    order = _order(client, buyer, shop["sku"], 1, "growth-2")
    trade = client.post(
        f"/api/v1/orders/{order.number}/pay", {"gateway": "sandbox"}, format="json"
    ).json()

    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/api/v1/orders/{order.number}/cancel").status_code == 200

    payment = Payment.objects.get(out_trade_no=trade["out_trade_no"])
    assert payment.status == "closed"
    late = client.post(f"/api/v1/payments/sandbox/{trade['out_trade_no']}/complete")
    assert late.status_code == 409 and late.json()["error"]["code"] == "payment_closed"
    order.refresh_from_db()
    assert order.status == "cancelled" and order.paid_amount == Decimal("0.00")


def test_shipping_a_sandbox_paid_order_uploads_its_shipping_information(
    tenant: Any, shop: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    from payments.models import ShippingUpload

    client, buyer = _login(shop["channel"], "buyer-3")
    order = _order(client, buyer, shop["sku"], 2, "growth-3")
    with django_capture_on_commit_callbacks(execute=True):
        trade = client.post(
            f"/api/v1/orders/{order.number}/pay", {"gateway": "sandbox"}, format="json"
        ).json()
        client.post(f"/api/v1/payments/sandbox/{trade['out_trade_no']}/complete")
    line = order.lines.get()

    with django_capture_on_commit_callbacks(execute=True):
        first = shop["merchant"].post(
            f"/api/merchant/v1/orders/{order.number}/ship",
            {
                "carrier": "SF",
                "tracking_no": "SF100",
                "lines": [{"line_id": line.pk, "quantity": 1}],
            },
            format="json",
        )
        assert first.status_code in (200, 201), first.content
    upload = ShippingUpload.objects.get(reference=order.number)
    assert upload.is_all_delivered is False and len(upload.packages) == 1

    with django_capture_on_commit_callbacks(execute=True):
        rest = shop["merchant"].post(
            f"/api/merchant/v1/orders/{order.number}/ship",
            {"carrier": "SF", "tracking_no": "SF101"},
            format="json",
        )
        assert rest.status_code in (200, 201), rest.content
    upload.refresh_from_db()
    assert upload.is_all_delivered is True and len(upload.packages) == 2
    assert upload.status == "accepted"  # the sandbox accepts locally
    order.refresh_from_db()
    assert order.status == "shipped"
