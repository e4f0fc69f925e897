"""Every status-bearing model has a transition table and one transition service that applies
the legal moves and refuses the others (409 ``invalid_transition``)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from distribution.models import COMMISSION_TRANSITIONS, Commission
from distribution.services.commissions import commission_transition
from mall.api.errors import status_for
from mall.errors import ApplicationError
from mall.transitions import transition_sources, transition_update
from members.models import CARD_PURCHASE_TRANSITIONS, CardPurchase
from members.services.cards import card_purchase_transition
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

Service = Callable[[Any, str], bool]

SERVICES: list[tuple[type, dict[str, frozenset[str]], Service]] = [
    (Refund, REFUND_TRANSITIONS, refund_transition),
    (Payout, PAYOUT_TRANSITIONS, payout_transition),
    (ShippingUpload, SHIPPING_UPLOAD_TRANSITIONS, shipping_upload_transition),
    (CardPurchase, CARD_PURCHASE_TRANSITIONS, card_purchase_transition),
    (Commission, COMMISSION_TRANSITIONS, commission_transition),
]
TABLES = [(model, table) for model, table, _service in SERVICES] + [
    (Payment, PAYMENT_TRANSITIONS),
    (ProfitSharingOrder, PROFIT_SHARING_TRANSITIONS),
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
