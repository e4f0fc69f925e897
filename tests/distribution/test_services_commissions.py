"""Worked examples (docs/distribution.md): tiers, overrides, self-purchase, the cap, refunds."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from distribution.models import (
    Commission,
    CommissionRule,
    DistributionSettings,
    Distributor,
    LedgerEntry,
)
from distribution.services import (
    attribution_snapshot,
    commissions_create_for_order,
    commissions_reverse_for_refund,
    commissions_settle_due,
    ledger_balance,
    withdrawal_request,
)
from tests.catalog.factories import ProductFactory, SkuFactory
from tests.distribution import factories as f

pytestmark = pytest.mark.django_db


def amounts(order: Any) -> dict[tuple[int, int], tuple[int, str]]:
    """{(line index, tier): (beneficiary id, amount)}"""
    line_ids = list(order.lines.order_by("pk").values_list("pk", flat=True))
    return {
        (line_ids.index(c.order_line_id), c.tier): (c.beneficiary_id, str(c.amount))
        for c in Commission.objects.filter(order=order)
    }


def order_for(tenant: Any, member: Any, lines: list[dict[str, Any]]) -> Any:
    return f.paid_order(
        tenant, member, lines, distribution=attribution_snapshot(tenant=tenant, member=member)
    )


def balance(d: Distributor) -> Decimal:
    return Distributor.objects.get(pk=d.pk).balance


def test_attribution_snapshot_names_the_owner_and_two_uplines(tenant: Any, chain: dict) -> None:
    snap = attribution_snapshot(tenant=tenant, member=chain["buyer"])
    assert snap["enabled"] is True
    assert snap["chain"] == [
        {"tier": 1, "distributor_id": chain["d"].pk},
        {"tier": 2, "distributor_id": chain["c"].pk},
        {"tier": 3, "distributor_id": chain["b"].pk},
    ]
    assert snap["rules_version"] == 1


def test_snapshot_is_one_query_for_the_chain(
    tenant: Any, chain: dict, django_assert_max_num_queries: Any
) -> None:
    attribution_snapshot(tenant=tenant, member=chain["buyer"])  # settings row cached
    with django_assert_max_num_queries(4):  # settings, own distributor, binding, the chain
        attribution_snapshot(tenant=tenant, member=chain["buyer"])


def test_snapshot_settings_are_read_fresh_with_plain_types(tenant: Any, chain: dict) -> None:
    buyer = chain["buyer"]
    f.enable(tenant, tiers=3, rules_version=4, self_purchase_commission=False)
    snap = attribution_snapshot(tenant=tenant, member=buyer)
    assert (snap["enabled"], snap["tiers"], snap["rules_version"], snap["self_purchase"]) == (
        True,
        3,
        4,
        False,
    )
    # JSON-stored as booleans and integers on every database (SQLite returns 0/1).
    assert type(snap["enabled"]) is bool and type(snap["self_purchase"]) is bool
    assert type(snap["tiers"]) is int and type(snap["rules_version"]) is int
    # A settings change applies to the very next checkout (no cache).
    f.enable(tenant, enabled=False)
    snap = attribution_snapshot(tenant=tenant, member=buyer)
    assert snap["enabled"] is False and snap["chain"] == []


def test_snapshot_creates_the_default_settings_row(tenant: Any) -> None:
    from tests.members.factories import MemberFactory

    DistributionSettings.objects.filter(tenant=tenant).delete()
    snap = attribution_snapshot(tenant=tenant, member=MemberFactory(tenant=tenant))
    defaults = DistributionSettings.objects.get(tenant=tenant)
    assert snap["enabled"] is False and snap["chain"] == []
    assert (snap["tiers"], snap["rules_version"]) == (defaults.tiers, defaults.rules_version)


def test_tiers_setting_limits_the_chain(tenant: Any, chain: dict) -> None:
    f.enable(tenant, tiers=1)
    snap = attribution_snapshot(tenant=tenant, member=chain["buyer"])
    assert [s["tier"] for s in snap["chain"]] == [1]


def test_three_tier_chain_with_product_override_and_exclusion(tenant: Any, chain: dict) -> None:
    override = ProductFactory(tenant=tenant)
    excluded = ProductFactory(tenant=tenant)
    CommissionRule.objects.create(
        tenant=tenant,
        product=override,
        mode="rate",
        tier1_value=Decimal("0.20"),
        tier2_value=Decimal("0.05"),
        tier3_value=Decimal("0.01"),
    )
    CommissionRule.objects.create(tenant=tenant, product=excluded, mode="excluded")
    order = order_for(
        tenant,
        chain["buyer"],
        [
            {"payable": "110.00", "shipping_fee": "10.00"},  # base 100 (shipping excluded)
            {"payable": "55.55", "product_id": override.pk},
            {"payable": "80.00", "product_id": excluded.pk},
        ],
    )
    assert commissions_create_for_order(order_id=order.pk) == 6
    d, c, b = chain["d"].pk, chain["c"].pk, chain["b"].pk
    assert amounts(order) == {
        (0, 1): (d, "10.00"),
        (0, 2): (c, "5.00"),
        (0, 3): (b, "2.00"),
        (1, 1): (d, "11.11"),
        (1, 2): (c, "2.78"),
        (1, 3): (b, "0.56"),
    }
    first = Commission.objects.get(order=order, tier=1, base_amount=Decimal("100.00"))
    assert first.status == "pending"
    assert first.rule["source"] == "grade" and first.rule["rate"] == "0.1000"


def test_sku_fixed_override_wins_over_product_rule(tenant: Any, chain: dict) -> None:
    sku = SkuFactory(product=ProductFactory(tenant=tenant))
    CommissionRule.objects.create(
        tenant=tenant, product=sku.product, mode="rate", tier1_value=Decimal("0.3")
    )
    CommissionRule.objects.create(
        tenant=tenant,
        sku=sku,
        mode="fixed",
        tier1_value=Decimal("3.00"),
        tier2_value=Decimal("1.00"),
    )
    order = order_for(
        tenant,
        chain["buyer"],
        [{"payable": "100.00", "quantity": 2, "sku": sku, "product_id": sku.product_id}],
    )
    commissions_create_for_order(order_id=order.pk)
    assert amounts(order) == {(0, 1): (chain["d"].pk, "6.00"), (0, 2): (chain["c"].pk, "2.00")}


def test_cap_splits_exactly_by_largest_remainder(tenant: Any, chain: dict) -> None:
    rich = f.grade(tenant, ("0.25", "0.10", "0.05"), name="rich")
    Distributor.objects.filter(pk__in=[chain["b"].pk, chain["c"].pk, chain["d"].pk]).update(
        grade=rich
    )
    order = order_for(tenant, chain["buyer"], [{"payable": "33.33"}])
    commissions_create_for_order(order_id=order.pk)
    # uncapped 8.33 + 3.33 + 1.67 = 13.33 > cap floor(33.33 × 0.30) = 9.99
    assert [v[1] for _, v in sorted(amounts(order).items())] == ["6.24", "2.50", "1.25"]


def test_self_purchase_off_starts_the_chain_at_the_parent(tenant: Any, chain: dict) -> None:
    order = order_for(tenant, chain["d"].member, [{"payable": "100.00"}])
    commissions_create_for_order(order_id=order.pk)
    assert {k[1]: v[0] for k, v in amounts(order).items()} == {
        1: chain["c"].pk,
        2: chain["b"].pk,
        3: chain["a"].pk,
    }


def test_self_purchase_on_pays_the_buyer_tier_one(tenant: Any, chain: dict) -> None:
    f.enable(tenant, self_purchase_commission=True)
    order = order_for(tenant, chain["d"].member, [{"payable": "100.00"}])
    commissions_create_for_order(order_id=order.pk)
    assert amounts(order)[(0, 1)] == (chain["d"].pk, "10.00")


def test_paid_notification_five_times_creates_one_set(tenant: Any, chain: dict) -> None:
    order = order_for(tenant, chain["buyer"], [{"payable": "100.00"}])
    results = [commissions_create_for_order(order_id=order.pk) for _ in range(5)]
    assert results == [3, 0, 0, 0, 0]
    assert Commission.objects.filter(order=order).count() == 3


def test_frozen_beneficiary_earns_nothing_and_disabled_shop_pays_nothing(
    tenant: Any, chain: dict
) -> None:
    Distributor.objects.filter(pk=chain["c"].pk).update(status="frozen")
    order = order_for(tenant, chain["buyer"], [{"payable": "100.00"}])
    commissions_create_for_order(order_id=order.pk)
    assert sorted(k[1] for k in amounts(order)) == [1, 3]
    f.enable(tenant, enabled=False)
    other = order_for(tenant, chain["buyer"], [{"payable": "100.00"}])
    assert commissions_create_for_order(order_id=other.pk) == 0


def test_partial_refund_before_settlement_reverses_proportionally_once(
    tenant: Any, chain: dict
) -> None:
    order = order_for(tenant, chain["buyer"], [{"payable": "100.00"}])
    commissions_create_for_order(order_id=order.pk)
    line = order.lines.get()
    touched = commissions_reverse_for_refund(
        order_id=order.pk, line_refunds={line.pk: Decimal("30.00")}, refund_ref="as:1"
    )
    assert touched == 3
    again = commissions_reverse_for_refund(
        order_id=order.pk, line_refunds={line.pk: Decimal("30.00")}, refund_ref="as:1"
    )
    assert again == 0
    nets = {c.tier: str(c.net_amount) for c in Commission.objects.filter(order=order)}
    assert nets == {1: "7.00", 2: "3.50", 3: "1.40"}
    f.complete(order)
    result = commissions_settle_due()
    assert result.count == 3 and result.amount == Decimal("11.90")
    assert balance(chain["d"]) == Decimal("7.00")
    assert LedgerEntry.objects.filter(kind="credit").count() == 3


def test_refund_after_settlement_and_withdrawal_goes_negative_then_offsets(
    tenant: Any, chain: dict
) -> None:
    f.enable(tenant, withdrawal_min_amount=Decimal("1.00"))
    order = order_for(tenant, chain["buyer"], [{"payable": "100.00"}])
    commissions_create_for_order(order_id=order.pk)
    f.complete(order)
    commissions_settle_due()
    d = chain["d"]
    assert balance(d) == Decimal("10.00")
    withdrawal_request(tenant=tenant, member=d.member, amount=Decimal("10.00"))
    assert balance(d) == Decimal("0.00")
    line = order.lines.get()
    commissions_reverse_for_refund(
        order_id=order.pk, line_refunds={line.pk: Decimal("33.33")}, refund_ref="as:1"
    )
    commissions_reverse_for_refund(
        order_id=order.pk, line_refunds={line.pk: Decimal("66.67")}, refund_ref="as:2"
    )
    # 3.33 then the rest 6.67: the whole 10.00 came back, to the fen, as debits.
    assert balance(d) == Decimal("-10.00")
    assert ledger_balance(distributor=d) == Decimal("-10.00")
    tier1 = Commission.objects.get(order=order, tier=1)
    assert tier1.status == "reversed" and tier1.reversed_amount == Decimal("10.00")
    # A later commission is offset against the debt.
    later = order_for(tenant, chain["buyer"], [{"payable": "120.00"}])
    commissions_create_for_order(order_id=later.pk)
    f.complete(later)
    commissions_settle_due()
    assert balance(d) == Decimal("2.00") == ledger_balance(distributor=d)


def test_settle_twice_settles_once_and_dry_run_changes_nothing(tenant: Any, chain: dict) -> None:
    order = order_for(tenant, chain["buyer"], [{"payable": "100.00"}])
    commissions_create_for_order(order_id=order.pk)
    assert commissions_settle_due().count == 0  # order not completed yet
    f.complete(order)
    dry = commissions_settle_due(dry_run=True)
    assert (dry.count, dry.amount) == (3, Decimal("17.00"))
    assert Commission.objects.filter(status="pending").count() == 3
    assert commissions_settle_due(batch_size=2).count == 3
    assert commissions_settle_due().count == 0
    assert balance(chain["d"]) == Decimal("10.00")
    from mall.events.models import OutboxEvent

    assert OutboxEvent.objects.filter(name="commission.settled").count() == 3


def test_a_fourth_tier_can_never_be_configured(tenant: Any) -> None:
    config = f.enable(tenant)
    config.tiers = 4
    with pytest.raises(ValidationError) as err:
        config.full_clean()
    assert "pyramid" in str(err.value)
    with pytest.raises(IntegrityError), transaction.atomic():
        DistributionSettings.objects.filter(pk=config.pk).update(tiers=4)


def test_cap_above_half_is_refused(tenant: Any) -> None:
    config = f.enable(tenant)
    config.cap_rate = Decimal("0.51")
    with pytest.raises(ValidationError):
        config.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        DistributionSettings.objects.filter(pk=config.pk).update(cap_rate=Decimal("0.51"))


def test_default_cap_is_thirty_percent(tenant: Any) -> None:
    assert DistributionSettings.objects.create(tenant=tenant).cap_rate == Decimal("0.30")
