"""Every status-bearing model has a transition table and one transition service that applies
the legal moves and refuses the others (409 ``invalid_transition``)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings

from catalog.models import PRODUCT_TRANSITIONS, Product
from catalog.services import product_transition
from distribution.models import (
    COMMISSION_TRANSITIONS,
    DISTRIBUTOR_TRANSITIONS,
    WITHDRAWAL_TRANSITIONS,
    Commission,
    Distributor,
    Withdrawal,
)
from distribution.services.commissions import commission_transition
from distribution.services.distributors import distributor_transition
from distribution.services.withdrawals import withdrawal_transition
from mall.api.errors import status_for
from mall.errors import ApplicationError
from mall.followups.models import FOLLOW_UP_TRANSITIONS, FollowUp
from mall.tenancy.models import TENANT_TRANSITIONS, Tenant
from mall.tenancy.services import tenant_transition
from mall.transitions import (
    transition_sources,
    transition_update,
    transitions_for,
    transitions_name,
)
from members.models import CARD_PURCHASE_TRANSITIONS, CardPurchase
from members.services.cards import card_purchase_transition
from orders.models import AfterSale, Order
from orders.models.after_sale import AFTER_SALE_TRANSITIONS
from orders.models.order import ORDER_TRANSITIONS
from payments.models import (
    PAYMENT_TRANSITIONS,
    PAYOUT_TRANSITIONS,
    PROFIT_SHARING_TRANSITIONS,
    REFUND_TRANSITIONS,
    SHIPPING_UPLOAD_TRANSITIONS,
    Gateway,
    Payment,
    Payout,
    ProfitSharingOrder,
    Refund,
    ShippingUpload,
)
from payments.payouts.services import payout_transition
from payments.profit_sharing.services import _apply as profit_sharing_apply
from payments.refunds.services import refund_transition
from payments.shipping.services import shipping_upload_transition
from promotions.models import CAMPAIGN_TRANSITIONS, COUPON_TRANSITIONS, Campaign, Coupon
from promotions.services.campaigns import campaign_transition
from promotions.services.coupons import coupon_transition

Service = Callable[[Any, str], bool]

SERVICES: list[tuple[type, dict[str, frozenset[str]], Service]] = [
    (Refund, REFUND_TRANSITIONS, refund_transition),
    (Payout, PAYOUT_TRANSITIONS, payout_transition),
    (ShippingUpload, SHIPPING_UPLOAD_TRANSITIONS, shipping_upload_transition),
    (CardPurchase, CARD_PURCHASE_TRANSITIONS, card_purchase_transition),
    (Commission, COMMISSION_TRANSITIONS, commission_transition),
    (Distributor, DISTRIBUTOR_TRANSITIONS, distributor_transition),
    (Withdrawal, WITHDRAWAL_TRANSITIONS, withdrawal_transition),
    (Coupon, COUPON_TRANSITIONS, coupon_transition),
    (Campaign, CAMPAIGN_TRANSITIONS, campaign_transition),
    (Product, PRODUCT_TRANSITIONS, product_transition),
    (Tenant, TENANT_TRANSITIONS, tenant_transition),
]
TABLES = [(model, table) for model, table, _service in SERVICES] + [
    (Payment, PAYMENT_TRANSITIONS),
    (ProfitSharingOrder, PROFIT_SHARING_TRANSITIONS),
    (Order, ORDER_TRANSITIONS),
    (AfterSale, AFTER_SALE_TRANSITIONS),
    (FollowUp, FOLLOW_UP_TRANSITIONS),
]


def _moves(legal: bool) -> list[Any]:
    cases = []
    for model, table, service in SERVICES:
        for current in model.Status.values:
            for to in model.Status.values:
                if to != current and (to in table[current]) == legal:
                    cases.append(
                        pytest.param(
                            model, service, current, to, id=f"{model.__name__}:{current}->{to}"
                        )
                    )
    return cases


@pytest.mark.parametrize(("model", "table"), TABLES, ids=lambda v: getattr(v, "__name__", ""))
def test_a_table_has_a_row_for_every_status_and_only_statuses_as_targets(
    model: type, table: dict[str, frozenset[str]]
) -> None:
    statuses = set(model.Status.values)
    assert set(table) == statuses
    assert set().union(*table.values()) <= statuses


@pytest.mark.parametrize(("model", "service", "current", "to"), _moves(legal=True))
def test_every_legal_move_is_applied(model: type, service: Service, current: str, to: str) -> None:
    obj = model(status=current)

    assert service(obj, to) is True
    assert obj.status == to


@pytest.mark.parametrize(("model", "service", "current", "to"), _moves(legal=False))
def test_an_illegal_move_is_refused_and_changes_nothing(
    model: type, service: Service, current: str, to: str
) -> None:
    obj = model(status=current)

    with pytest.raises(ApplicationError) as refused:
        service(obj, to)

    assert (refused.value.code, status_for(refused.value)) == ("invalid_transition", 409)
    assert refused.value.details == {"from": current, "to": to}
    assert obj.status == current


@pytest.mark.parametrize(("model", "service"), [(m, s) for m, _t, s in SERVICES])
def test_moving_to_the_status_a_row_has_is_a_no_op(model: type, service: Service) -> None:
    for status in model.Status.values:
        obj = model(status=status)
        assert service(obj, status) is False
        assert obj.status == status


def test_the_refund_claim_takes_its_sources_from_the_table() -> None:
    assert transition_sources(REFUND_TRANSITIONS, Refund.Status.PROCESSING) == [
        Refund.Status.CREATED,
        Refund.Status.FAILED,
    ]


@pytest.fixture
def sharing(tenant: Any) -> ProfitSharingOrder:
    payment = Payment.objects.create(
        tenant=tenant,
        purpose="order",
        reference="T1",
        gateway=Gateway.WECHAT,
        out_trade_no="TRANSITIONS1",
        amount=Decimal("10.00"),
        status=Payment.Status.SUCCEEDED,
    )
    return ProfitSharingOrder.objects.create(
        tenant=tenant,
        payment=payment,
        purpose="order",
        reference="T1",
        out_order_no="S-T1",
        transaction_id="4200T1",
        base_amount=Decimal("10.00"),
        amount=Decimal("1.00"),
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "to", sorted(PROFIT_SHARING_TRANSITIONS[ProfitSharingOrder.Status.PROCESSING])
)
def test_a_processing_profit_sharing_order_finishes_or_fails(
    sharing: ProfitSharingOrder, to: str
) -> None:
    profit_sharing_apply(sharing, to, "30001", {}, "")

    assert sharing.status == to
    assert sharing.finished_at is not None


@pytest.mark.django_db
def test_a_finished_profit_sharing_order_does_not_fail_afterwards(
    sharing: ProfitSharingOrder,
) -> None:
    profit_sharing_apply(sharing, ProfitSharingOrder.Status.FINISHED, "30001", {}, "")

    profit_sharing_apply(sharing, ProfitSharingOrder.Status.FAILED, "", {}, "late failure")

    assert sharing.status == ProfitSharingOrder.Status.FINISHED
    assert sharing.last_error == ""


@pytest.mark.django_db
def test_a_set_based_move_leaves_rows_the_table_does_not_allow(
    sharing: ProfitSharingOrder,
) -> None:
    rows = ProfitSharingOrder.objects.for_tenant(sharing.tenant_id).filter(pk=sharing.pk)
    assert transition_update(rows, PROFIT_SHARING_TRANSITIONS, "finished") == 1

    assert transition_update(rows, PROFIT_SHARING_TRANSITIONS, "failed") == 0
    sharing.refresh_from_db()
    assert sharing.status == "finished"


def _project_models_with_a_status() -> list[type]:
    """Every model of the project's own apps (not third-party ones) with a ``status`` field."""
    base = str(settings.BASE_DIR)
    found = []
    for model in apps.get_models():
        config = apps.get_app_config(model._meta.app_label)
        if not config.path.startswith(base) or "site-packages" in config.path:
            continue
        if any(f.name == "status" for f in model._meta.get_fields()):
            found.append(model)
    return found


