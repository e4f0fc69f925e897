"""Member cards end to end: plans, purchase through the sandbox gateway, extension, repeated
notifications, refunds, expiry, another tenant's plans, and the phone merge."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from mall.api.errors import status_for
from members.cards.selectors import member_card_current
from members.models import CardPurchase, Member, MemberCard, MemberCardPlan
from members.services import member_bind_phone
from members.services.cards import merge_member_cards
from payments import purposes
from payments.cards import CardPayableHandler
from payments.gateways.config import sandbox_config_ensure
from payments.gateways.sandbox import sandbox_notification
from payments.models import Payment
from payments.refunds.services import refund_request
from tests.conftest import shopper_client
from tests.members.factories import MemberFactory, MemberIdentityFactory, access_token_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def buyer(tenant: Any, channel: Any) -> Member:
    member = MemberFactory(tenant=tenant, nickname="buyer")
    MemberIdentityFactory(member=member, app_id=channel.app_id, openid="o-card-buyer")
    return member


@pytest.fixture
def buyer_api(channel: Any, buyer: Member) -> APIClient:
    return shopper_client(channel.app_id, access_token_for(buyer))


@pytest.fixture
def plan(tenant: Any) -> MemberCardPlan:
    return MemberCardPlan.objects.create(
        tenant=tenant,
        name="Gold 30",
        price=Decimal("19.90"),
        duration_days=30,
        benefits={"discount": "0.95"},
    )


def purchase(client: APIClient, plan_id: int, gateway: str = "sandbox", **extra: Any) -> Any:
    return client.post(
        f"/api/v1/member-cards/{plan_id}/purchase", {"gateway": gateway}, format="json", **extra
    )


def complete(client: APIClient, out_trade_no: str) -> Any:
    return client.post(f"/api/v1/payments/sandbox/{out_trade_no}/complete")


def buy(client: APIClient, plan_id: int) -> dict[str, Any]:
    answer = purchase(client, plan_id)
    assert answer.status_code == 200, answer.content
    done = complete(client, answer.json()["out_trade_no"])
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "succeeded" and done.json()["purpose_accepted"] is True
    return answer.json()


def test_the_card_purpose_is_registered() -> None:
    assert isinstance(purposes.purpose_handler("card"), CardPayableHandler)


def test_plans_list_shows_active_plans_of_the_tenant_only(
    api: APIClient, tenant: Any, other_tenant: Any, plan: MemberCardPlan
) -> None:
    MemberCardPlan.objects.create(
        tenant=tenant, name="Retired", price=Decimal("9.00"), duration_days=7, is_active=False
    )
    MemberCardPlan.objects.create(
        tenant=other_tenant, name="Theirs", price=Decimal("9.00"), duration_days=7
    )
    first = MemberCardPlan.objects.create(
        tenant=tenant, name="Silver 7", price=Decimal("5.00"), duration_days=7, sort=-1
    )
    body = api.get("/api/v1/member-cards").json()
    assert body["count"] == 2
    assert [p["name"] for p in body["results"]] == [first.name, plan.name]
    assert body["results"][1] == {
        "id": plan.pk,
        "name": "Gold 30",
        "price": "19.90",
        "duration_days": 30,
        "price_rate": None,
        "free_shipping": False,
        "points_multiplier": "1.00",
        "benefits": {"discount": "0.95"},
        "sort": 0,
    }


def test_sandbox_purchase_activates_the_card_for_the_plan_duration(
    buyer_api: APIClient, buyer: Member, plan: MemberCardPlan
) -> None:
    before = timezone.now()
    answer = purchase(buyer_api, plan.pk)
    assert answer.status_code == 200, answer.content
    body = answer.json()
    purchase_row = CardPurchase.objects.get(member=buyer)
    assert body["reference"] == f"card:{purchase_row.pk}" == purchase_row.reference
    assert body["gateway"] == "sandbox" and body["amount"] == "19.90"
    assert body["purchase_status"] == "pending_payment"
    assert "paySign" in body["params"]
    payment = Payment.objects.get(out_trade_no=body["out_trade_no"])
    assert (payment.purpose, payment.reference) == ("card", purchase_row.reference)
    assert not MemberCard.objects.filter(member=buyer).exists()  # not before it is paid

    assert complete(buyer_api, body["out_trade_no"]).json()["status"] == "succeeded"

    card = MemberCard.objects.get(member=buyer)
    after = timezone.now()
    assert before + timedelta(days=30) <= card.ends_at <= after + timedelta(days=30)
    assert card.plan == plan
    purchase_row.refresh_from_db()
    assert purchase_row.status == "paid"
    assert (purchase_row.period_start, purchase_row.period_end) == (card.starts_at, card.ends_at)
    me = buyer_api.get("/api/v1/me").json()
    assert me["card"]["plan_id"] == plan.pk and me["card"]["plan_name"] == plan.name


def test_second_purchase_extends_from_the_current_end(
    buyer_api: APIClient, buyer: Member, plan: MemberCardPlan, tenant: Any
) -> None:
    buy(buyer_api, plan.pk)
    first_end = MemberCard.objects.get(member=buyer).ends_at
    week = MemberCardPlan.objects.create(
        tenant=tenant, name="Week", price=Decimal("3.00"), duration_days=7
    )
    buy(buyer_api, week.pk)
    card = MemberCard.objects.get(member=buyer)
    assert card.ends_at == first_end + timedelta(days=7)
    assert card.plan == week
    assert CardPurchase.objects.filter(member=buyer, status="paid").count() == 2


def test_a_lapsed_card_restarts_now(
    buyer_api: APIClient, buyer: Member, plan: MemberCardPlan, tenant: Any
) -> None:
    long_ago = timezone.now() - timedelta(days=100)
    MemberCard.objects.create(
        tenant=tenant, member=buyer, starts_at=long_ago, ends_at=long_ago + timedelta(days=30)
    )
    before = timezone.now()
    buy(buyer_api, plan.pk)
    card = MemberCard.objects.get(member=buyer)
    assert card.starts_at >= before and card.ends_at >= before + timedelta(days=30)


def test_repeated_paid_notifications_extend_once(
    buyer_api: APIClient, buyer: Member, plan: MemberCardPlan, tenant: Any
) -> None:
    body = purchase(buyer_api, plan.pk).json()
    payment = Payment.objects.get(out_trade_no=body["out_trade_no"])
    headers, raw = sandbox_notification(sandbox_config_ensure(tenant=tenant), payment)
    notify = APIClient()
    for _ in range(3):
        answer = notify.post(
            f"/api/v1/payments/notify/sandbox/{tenant.slug}",
            data=raw,
            content_type="application/json",
            **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()},
        )
        assert answer.status_code == 204, answer.content
    assert complete(buyer_api, body["out_trade_no"]).json()["status"] == "succeeded"

    card = MemberCard.objects.get(member=buyer)
    assert card.ends_at - card.starts_at == timedelta(days=30)
    # The handler itself is idempotent too: the same payment again changes nothing.
    handler = purposes.purpose_handler("card")
    assert handler.on_paid(
        tenant=tenant, reference=body["reference"], payment=payment, amount=payment.amount
    )
    assert MemberCard.objects.get(member=buyer).ends_at == card.ends_at


def test_a_second_payment_of_a_paid_purchase_is_refused_and_refunded(
    buyer_api: APIClient, buyer: Member, plan: MemberCardPlan, tenant: Any
) -> None:
    body = buy(buyer_api, plan.pk)
    ends_at = MemberCard.objects.get(member=buyer).ends_at
    other = Payment.objects.create(
        tenant=tenant,
        purpose="card",
        reference=body["reference"],
        member=buyer,
        gateway="sandbox",
        out_trade_no="Pcardsecond",
        amount=plan.price,
        status="succeeded",
    )
    handler = purposes.purpose_handler("card")
    assert not handler.on_paid(
        tenant=tenant, reference=body["reference"], payment=other, amount=other.amount
    )
    assert MemberCard.objects.get(member=buyer).ends_at == ends_at
    assert purchase(buyer_api, plan.pk).json()["reference"] != body["reference"]  # a new one


def test_repeated_purchase_call_reuses_the_pending_purchase_and_trade(
    buyer_api: APIClient, buyer: Member, plan: MemberCardPlan
) -> None:
    first = purchase(buyer_api, plan.pk).json()
    second = purchase(buyer_api, plan.pk).json()
    assert first["reference"] == second["reference"]
    assert first["out_trade_no"] == second["out_trade_no"]
    assert CardPurchase.objects.filter(member=buyer).count() == 1


def test_idempotency_key_replays_the_answer(
    buyer_api: APIClient, buyer: Member, plan: MemberCardPlan
) -> None:
    first = purchase(buyer_api, plan.pk, HTTP_IDEMPOTENCY_KEY="card-key-1")
    again = purchase(buyer_api, plan.pk, HTTP_IDEMPOTENCY_KEY="card-key-1")
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()


def test_payment_after_expiry_is_refused_and_refunded(
    buyer_api: APIClient,
    buyer: Member,
    plan: MemberCardPlan,
    django_capture_on_commit_callbacks: Any,
) -> None:
    body = purchase(buyer_api, plan.pk).json()
    CardPurchase.objects.filter(reference=body["reference"]).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        done = complete(buyer_api, body["out_trade_no"]).json()
    assert done["status"] == "succeeded" and done["purpose_accepted"] is False
    assert CardPurchase.objects.get(reference=body["reference"]).status == "cancelled"
    assert not MemberCard.objects.filter(member=buyer).exists()
    payment = Payment.objects.get(out_trade_no=body["out_trade_no"])
    assert payment.refunds.get().amount == plan.price
    # Gone for the payments fallback query and for the buyer.
    assert (
        purposes.purpose_handler("card").payable_get(
            tenant=buyer.tenant, reference=body["reference"]
        )
        is None
    )


def test_refund_marks_the_purchase_refunded_and_shortens_the_card(
    buyer_api: APIClient,
    buyer: Member,
    plan: MemberCardPlan,
    tenant: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    first = buy(buyer_api, plan.pk)
    second = buy(buyer_api, plan.pk)
    card = MemberCard.objects.get(member=buyer)
    full_end = card.ends_at
    with django_capture_on_commit_callbacks(execute=True):
        refund = refund_request(
            tenant=tenant,
            purpose="card",
            reference=second["reference"],
            amount=plan.price,
            reason="changed mind",
            request_ref=f"card_refund:{second['reference']}",
        )
    refund.refresh_from_db()
    assert refund.status == "succeeded"
    assert CardPurchase.objects.get(reference=second["reference"]).status == "refunded"
    assert CardPurchase.objects.get(reference=first["reference"]).status == "paid"
    assert MemberCard.objects.get(member=buyer).ends_at == full_end - timedelta(days=30)

    with django_capture_on_commit_callbacks(execute=True):
        refund_request(
            tenant=tenant,
            purpose="card",
            reference=first["reference"],
            amount=plan.price,
            reason="all of it",
            request_ref=f"card_refund:{first['reference']}",
        )
    card = MemberCard.objects.get(member=buyer)
    assert card.ends_at <= timezone.now()  # ended
    assert member_card_current(member=buyer) is None


def test_another_tenants_plan_is_404(
    buyer_api: APIClient, buyer: Member, other_tenant: Any
) -> None:
    theirs = MemberCardPlan.objects.create(
        tenant=other_tenant, name="Theirs", price=Decimal("9.00"), duration_days=7
    )
    answer = purchase(buyer_api, theirs.pk)
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "card_plan_not_found"
    assert not CardPurchase.objects.exists() and not Payment.objects.exists()


def test_inactive_or_unknown_plan_is_404(buyer_api: APIClient, plan: MemberCardPlan) -> None:
    MemberCardPlan.objects.filter(pk=plan.pk).update(is_active=False)
    assert purchase(buyer_api, plan.pk).status_code == 404
    assert purchase(buyer_api, 999999).status_code == 404
    assert purchase(buyer_api, 2**64).status_code == 404  # beyond bigint: still a 404


def test_purchase_needs_a_member_and_a_valid_gateway(
    api: APIClient, buyer_api: APIClient, plan: MemberCardPlan
) -> None:
    assert purchase(api, plan.pk).status_code == 401
    bad = purchase(buyer_api, plan.pk, gateway="paypal")
    assert bad.status_code == 400
    assert not CardPurchase.objects.exists()


def test_only_the_buyer_can_pay_a_purchase(
    buyer_api: APIClient, plan: MemberCardPlan, tenant: Any, channel: Any
) -> None:
    body = purchase(buyer_api, plan.pk).json()
    stranger = MemberFactory(tenant=tenant)
    handler = purposes.purpose_handler("card")
    with pytest.raises(Exception) as caught:
        handler.payable_for_member(tenant=tenant, member=stranger, reference=body["reference"])
    assert status_for(caught.value) == 404
    # A stranger cannot complete the buyer's sandbox trade either.
    stranger_api = shopper_client(channel.app_id, access_token_for(stranger))
    assert complete(stranger_api, body["out_trade_no"]).status_code == 404


def test_a_paid_purchase_is_not_payable_again(
    buyer_api: APIClient, buyer: Member, plan: MemberCardPlan, tenant: Any
) -> None:
    body = buy(buyer_api, plan.pk)
    handler = purposes.purpose_handler("card")
    with pytest.raises(Exception) as caught:
        handler.payable_for_member(tenant=tenant, member=buyer, reference=body["reference"])
    assert status_for(caught.value) == 409
    assert handler.payable_get(tenant=tenant, reference=body["reference"]) is None


def test_merge_adds_the_remaining_periods_up(tenant: Any) -> None:
    now = timezone.now()
    survivor, loser = MemberFactory(tenant=tenant), MemberFactory(tenant=tenant)
    MemberCard.objects.create(
        tenant=tenant, member=survivor, starts_at=now, ends_at=now + timedelta(days=3)
    )
    MemberCard.objects.create(
        tenant=tenant,
        member=loser,
        starts_at=now - timedelta(days=5),
        ends_at=now + timedelta(days=40),
    )
    with time_machine.travel(now, tick=False):
        assert merge_member_cards(survivor=survivor, loser=loser) == 1
    card = MemberCard.objects.get(member=survivor)
    assert card.ends_at == now + timedelta(days=43)  # 3 days left + the other's 40
    assert card.starts_at == now
    assert not MemberCard.objects.filter(member=loser).exists()


def test_merge_onto_an_ended_card_carries_the_running_one_on(tenant: Any) -> None:
    now = timezone.now()
    survivor, loser = MemberFactory(tenant=tenant), MemberFactory(tenant=tenant)
    MemberCard.objects.create(
        tenant=tenant,
        member=survivor,
        starts_at=now - timedelta(days=60),
        ends_at=now - timedelta(days=30),
    )
    MemberCard.objects.create(
        tenant=tenant,
        member=loser,
        starts_at=now - timedelta(days=5),
        ends_at=now + timedelta(days=25),
    )
    with time_machine.travel(now, tick=False):
        merge_member_cards(survivor=survivor, loser=loser)
    card = MemberCard.objects.get(member=survivor)
    assert (card.starts_at, card.ends_at) == (now - timedelta(days=5), now + timedelta(days=25))


def test_phone_merge_moves_the_card_and_its_purchases(
    buyer_api: APIClient, buyer: Member, plan: MemberCardPlan, tenant: Any
) -> None:
    buy(buyer_api, plan.pk)
    ends_at = MemberCard.objects.get(member=buyer).ends_at
    existing = MemberFactory(tenant=tenant, phone="13800000077")
    MemberCard.objects.create(
        tenant=tenant, member=existing, starts_at=timezone.now(), ends_at=timezone.now()
    )
    result = member_bind_phone(member=buyer, phone="13800000077")
    assert result.merged and result.member.pk == existing.pk
    assert MemberCard.objects.get(member=existing).ends_at == ends_at
    assert not MemberCard.objects.filter(member=buyer).exists()
    assert CardPurchase.objects.get().member_id == existing.pk
