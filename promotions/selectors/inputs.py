"""Engine inputs built from the snapshot: fresh counters (flash-sale ``sold``, campaign
``discount_given``), campaign inputs and member prices."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from mall.money import quantize
from mall.rawsql import as_decimal
from promotions.pricing import (
    CampaignInput,
    CampaignKind,
    FlashSaleSkuPrice,
    LineInput,
)
from promotions.rules import engine_rule
from promotions.selectors.snapshot import (
    CampaignRecord,
    PricingSnapshot,
)
from promotions.sql import counter_values

MEMO_MAX = 2_000

# --- counters (never cached) and engine inputs --------------------------------------------


@dataclass(frozen=True)
class Counters:
    sold: Mapping[int, int]  # flash-sale row id -> sold
    given: Mapping[int, Decimal]  # campaign id -> discount given


def counters_load(
    flash_row_ids: Iterable[int], budgeted_ids: Iterable[int], *, tenant_id: int
) -> Counters:
    """The live counters in one statement (none when no counter is needed)."""
    rows, budgeted = sorted(set(flash_row_ids)), sorted(set(budgeted_ids))
    if not rows and not budgeted:
        return Counters(sold={}, given={})
    values = counter_values(rows, budgeted, tenant_id=tenant_id)
    return counters_from_columns(values, rows, budgeted)


def counters_from_columns(
    values: Sequence[Any], flash_row_ids: Sequence[int], budgeted_ids: Sequence[int]
) -> Counters:
    """The counters from the values of ``counter_columns`` (a deleted flash-sale row or
    campaign reads as None and is left out: sold out / no budget left)."""
    sold = dict(zip(flash_row_ids, values[: len(flash_row_ids)], strict=True))
    given = dict(zip(budgeted_ids, values[len(flash_row_ids) :], strict=True))
    return Counters(
        sold={k: v for k, v in sold.items() if v is not None},
        given={k: as_decimal(v) for k, v in given.items() if v is not None},  # type: ignore[misc]
    )


def needed_counters(
    campaigns: Iterable[CampaignRecord], sku_ids: Iterable[int]
) -> tuple[list[int], list[int]]:
    """Flash-sale rows of these SKUs, and campaigns with a budget, among ``campaigns``."""
    wanted = set(sku_ids)
    rows: set[int] = set()
    budgeted: set[int] = set()
    for c in campaigns:
        rows.update(f.row_id for f in c.flash_skus if f.sku_id in wanted)
        if c.budget is not None:
            budgeted.add(c.id)
    return sorted(rows), sorted(budgeted)


def campaign_input(
    c: CampaignRecord,
    *,
    counters: Counters,
    stock: Mapping[int, int],
    sku_ids: Iterable[int] | None = None,
) -> CampaignInput:
    wanted = None if sku_ids is None else set(sku_ids)
    flash = {
        f.sku_id: FlashSaleSkuPrice(
            price=f.price,
            quota_left=f.quota - counters.sold.get(f.row_id, f.quota),
            per_member_limit=f.per_member_limit,
        )
        for f in c.flash_skus
        if wanted is None or f.sku_id in wanted
    }
    budget_left = None
    if c.budget is not None:
        budget_left = max(c.budget - counters.given.get(c.id, c.budget), Decimal("0"))
    return CampaignInput(
        id=c.id,
        kind=c.kind,
        name=c.title or c.name,
        starts_at=c.starts_at,
        ends_at=c.ends_at,
        status=c.status,
        rule=engine_rule(c.kind, c.rules, stock=stock, flash_prices=flash),
        scope=c.scope,
        platforms=c.platforms,
        priority=c.priority,
        stacks_with=c.stacks_with,
        budget_remaining=budget_left,
    )


def campaign_inputs_of(
    snapshot: PricingSnapshot,
    campaigns: Iterable[CampaignRecord],
    *,
    counters: Counters,
    stock: Mapping[int, int],
    sku_ids: Iterable[int],
) -> tuple[CampaignInput, ...]:
    """The engine inputs of ``campaigns`` (member-price campaigns excluded: they become member
    prices), built once per snapshot and per fresh value they depend on: the flash-sale rows
    of the cart's SKUs with their sold counts, the budget given, the gift SKUs' stock."""
    wanted = set(sku_ids)
    memo = snapshot.engine_inputs
    result = []
    for c in campaigns:
        if c.kind == CampaignKind.MEMBER_PRICE:
            continue
        key = (
            c.id,
            tuple(
                (f.row_id, counters.sold.get(f.row_id)) for f in c.flash_skus if f.sku_id in wanted
            ),
            counters.given.get(c.id) if c.budget is not None else None,
            tuple((g, stock.get(g)) for g in c.gift_sku_ids),
        )
        built = memo.get(key)
        if built is None:
            built = campaign_input(c, counters=counters, stock=stock, sku_ids=wanted)
            if len(memo) >= MEMO_MAX:  # counters move with every order: keep it bounded
                memo.clear()
            memo[key] = built
        result.append(built)
    return tuple(result)


@dataclass(slots=True)
class PricedSku:
    """What member-price rules look at: a SKU, its product, list price and categories."""

    sku_id: int
    product_id: int
    price: Decimal
    category_ids: frozenset[int]

    def probe(self) -> LineInput:
        return LineInput(
            sku_id=self.sku_id,
            product_id=self.product_id,
            unit_price=self.price,
            quantity=1,
            category_ids=self.category_ids,
        )


def member_prices_of(
    campaigns: Iterable[CampaignRecord], skus: Iterable[PricedSku]
) -> dict[int, Decimal]:
    """Live member-price campaigns give every member their per-SKU prices, or their rate on
    the SKUs in their scope; the lowest price of all such campaigns wins."""
    into: dict[int, Decimal] = {}
    member_price = [c for c in campaigns if c.kind == CampaignKind.MEMBER_PRICE]
    if not member_price:
        return into
    skus = list(skus)
    for campaign in member_price:
        prices = {int(p["sku_id"]): Decimal(p["price"]) for p in campaign.rules.get("prices", [])}
        rate = campaign.rules.get("rate")
        for sku in skus:
            price = prices.get(sku.sku_id)
            if price is None and rate and campaign.scope.covers(sku.probe()):
                price = quantize(sku.price * Decimal(rate))
            if price is not None and (sku.sku_id not in into or price < into[sku.sku_id]):
                into[sku.sku_id] = price
    return into