def test_every_model_with_a_status_has_a_transition_table_named_after_it() -> None:
    models = _project_models_with_a_status()
    assert {Order, AfterSale, Coupon, Product, Tenant, FollowUp, CardPurchase} <= set(models)

    missing = [
        f"{m._meta.label} (no {transitions_name(m)} in {m.__module__})"
        for m in models
        if transitions_for(m) is None
    ]

    assert missing == []


@pytest.mark.parametrize("model", _project_models_with_a_status(), ids=lambda m: m._meta.label)
def test_every_found_table_covers_the_models_statuses(model: type) -> None:
    table = transitions_for(model)
    assert table is not None
    statuses = set(model.Status.values)
    assert set(table) == statuses
    assert set().union(*table.values()) <= statuses


def test_the_table_name_is_the_model_name_in_upper_snake_case() -> None:
    assert transitions_name(FollowUp) == "FOLLOW_UP_TRANSITIONS"
    assert transitions_name(ProfitSharingOrder) == "PROFIT_SHARING_ORDER_TRANSITIONS"
    assert transitions_for(Refund) is REFUND_TRANSITIONS


def test_the_order_and_campaign_refusals_keep_their_own_wording() -> None:
    from orders.services.common import invalid_transition
    from orders.services.transitions import order_transition

    with pytest.raises(ApplicationError) as order_refused:
        order_transition(order=Order(status=Order.Status.CANCELLED), to="paid", actor="test")
    with pytest.raises(ApplicationError) as campaign_refused:
        campaign_transition(Campaign(status=Campaign.Status.ENDED), Campaign.Status.ACTIVE)

    assert order_refused.value.code == "invalid_transition"
    assert str(order_refused.value.message) == str(
        invalid_transition("order", "cancelled", "paid").message
    )
    assert order_refused.value.details == {"from": "cancelled", "to": "paid"}
    assert str(campaign_refused.value.message) == "A ended campaign cannot become active."
    assert campaign_refused.value.details == {"from": "ended", "to": "active"}


def test_the_coupon_moves_take_their_guards_from_the_table() -> None:
    assert transition_sources(COUPON_TRANSITIONS, Coupon.Status.USED) == [Coupon.Status.LOCKED]
    assert transition_sources(COUPON_TRANSITIONS, Coupon.Status.LOCKED) == [Coupon.Status.UNUSED]
    assert transition_sources(COUPON_TRANSITIONS, Coupon.Status.EXPIRED) == [Coupon.Status.UNUSED]


def test_a_suspended_tenant_can_be_activated_and_back() -> None:
    tenant = Tenant(status=Tenant.Status.ACTIVE)
    assert tenant_transition(tenant, Tenant.Status.SUSPENDED) is True
    assert tenant_transition(tenant, Tenant.Status.ACTIVE) is True
    assert tenant.status == Tenant.Status.ACTIVE
