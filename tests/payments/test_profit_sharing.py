"""WeChat Pay profit sharing of completed orders to receivers (suppliers), against the fake
WeChat Pay: receivers registered with their encrypted names, sharing orders sent once per
payment with amounts from the rates on the order's net, queried until finished, and the
supplier shares in the settlement ledger."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from mall.api.errors import ApplicationError, status_for
from orders.models import Order
from payments.models import OrderSettlement, Payment, ProfitSharingOrder, ProfitSharingReceiver
from payments.profit_sharing.services import (
    profit_sharing_receiver_add,
    profit_sharing_request_for,
    profit_sharing_sync,
    settlement_compute_for,
    settlements_run,
)
from tests.distribution.factories import complete, paid_order
from tests.members.factories import MemberFactory
from tests.payments.conftest import FakeOrders, FakeWeChatPay, pay
from tests.payments.test_settlement import paid

pytestmark = pytest.mark.django_db


@pytest.fixture
def receivers(tenant: Any, wechatpay: FakeWeChatPay, wechat_config: Any) -> list[Any]:
    return [
        profit_sharing_receiver_add(
            tenant=tenant,
            type="MERCHANT_ID",
            account="1900000200",
            name="Supplier One Ltd",
            share_rate=Decimal("0.20"),
        ),
        profit_sharing_receiver_add(
            tenant=tenant,
            type="PERSONAL_OPENID",
            account="o-supplier-two",
            name="Zhang San",
            share_rate=Decimal("0.10"),
        ),
    ]


@pytest.fixture
def order(tenant: Any) -> Order:
    order = paid_order(tenant, MemberFactory(tenant=tenant), [{"payable": "100.00"}])
    complete(order)
    paid(tenant, order.number, "100.00")
    return order


def test_receivers_are_registered_with_their_names_encrypted(
    receivers: list[Any], wechatpay: FakeWeChatPay
) -> None:
    registered = wechatpay.sharing_receivers
    assert registered[("MERCHANT_ID", "1900000200")]["name"] == "Supplier One Ltd"
    assert registered[("PERSONAL_OPENID", "o-supplier-two")]["relation_type"] == "SUPPLIER"
    sent = wechatpay.calls("/v3/profitsharing/receivers/add")[0]["json"]
    assert sent["name"] != "Supplier One Ltd"  # encrypted on the wire
    assert all(r.registered_at is not None for r in receivers)


def test_rates_above_thirty_percent_are_refused(
    tenant: Any, receivers: list[Any], wechatpay: FakeWeChatPay
) -> None:
    with pytest.raises(ApplicationError) as exc:
        profit_sharing_receiver_add(
            tenant=tenant,
            type="MERCHANT_ID",
            account="1900000300",
            name="Third",
            share_rate=Decimal("0.01"),
        )
    assert status_for(exc.value) == 409
    assert exc.value.code == "profit_sharing_rate_exceeded"
    assert not ProfitSharingReceiver.objects.filter(account="1900000300").exists()
    assert ("MERCHANT_ID", "1900000300") not in wechatpay.sharing_receivers


def test_a_receiver_wechat_refuses_is_not_kept(
    tenant: Any, wechatpay: FakeWeChatPay, wechat_config: Any
) -> None:
    wechatpay.receiver_answer = (400, {"code": "PARAM_ERROR", "message": "bad name"})

    with pytest.raises(ApplicationError) as exc:
        profit_sharing_receiver_add(
            tenant=tenant,
            type="MERCHANT_ID",
            account="1900000400",
            name="Wrong Name",
            share_rate=Decimal("0.05"),
        )

    assert (status_for(exc.value), exc.value.code) == (422, "gateway_refused")
    assert not ProfitSharingReceiver.objects.filter(account="1900000400").exists()


def test_receivers_need_wechat_pay_configured(tenant: Any) -> None:
    with pytest.raises(ApplicationError) as exc:
        profit_sharing_receiver_add(
            tenant=tenant, type="MERCHANT_ID", account="1", name="x", share_rate=Decimal("0.1")
        )
    assert exc.value.code == "gateway_not_configured"
    with pytest.raises(ApplicationError) as exc:
        profit_sharing_receiver_add(
            tenant=tenant, type="BANK", account="1", name="x", share_rate=Decimal("0.1")
        )
    assert exc.value.code == "profit_sharing_receiver_invalid"


def test_completed_order_is_shared_once_and_lands_in_the_settlement(
    tenant: Any, order: Order, receivers: list[Any], wechatpay: FakeWeChatPay
) -> None:
    sharing = profit_sharing_request_for(tenant=tenant, purpose="order", reference=order.number)

    assert sharing is not None and sharing.status == "processing"
    # net before sharing: 100.00 - 0.60 fee = 99.40; 20% = 19.88, 10% = 9.94
    assert (sharing.base_amount, sharing.amount) == (Decimal("99.40"), Decimal("29.82"))
    sent = wechatpay.calls("/v3/profitsharing/orders")[0]["json"]
    assert sent["transaction_id"] == f"4200{order.number}"
    assert sent["unfreeze_unsplit"] is True
    assert [(r["account"], r["amount"]) for r in sent["receivers"]] == [
        ("1900000200", 1988),
        ("o-supplier-two", 994),
    ]

    again = profit_sharing_request_for(tenant=tenant, purpose="order", reference=order.number)
    assert again is not None and again.pk == sharing.pk
    assert len(wechatpay.calls("/v3/profitsharing/orders")) == 1  # queried, not sent again
    assert again.status == "processing"

    wechatpay.sharing_finish(sharing.out_order_no)
    done = profit_sharing_request_for(tenant=tenant, purpose="order", reference=order.number)
    assert done is not None and done.status == "finished" and done.finished_at is not None

    s = settlement_compute_for(tenant=tenant, purpose="order", reference=order.number)
    assert (s.supplier_shares, s.fee, s.net) == (
        Decimal("29.82"),
        Decimal("0.60"),
        Decimal("69.58"),
    )


def test_beat_shares_then_settles(
    tenant: Any, order: Order, receivers: list[Any], wechatpay: FakeWeChatPay
) -> None:
    wechatpay.sharing_state = "FINISHED"

    assert settlements_run() == 1

    sharing = ProfitSharingOrder.objects.get()
    assert sharing.status == "finished"
    settlement = OrderSettlement.objects.get(reference=order.number)
    assert (settlement.supplier_shares, settlement.net) == (Decimal("29.82"), Decimal("69.58"))
    assert settlements_run() == 0
    assert len(wechatpay.calls("/v3/profitsharing/orders")) == 1


def test_refused_sharing_fails_and_shares_nothing(
    tenant: Any, order: Order, receivers: list[Any], wechatpay: FakeWeChatPay
) -> None:
    wechatpay.sharing_answer = (403, {"code": "NO_AUTH", "message": "not enabled"})

    sharing = profit_sharing_request_for(tenant=tenant, purpose="order", reference=order.number)

    assert sharing is not None and sharing.status == "failed"
    assert "NO_AUTH" in sharing.last_error
    s = settlement_compute_for(tenant=tenant, purpose="order", reference=order.number)
    assert (s.supplier_shares, s.net) == (Decimal("0.00"), Decimal("99.40"))


def test_unreachable_stays_processing_then_is_sent_again(
    tenant: Any, order: Order, receivers: list[Any], wechatpay: FakeWeChatPay
) -> None:
    wechatpay.sharing_answer = (500, {"code": "SYSTEM_ERROR", "message": "busy"})
    sharing = profit_sharing_request_for(tenant=tenant, purpose="order", reference=order.number)
    assert sharing is not None and sharing.status == "processing"
    assert "SYSTEM_ERROR" in sharing.last_error

    wechatpay.sharing_answer = None
    wechatpay.sharing_state = "FINISHED"
    synced = profit_sharing_sync(order=sharing)

    assert synced.status == "finished" and synced.attempts == 2
    assert wechatpay.sharing_orders[sharing.out_order_no]["receivers"][0]["amount"] == 1988


def test_a_closed_receiver_fails_the_sharing(
    tenant: Any, order: Order, receivers: list[Any], wechatpay: FakeWeChatPay
) -> None:
    sharing = profit_sharing_request_for(tenant=tenant, purpose="order", reference=order.number)
    assert sharing is not None
    wechatpay.sharing_finish(sharing.out_order_no, result="CLOSED")

    assert profit_sharing_sync(order=sharing).status == "failed"


def test_nothing_to_share_without_receivers_or_wechat_payment(
    tenant: Any, order: Order, wechatpay: FakeWeChatPay, wechat_config: Any
) -> None:
    share = profit_sharing_request_for
    assert share(tenant=tenant, purpose="order", reference=order.number) is None
    other = paid_order(tenant, MemberFactory(tenant=tenant), [{"payable": "10.00"}])
    paid(tenant, other.number, "10.00", gateway="sandbox")
    assert share(tenant=tenant, purpose="order", reference=other.number) is None
    assert wechatpay.calls("/v3/profitsharing/orders") == []


def test_prepay_freezes_funds_for_sharing_once_receivers_exist(
    orders: FakeOrders,
    buyer: Any,
    buyer_api: APIClient,
    receivers: list[Any],
    wechatpay: FakeWeChatPay,
) -> None:
    orders.add("NO7001", "19.90", buyer)

    response = pay(buyer_api, "NO7001", "wechat")

    assert response.status_code == 200, response.content
    body = wechatpay.calls("/v3/pay/transactions/jsapi")[0]["json"]
    assert body["settle_info"] == {"profit_sharing": True}
    assert Payment.objects.get(reference="NO7001").status == "pending"


def test_removing_a_receiver_of_another_tenant_is_not_found(
    receivers: list[Any], wechatpay: FakeWeChatPay
) -> None:
    from payments.profit_sharing.services import profit_sharing_receiver_remove
    from tests.mall.factories import TenantFactory

    with pytest.raises(ApplicationError) as exc:
        profit_sharing_receiver_remove(
            tenant=TenantFactory(slug="shop-remove-z"), receiver_id=receivers[0].pk
        )
    assert (status_for(exc.value), exc.value.code) == (404, "profit_sharing_receiver_not_found")
    receivers[0].refresh_from_db()
    assert receivers[0].is_active
    assert not wechatpay.calls("/v3/profitsharing/receivers/delete")
