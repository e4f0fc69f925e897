"""Attribution at checkout, commissions when paid, proportional reversal on refunds."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum

from distribution import lock_objects, sql
from distribution.models import (
    COMMISSION_TRANSITIONS,
    Binding,
    Commission,
    CommissionReversal,
    CommissionRule,
    Distributor,
    LedgerEntry,
)
from distribution.services.common import settings_get
from distribution.services.ledger import ledger_add
from mall.followups.services import follow_up
from mall.money import ZERO, allocate, quantize, quantize_down
from mall.tenancy.models import Tenant
from mall.transitions import transition_apply
from members.models import Member
from orders.lock_objects import order_qs_for_update
from orders.models import AfterSale, AfterSaleLine, Order, OrderLine

SNAPSHOT_VERSION = 1
D = Distributor.Status


@dataclass(frozen=True)
class _AttributionSettings:
    enabled: bool
    rules_version: int
    tiers: int
    self_purchase_commission: bool


def _attribution_settings(tenant_id: int) -> _AttributionSettings:
    """The settings the snapshot needs, read fresh on every checkout (a settings change applies
    to the next order). Hot path: a raw read (``distribution.sql``) skips the ORM's query
    compilation and model instantiation; the row is created with the defaults on first use by
    ``settings_get``."""
    row = sql.attribution_settings_row(tenant_id=tenant_id)
    if row is None:
        found = settings_get(tenant=tenant_id)
        row = (found.enabled, found.rules_version, found.tiers, found.self_purchase_commission)
    return _AttributionSettings(
        enabled=bool(row[0]),
        rules_version=int(row[1]),
        tiers=int(row[2]),
        self_purchase_commission=bool(row[3]),
    )


def _start_of_chain(
    tenant: Tenant, member: Member, config: _AttributionSettings
) -> tuple[int | None, int | None, int | None]:
    """(first distributor of the chain, binding id, buyer's own distributor id)."""
    own = (
        Distributor.objects.for_tenant(tenant)
        .filter(member=member, status=D.APPROVED)
        .values_list("pk", "parent_id")
        .first()
    )
    binding = (
        Binding.objects.for_tenant(tenant)
        .filter(customer=member, is_current=True)
        .values_list("pk", "distributor_id")
        .first()
    )
    binding_id = binding[0] if binding else None
    if own is not None:
        own_id, parent_id = own
        return (own_id if config.self_purchase_commission else parent_id), binding_id, own_id
    return (binding[1] if binding else None), binding_id, None


def attribution_snapshot(*, tenant: Tenant, member: Member) -> dict[str, Any]:
    """Who earns on this buyer's order now: stored by checkout in ``Order.distribution``.

    ``chain`` lists up to ``tiers`` distributors, tier 1 first: the buyer itself when it is a
    distributor and self-purchase earns, else its owner (binding) or its upline parent."""
    config = _attribution_settings(tenant.pk)
    snapshot: dict[str, Any] = {
        "version": SNAPSHOT_VERSION,
        "enabled": config.enabled,
        "rules_version": config.rules_version,
        "tiers": config.tiers,
        "self_purchase": config.self_purchase_commission,
        "binding_id": None,
        "buyer_distributor_id": None,
        "chain": [],
    }
    if not config.enabled:
        return snapshot
    start_id, binding_id, own_id = _start_of_chain(tenant, member, config)
    snapshot["binding_id"] = binding_id
    snapshot["buyer_distributor_id"] = own_id
    if start_id is None:
        return snapshot
    # One indexed query: the first distributor joined to its two uplines.
    first = (
        Distributor.objects.for_tenant(tenant)
        .select_related("parent", "ancestor2")
        .filter(pk=start_id)
        .first()
    )
    if first is None:
        return snapshot
    chain = [first, first.parent, first.ancestor2][: config.tiers]
    snapshot["chain"] = [
        {"tier": tier, "distributor_id": d.pk}
        for tier, d in enumerate(chain, start=1)
        if d is not None
    ]
    return snapshot


@dataclass(frozen=True)
class LineCommission:
    tier: int
    distributor_id: int
    rate: Decimal | None
    amount: Decimal


def line_commissions(
    *,
    base: Decimal,
    quantity: int,
    beneficiaries: list[tuple[int, Distributor]],
    rule: CommissionRule | None,
    cap_rate: Decimal,
) -> list[LineCommission]:
    """Amounts of one line for its (tier, distributor) beneficiaries, capped, exact to the fen.

    Rates: the override rule (SKU, else product) or each beneficiary's grade. Fixed amounts are
    per unit. When the total exceeds ``cap_rate × base`` (rounded down), the cap is split in
    proportion to the uncapped amounts by largest remainder, so it adds up exactly."""
    if base <= 0 or (rule is not None and rule.mode == CommissionRule.Mode.EXCLUDED):
        return []
    raw: list[LineCommission] = []
    for tier, distributor in beneficiaries:
        if rule is not None and rule.mode == CommissionRule.Mode.FIXED:
            rate = None
            amount = quantize(rule.value_for(tier) * quantity)
        else:
            if rule is not None:
                rate = rule.value_for(tier)
            elif distributor.grade is not None:
                rate = distributor.grade.rate_for(tier)
            else:
                rate = ZERO
            amount = quantize(base * rate)
        raw.append(LineCommission(tier, distributor.pk, rate, amount))
    cap = quantize_down(base * cap_rate)
    total = sum((c.amount for c in raw), ZERO)
    if total > cap:
        parts = allocate(cap, [c.amount for c in raw])
        raw = [
            LineCommission(c.tier, c.distributor_id, c.rate, part)
            for c, part in zip(raw, parts, strict=True)
        ]
    return [c for c in raw if c.amount > 0]


def _rules_for(tenant_id: int, lines: list[Any]) -> dict[tuple[str, int], CommissionRule]:
    sku_ids = {line.sku_id for line in lines if line.sku_id}
    product_ids = {line.product_id for line in lines if line.product_id}
    found: dict[tuple[str, int], CommissionRule] = {}
    for rule in CommissionRule.objects.for_tenant(tenant_id).filter(sku_id__in=sku_ids):
        found[("sku", rule.sku_id)] = rule
    for rule in CommissionRule.objects.for_tenant(tenant_id).filter(
        product_id__in=product_ids, sku__isnull=True
    ):
        found[("product", rule.product_id)] = rule
    return found


def _rule_snapshot(rule: CommissionRule | None, distributor: Distributor, tier: int) -> dict:
    if rule is not None:
        return {
            "source": "sku" if rule.sku_id else "product",
            "rule_id": rule.pk,
            "mode": rule.mode,
            "value": str(rule.value_for(tier)),
        }
    grade = distributor.grade
    return {
        "source": "grade",
        "grade_id": grade.pk if grade else None,
        "grade": grade.name if grade else "",
        "rate": str(grade.rate_for(tier)) if grade else "0",
    }


def commissions_follow_up_paid(*, tenant: Tenant, order: Order) -> None:
    """The order was paid (``orders.hooks.order_paid``, in the paid transaction): its
    commissions are written after commit by ``distribution.tasks.commissions_create``."""
    follow_up(
        tenant=tenant,
        task="distribution.tasks.commissions_create",
        key=f"commissions_create:order:{order.pk}",
        kwargs={"order_id": order.pk},
    )


def commissions_follow_up_refunded(
    *, tenant: Tenant, order: Order, refund_ref: str, line_refunds: Mapping[int, Decimal]
) -> None:
    """An after-sale refund finished (``orders.hooks.order_refunded``, in its transaction): the
    refunded share is taken back after commit by ``distribution.tasks.commissions_reverse``."""
    follow_up(
        tenant=tenant,
        task="distribution.tasks.commissions_reverse",
        key=f"commissions_reverse:{refund_ref}",
        kwargs={
            "order_id": order.pk,
            "line_refunds": {str(line_id): str(amount) for line_id, amount in line_refunds.items()},
            "refund_ref": refund_ref,
        },
    )


def commissions_create_for_order(*, order_id: int) -> int:
    """The order was paid: one pending commission per line and beneficiary tier. Idempotent
    (the order row lock serialises repeats; ``(order_line, tier)`` is unique)."""
    # The task names the order only: finding its tenant is platform-wide.
    tenant_id = (
        Order.objects.all_tenants().filter(pk=order_id).values_list("tenant_id", flat=True).first()
    )
    if tenant_id is None:
        return 0
    config = settings_get(tenant=tenant_id)
    with transaction.atomic():
        order = order_qs_for_update(tenant=tenant_id, pk=order_id).get()
        if order.paid_at is None or order.status in (
            Order.Status.CANCELLED,
            Order.Status.REFUNDED,
        ):
            return 0
        if Commission.objects.for_tenant(tenant_id).filter(order=order).exists():
            return 0
        snapshot = order.distribution or attribution_snapshot(
            tenant=order.tenant, member=order.member
        )
        if not snapshot.get("enabled") or not snapshot.get("chain"):
            return 0
        chain_ids = [step["distributor_id"] for step in snapshot["chain"]]
        earners = {
            d.pk: d
            for d in Distributor.objects.for_tenant(tenant_id)
            .select_related("grade")
            .filter(pk__in=chain_ids, status=D.APPROVED)
        }
        beneficiaries = [
            (int(step["tier"]), earners[step["distributor_id"]])
            for step in snapshot["chain"]
            if step["distributor_id"] in earners and int(step["tier"]) <= config.tiers
        ]
        if not beneficiaries:
            return 0
        lines = list(
            OrderLine.objects.for_tenant(tenant_id).filter(
                order=order, is_gift=False, payable__gt=0
            )
        )
        rules = _rules_for(tenant_id, lines)
        rows: list[Commission] = []
        for line in lines:
            rule = rules.get(("sku", line.sku_id)) or rules.get(("product", line.product_id))
            base = line.payable - line.shipping_fee
            by_tier = dict(beneficiaries)
            for item in line_commissions(
                base=base,
                quantity=line.quantity,
                beneficiaries=beneficiaries,
                rule=rule,
                cap_rate=config.cap_rate,
            ):
                snap = _rule_snapshot(rule, by_tier[item.tier], item.tier)
                snap.update(
                    {
                        "cap_rate": str(config.cap_rate),
                        "rules_version": config.rules_version,
                        "checkout_rules_version": snapshot.get("rules_version"),
                    }
                )
                rows.append(
                    Commission(
                        tenant_id=tenant_id,
                        order=order,
                        order_line=line,
                        beneficiary_id=item.distributor_id,
                        buyer_id=order.member_id,
                        tier=item.tier,
                        base_amount=base,
                        rate=item.rate,
                        amount=item.amount,
                        rule=snap,
                    )
                )
        Commission.objects.bulk_create(rows)
        _reverse_refunds_so_far(tenant_id, order)
    return len(rows)


def _reverse_refunds_so_far(tenant_id: int, order: Any) -> None:
    """Commissions created after refunds (the refund's reversal found nothing to take back):
    apply each refund now, in order, exactly as its reversal would have, under the same
    ``refund_ref``; the reversal arriving later finds it done. Either order of events gives
    the same net commissions to the fen."""
    refunded = list(
        AfterSale.objects.for_tenant(tenant_id)
        .filter(order=order, status=AfterSale.Status.REFUNDED)
        .order_by("refunded_at", "pk")
        .values_list("pk", flat=True)
    )
    if not refunded:
        return
    by_after_sale: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for after_sale_id, line_id, amount in (
        AfterSaleLine.objects.for_tenant(tenant_id)
        .filter(after_sale_id__in=refunded)
        .values_list("after_sale_id", "order_line_id", "amount")
    ):
        by_after_sale[after_sale_id][line_id] = amount
    for after_sale_id in refunded:
        if by_after_sale[after_sale_id]:
            _reverse_locked(
                tenant_id=tenant_id,
                order_id=order.pk,
                line_refunds=by_after_sale[after_sale_id],
                refund_ref=f"after_sale:{after_sale_id}",
            )


def _ratio_part(total: Decimal, refunded: Decimal, payable: Decimal) -> Decimal:
    if payable <= 0 or refunded >= payable:
        return total
    return quantize(total * refunded / payable)


def commissions_reverse_for_refund(
    *, order_id: int, line_refunds: dict[int, Decimal], refund_ref: str
) -> int:
    """A refund finished: take back the refunded share of each affected line's commissions,
    exactly once per ``refund_ref``. The share is cumulative (all refunds of the line so far /
    line payable), so a line refunded in full reverses its commissions in full, to the fen.
    A settled commission is debited on the ledger (the balance may go negative and is offset
    by later commissions). Returns the number of commissions touched."""
    # The task names the order only: finding its tenant is platform-wide.
    tenant_id = (
        Order.objects.all_tenants().filter(pk=order_id).values_list("tenant_id", flat=True).first()
    )
    if tenant_id is None or not line_refunds:
        return 0
    with transaction.atomic():
        # The order's lock orders this against the creation of its commissions: whichever
        # comes second sees the other (creation applies the refunds it finds).
        order_qs_for_update(tenant=tenant_id, pk=order_id).first()
        return _reverse_locked(
            tenant_id=tenant_id, order_id=order_id, line_refunds=line_refunds, refund_ref=refund_ref
        )


def commission_transition(commission: Commission, to: str) -> bool:
    """The one status change of a (locked) commission, checked against
    ``COMMISSION_TRANSITIONS`` (409 when not allowed; ``False`` when already there). Settlement
    moves many at once through the same table (``distribution.services.settlement``)."""
    return transition_apply(commission, COMMISSION_TRANSITIONS, to, entity="commission")


def _reverse_locked(
    *, tenant_id: int, order_id: int, line_refunds: dict[int, Decimal], refund_ref: str
) -> int:
    """The body of ``commissions_reverse_for_refund`` (inside its transaction, order locked)."""
    commissions = list(
        lock_objects.commissions_of_lines_for_update(
            tenant=tenant_id, order_id=order_id, line_ids=line_refunds
        )
    )
    if not commissions:
        return 0
    ids = [c.pk for c in commissions]
    done = CommissionReversal.objects.for_tenant(tenant_id).filter(
        commission_id__in=ids, refund_ref=refund_ref
    )
    if done.exists():
        return 0
    prior: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for commission_id, amount in (
        CommissionReversal.objects.for_tenant(tenant_id)
        .filter(commission_id__in=ids)
        .values_list("commission_id")
        .annotate(total=Sum("line_refund_amount"))
    ):
        prior[commission_id] = amount
    payables = dict(
        OrderLine.objects.for_tenant(tenant_id)
        .filter(pk__in=list(line_refunds))
        .values_list("pk", "payable")
    )
    reversals: list[CommissionReversal] = []
    for c in commissions:
        refunded = quantize(line_refunds[c.order_line_id])
        cumulative = prior[c.pk] + refunded
        payable = payables[c.order_line_id]
        target = _ratio_part(c.amount, cumulative, payable)
        target_base = _ratio_part(c.base_amount, cumulative, payable)
        delta = max(target - c.reversed_amount, ZERO)
        delta_base = max(target_base - c.reversed_base, ZERO)
        was_settled = c.status == Commission.Status.SETTLED
        reversals.append(
            CommissionReversal(
                tenant_id=tenant_id,
                commission=c,
                refund_ref=refund_ref,
                line_refund_amount=refunded,
                amount=delta,
                base_amount=delta_base,
                after_settlement=was_settled,
            )
        )
        # Absolute values: the row is locked (and SQLite's decimals drift under F()).
        fields: dict[str, Any] = {
            "reversed_amount": c.reversed_amount + delta,
            "reversed_base": c.reversed_base + delta_base,
        }
        if c.reversed_amount + delta >= c.amount and commission_transition(
            c, Commission.Status.REVERSED
        ):
            fields["status"] = c.status
        Commission.objects.for_tenant(tenant_id).filter(pk=c.pk).update(**fields)
        if was_settled and delta > 0:
            ledger_add(
                tenant_id=tenant_id,
                distributor_id=c.beneficiary_id,
                kind=LedgerEntry.Kind.DEBIT,
                amount=-delta,
                reference=f"reversal:{c.pk}:{refund_ref}",
                note=f"refund {refund_ref} of order line {c.order_line_id}",
            )
    CommissionReversal.objects.bulk_create(reversals)
    return len(reversals)
