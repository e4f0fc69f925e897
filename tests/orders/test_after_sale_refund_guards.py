"""After-sales that could never be refunded: refused at creation (amount <= 0), a failed
approval leaves the after-sale where it was, and a stuck ``refunding`` after-sale (its refund
never created) has a way out through the open API and the console."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from mall.tenancy.models import Staff
from mall.tenancy.services import api_key_create
from orders import services
from orders.models import AfterSale, Order
from payments.models import Refund
from tests.catalog.factories import ProductFactory, SkuFactory
from tests.conftest import shopper_client
from tests.mall.factories import ChannelFactory, StaffFactory, UserFactory
from tests.members.factories import AddressFactory, MemberFactory, access_token_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def buyer(tenant: Any) -> tuple[APIClient, Any]:
    channel = ChannelFactory(tenant=tenant, app_id="wx-guards-sandbox", is_sandbox=True)
    member = MemberFactory(tenant=tenant)
    return shopper_client(channel.app_id, access_token_for(member)), member


def _paid_order(client: APIClient, member: Any, tenant: Any, capture: Any) -> Order:
    sku = SkuFactory(product=ProductFactory(tenant=tenant), price=Decimal("30.00"), stock=5)
    address = AddressFactory(tenant=tenant, member=member)
    created = client.post(
        "/api/v1/orders",
        {"lines": [{"sku_id": sku.pk, "quantity": 2}], "address_id": address.pk},
        format="json",
    )
    assert created.status_code == 201, created.content
    number = created.json()["number"]
    with capture(execute=True):
        trade = client.post(f"/api/v1/orders/{number}/pay", {"gateway": "sandbox"}, format="json")
        done = client.post(f"/api/v1/payments/sandbox/{trade.json()['out_trade_no']}/complete")
    assert done.json()["status"] == "succeeded"
    return Order.objects.get(number=number)


@pytest.mark.parametrize("amount", ["0.00", "-1.00"])
def test_an_after_sale_of_nothing_is_refused_naming_the_field(
    tenant: Any, buyer: Any, amount: str, django_capture_on_commit_callbacks: Any
) -> None:
    client, member = buyer
    order = _paid_order(client, member, tenant, django_capture_on_commit_callbacks)
    answer = client.post(
        f"/api/v1/orders/{order.number}/after-sales",
        {"type": "refund", "reason": "nothing", "amount": amount},
        format="json",
    )
    assert answer.status_code == 400, answer.content
    error = answer.json()["error"]
    assert "amount" in error["details"]
    assert not AfterSale.objects.filter(order=order).exists()


def _zero_after_sale(tenant: Any, member: Any, order: Order) -> AfterSale:
    """A 0.00 after-sale as the old code accepted it (rows of it may exist)."""
    after_sale = services.after_sale_request(
        tenant=tenant, member=member, order=order, type="refund", reason="r", actor="m"
    )
    AfterSale.objects.filter(pk=after_sale.pk).update(amount=Decimal("0.00"))
    after_sale.lines.update(amount=Decimal("0.00"))
    after_sale.refresh_from_db()
    return after_sale


def _merchant(tenant: Any) -> APIClient:
    _key, raw = api_key_create(tenant=tenant, scopes=["orders"])
    merchant = APIClient()
    merchant.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return merchant


def test_a_failed_approval_leaves_the_after_sale_where_it_was(
    tenant: Any, buyer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client, member = buyer
    order = _paid_order(client, member, tenant, django_capture_on_commit_callbacks)
    after_sale = _zero_after_sale(tenant, member, order)
    merchant = _merchant(tenant)

    with django_capture_on_commit_callbacks(execute=True):
        answer = merchant.post(f"/api/merchant/v1/after-sales/{after_sale.pk}/approve")
    assert answer.status_code == 400, answer.content
    assert answer.json()["error"]["code"] == "refund_invalid_amount"
    after_sale.refresh_from_db()
    assert after_sale.status == "requested"
    assert not Refund.objects.exists()
    # it can still be rejected, so the order is not blocked
    rejected = merchant.post(
        f"/api/merchant/v1/after-sales/{after_sale.pk}/reject", {"reason": "zero"}, format="json"
    )
    assert rejected.json()["status"] == "rejected"


def test_refund_now_that_fails_leaves_an_approved_after_sale_approved(
    tenant: Any, buyer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client, member = buyer
    order = _paid_order(client, member, tenant, django_capture_on_commit_callbacks)
    after_sale = _zero_after_sale(tenant, member, order)
    AfterSale.objects.filter(pk=after_sale.pk).update(status="approved")
    with django_capture_on_commit_callbacks(execute=True):
        answer = _merchant(tenant).post(f"/api/merchant/v1/after-sales/{after_sale.pk}/refund")
    assert answer.status_code == 400, answer.content
    after_sale.refresh_from_db()
    assert after_sale.status == "approved"


def test_a_stuck_refunding_after_sale_can_be_reopened_or_closed(
    tenant: Any, buyer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client, member = buyer
    order = _paid_order(client, member, tenant, django_capture_on_commit_callbacks)
    stuck = _zero_after_sale(tenant, member, order)
    AfterSale.objects.filter(pk=stuck.pk).update(status="refunding")  # as the old code left it
    merchant = _merchant(tenant)

    reopened = merchant.post(f"/api/merchant/v1/after-sales/{stuck.pk}/abort-refund")
    assert reopened.status_code == 200, reopened.content
    assert reopened.json()["status"] == "approved"
    assert reopened.json()["timeline"][-1]["from_status"] == "refunding"
    with django_capture_on_commit_callbacks(execute=True):
        stuck_again = merchant.post(f"/api/merchant/v1/after-sales/{stuck.pk}/refund")
    assert stuck_again.status_code == 400
    AfterSale.objects.filter(pk=stuck.pk).update(status="refunding")
    closed = merchant.post(
        f"/api/merchant/v1/after-sales/{stuck.pk}/abort-refund", {"close": True}, format="json"
    )
    assert closed.json()["status"] == "cancelled", closed.content
    # no open after-sale is left: the buyer may ask again for the whole order
    again = services.after_sale_request(
        tenant=tenant, member=member, order=order, type="refund", reason="r", actor="m"
    )
    assert again.amount == Decimal("60.00")


def test_a_refund_under_way_cannot_be_aborted(
    tenant: Any, buyer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client, member = buyer
    order = _paid_order(client, member, tenant, django_capture_on_commit_callbacks)
    after_sale = services.after_sale_request(
        tenant=tenant, member=member, order=order, type="refund", reason="r", actor="m"
    )
    # approved and asked of payments, but the gateway has not answered yet
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.after_sale_approve(tenant=tenant, after_sale=after_sale, actor="staff")
    callbacks[0]()  # the refund request (its submission to the gateway is not run)
    assert Refund.objects.get().status == "created"
    answer = _merchant(tenant).post(f"/api/merchant/v1/after-sales/{after_sale.pk}/abort-refund")
    assert answer.status_code == 409, answer.content
    after_sale.refresh_from_db()
    assert after_sale.status == "refunding"


def test_console_action_closes_a_stuck_after_sale(
    tenant: Any, buyer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client, member = buyer
    order = _paid_order(client, member, tenant, django_capture_on_commit_callbacks)
    stuck = _zero_after_sale(tenant, member, order)
    AfterSale.objects.filter(pk=stuck.pk).update(status="refunding")
    staff = StaffFactory(tenant=tenant, role=Staff.Role.OWNER, user=UserFactory())
    console = Client()
    console.force_login(staff.user)
    console.post(
        "/console/orders/aftersale/",
        {"action": "abort_refund_close", "_selected_action": [stuck.pk]},
    )
    stuck.refresh_from_db()
    assert stuck.status == "cancelled"
