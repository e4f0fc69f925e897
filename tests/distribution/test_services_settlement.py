"""Set-based settlement: what is due, per tenant, fully reversed rows, events, the command."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from distribution.models import Binding, Commission, Distributor, LedgerEntry
from distribution.services import (
    attribution_snapshot,
    commissions_create_for_order,
    commissions_reverse_for_refund,
    commissions_settle_due,
    ledger_balance,
)
from mall.events.models import OutboxEvent
from tests.distribution import factories as f
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


def order_for(tenant: Any, buyer: Any, *payables: str, complete: bool = True) -> Any:
    order = f.paid_order(
        tenant,
        buyer,
        [{"payable": p} for p in payables],
        distribution=attribution_snapshot(tenant=tenant, member=buyer),
    )
    commissions_create_for_order(order_id=order.pk)
    if complete:
        f.complete(order)
    return order


def test_only_completed_orders_of_the_given_tenant_settle(
    tenant: Any, other_tenant: Any, chain: dict
) -> None:
    done = order_for(tenant, chain["buyer"], "100.00")
    open_order = order_for(tenant, chain["buyer"], "50.00", complete=False)
    f.enable(other_tenant, tiers=1)
    grade = f.grade(other_tenant, ("0.10", "0", "0"), is_default=True)
    other_d = f.distributor(other_tenant, grade_obj=grade)
    other_buyer = MemberFactory(tenant=other_tenant)
    Binding.objects.create(
        tenant=other_tenant, customer=other_buyer, distributor=other_d, source="share_link"
    )
    order_for(other_tenant, other_buyer, "100.00")

    result = commissions_settle_due(tenant_id=tenant.pk)

    assert (result.count, result.amount, result.distributors) == (3, Decimal("17.00"), 3)
    assert set(Commission.objects.filter(status="settled").values_list("order", flat=True)) == {
        done.pk
    }
    assert Commission.objects.filter(order=open_order, status="pending").count() == 3
    assert Commission.objects.get(tenant=other_tenant).status == "pending"
    assert commissions_settle_due().count == 1  # the other tenant's, now
    assert Distributor.objects.get(pk=other_d.pk).balance == Decimal("10.00")


def test_fully_reversed_commissions_are_not_settled_nor_credited(tenant: Any, chain: dict) -> None:
    order = order_for(tenant, chain["buyer"], "100.00", "40.00")
    first_line = order.lines.order_by("id").first()
    commissions_reverse_for_refund(
        order_id=order.pk, line_refunds={first_line.pk: Decimal("100.00")}, refund_ref="rf-1"
    )

    result = commissions_settle_due()

    assert result.count == 3 and result.amount == Decimal("6.80")  # 4.00 + 2.00 + 0.80
    assert Commission.objects.filter(status="pending").count() == 0
    assert Commission.objects.filter(order_line=first_line, status="reversed").count() == 3
    credits = LedgerEntry.objects.filter(kind="credit")
    assert credits.count() == 3
    assert sorted(credits.values_list("amount", flat=True)) == [
        Decimal("0.80"),
        Decimal("2.00"),
        Decimal("4.00"),
    ]
    for key in ("b", "c", "d"):
        d = Distributor.objects.get(pk=chain[key].pk)
        assert d.balance == ledger_balance(distributor=d)


def test_one_event_per_distributor_and_batch_with_its_total(tenant: Any, chain: dict) -> None:
    for _ in range(3):
        order_for(tenant, chain["buyer"], "100.00")

    result = commissions_settle_due(batch_size=4)

    assert result.count == 9
    events = OutboxEvent.objects.filter(name="commission.settled")
    per_distributor: dict[int, Decimal] = {}
    for event in events:
        assert event.subject == f"distributor:{event.payload['distributor_id']}"
        per_distributor[event.payload["distributor_id"]] = per_distributor.get(
            event.payload["distributor_id"], Decimal(0)
        ) + Decimal(event.payload["amount"])
    assert per_distributor == {
        chain["d"].pk: Decimal("30.00"),
        chain["c"].pk: Decimal("15.00"),
        chain["b"].pk: Decimal("6.00"),
    }
    assert len({e.payload["batch"] for e in events}) == 3  # 9 rows in batches of 4


def test_settle_commissions_command(tenant: Any, chain: dict) -> None:
    order_for(tenant, chain["buyer"], "100.00")
    out = io.StringIO()
    call_command("settle_commissions", "--dry-run", f"--tenant={tenant.slug}", stdout=out)
    assert "Would settle 3 commissions, 17.00 CNY" in out.getvalue()
    assert Commission.objects.filter(status="pending").count() == 3

    out = io.StringIO()
    call_command("settle_commissions", stdout=out)
    assert "Settled 3 commissions, 17.00 CNY, 3 distributor credits." in out.getvalue()

    with pytest.raises(CommandError):
        call_command("settle_commissions", "--tenant=nope")
