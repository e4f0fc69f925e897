"""Product pages: each SKU's item-level price for the caller and the campaigns that apply
(docs/pricing.md, "Product pages")."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from catalog.selectors import (
    category_ancestors,
    category_tree_version_key,
    sku_prices_for_products,
)
from mall.tenancy.models import Tenant
from mall.versions import versions_get
from members.models import Member
from members.tiers.selectors import member_benefits
from members.tiers.sql import NO_BENEFITS
from promotions.pricing import (
    CampaignKind,
    ItemPrice,
    MemberContext,
    QuoteInput,
    item_prices,
)
from promotions.selectors.inputs import (
    PricedSku,
    campaign_input,
    counters_load,
    member_prices_of,
    needed_counters,
)
from promotions.selectors.snapshot import (
    EMPTY,
    CampaignRecord,
    PricingSnapshot,
    pricing_snapshot,
    pricing_version_key,
)

# --- product pages: item-level prices and campaigns for this caller ----------------------


@dataclass(frozen=True)
class SkuRef:
    """A SKU as a product page shows it (from the catalog's member-independent cache)."""

    sku_id: int
    product_id: int
    price: Decimal
    category_id: int | None = None


@dataclass(frozen=True)
class FlashOffer:
    sku_id: int
    price: Decimal
    quota_left: int
    per_member_limit: int


@dataclass(frozen=True)
class ProductCampaign:
    """A live campaign shown on the platform that applies to a product."""

    id: int
    kind: str
    name: str
    title: str
    banner: str
    starts_at: datetime
    ends_at: datetime
    rules: Mapping[str, Any]
    flash_skus: tuple[FlashOffer, ...] = ()


@dataclass(frozen=True)
class ShopperPrices:
    prices: Mapping[int, ItemPrice]  # SKU id -> best item-level price (absent: list price)
    campaigns: tuple[ProductCampaign, ...] = ()


def _item_level(
    live: list[CampaignRecord], *, member: Member | None, product_ids: set[int] | None = None
) -> tuple[list[CampaignRecord], list[CampaignRecord]]:
    """(flash sales with a SKU of ``product_ids`` (None: any), member-price campaigns if a
    member is logged in)."""
    flash = [
        c
        for c in live
        if c.kind == CampaignKind.FLASH_SALE
        and any(product_ids is None or f.product_id in product_ids for f in c.flash_skus)
    ]
    members = [c for c in live if c.kind == CampaignKind.MEMBER_PRICE] if member else []
    return flash, members


def item_prices_for_shopper(
    *,
    tenant: Tenant,
    platform: str,
    member: Member | None,
    skus: Sequence[SkuRef],
    now: datetime,
    with_campaigns: bool = False,
    snapshot: PricingSnapshot | None = None,
    tree_version: int | None = None,
) -> ShopperPrices:
    """Each SKU's best item-level price for this caller (the engine's rule 1 for one unit: a
    flash-sale price with quota left, a member-price campaign's price, the tier's and the
    running paid card's rates for a logged-in member),
    and, with ``with_campaigns``, the live campaigns on ``platform`` that apply to these SKUs.

    Constant queries whatever the number of SKUs: the snapshot and category map come from the
    cache; the flash-sale ``sold`` counts and campaign budgets are read fresh (one query each,
    only when a live campaign concerned has them).
    """
    if snapshot is None:
        pricing_version, tree_version = versions_get(
            [pricing_version_key(tenant.pk), category_tree_version_key(tenant.pk)]
        )
        snapshot = pricing_snapshot(tenant=tenant, now=now, version=pricing_version)
    live = snapshot.live(now=now, platform=platform)
    if not skus:
        return ShopperPrices(prices={})
    # The member's tier and card rates (shared cache; one query when not cached).
    benefits = member_benefits(tenant_id=tenant.pk, member_id=member.pk) if member else NO_BENEFITS
    tier_rate, card_rate = benefits.tier_discount_rate, benefits.card_rate(now)
    rates = tier_rate is not None or card_rate is not None
    if not live and not rates:
        return ShopperPrices(prices={})
    product_ids = {s.product_id for s in skus}
    flash, member_campaigns = _item_level(live, member=member, product_ids=product_ids)
    if not (flash or member_campaigns or with_campaigns or rates):
        return ShopperPrices(prices={})
    ancestors = category_ancestors(
        tenant_id=tenant.pk, category_ids={s.category_id or 0 for s in skus}, version=tree_version
    )
    priced = [
        PricedSku(s.sku_id, s.product_id, s.price, ancestors.get(s.category_id or 0, EMPTY))
        for s in skus
    ]
    sku_ids = {s.sku_id for s in skus}
    shown: list[CampaignRecord] = []
    if with_campaigns:
        probes = [p.probe() for p in priced]
        for c in live:
            if c.kind == CampaignKind.FLASH_SALE:
                applies = any(f.sku_id in sku_ids for f in c.flash_skus)
            else:
                applies = any(c.scope.covers(probe) for probe in probes)
            if applies:
                shown.append(c)
    # Only flash sales have counters that change a price or a figure shown (member prices
    # take no budget; other kinds' budgets matter at the quote).
    flash_sales = {c.id: c for c in (*flash, *shown) if c.kind == CampaignKind.FLASH_SALE}
    counters = counters_load(*needed_counters(flash_sales.values(), sku_ids), tenant_id=tenant.pk)

    prices: dict[int, ItemPrice] = {}
    if flash or member_campaigns or rates:
        inputs = QuoteInput(
            lines=tuple(p.probe() for p in priced),
            now=now,
            platform=platform,
            member=MemberContext(
                member_id=member.pk if member else None,
                tier_discount_rate=tier_rate,
                member_prices=member_prices_of(member_campaigns, priced),
                card_price_rate=card_rate,
            ),
            campaigns=tuple(
                campaign_input(c, counters=counters, stock={}, sku_ids=sku_ids) for c in flash
            ),
        )
        prices = item_prices(inputs)

    campaigns = []
    for c in shown:
        title, banner = c.display_for(platform)
        campaigns.append(
            ProductCampaign(
                id=c.id,
                kind=c.kind,
                name=c.name,
                title=title,
                banner=banner,
                starts_at=c.starts_at,
                ends_at=c.ends_at,
                rules=c.rules,
                flash_skus=tuple(
                    FlashOffer(
                        sku_id=f.sku_id,
                        price=f.price,
                        quota_left=max(f.quota - counters.sold.get(f.row_id, f.quota), 0),
                        per_member_limit=f.per_member_limit,
                    )
                    for f in c.flash_skus
                    if f.sku_id in sku_ids
                ),
            )
        )
    return ShopperPrices(prices=prices, campaigns=tuple(campaigns))


def product_prices_version_keys(tenant_id: int) -> tuple[str, str]:
    """The cache keys of the versions ``product_prices_for_shopper`` reads (pricing snapshot,
    category tree), for a caller that fetches them in its own round trip (``versions``)."""
    return pricing_version_key(tenant_id), category_tree_version_key(tenant_id)


def product_prices_for_shopper(
    *,
    tenant: Tenant,
    platform: str,
    member: Member | None,
    product_ids: Iterable[int],
    now: datetime,
    versions: Sequence[int] | None = None,
) -> dict[int, Decimal]:
    """Product id -> its lowest SKU price after item-level prices for this caller, for the
    products that have such a price now (the others keep their list price).

    No query on a warm cache when nothing item-level is live for the caller; else one query
    for the SKUs of the products concerned (every product when a member-price campaign is live
    for a logged-in member, else those with a SKU in a live flash sale) plus the counters:
    constant, whatever the number of products.
    """
    if versions is None:
        versions = versions_get(product_prices_version_keys(tenant.pk))
    pricing_version, tree_version = versions
    snapshot = pricing_snapshot(tenant=tenant, now=now, version=pricing_version)
    wanted = set(product_ids)
    live = snapshot.live(now=now, platform=platform)
    flash, member_campaigns = _item_level(live, member=member, product_ids=wanted)
    concerned = (
        wanted if member_campaigns else {f.product_id for c in flash for f in c.flash_skus} & wanted
    )
    if not concerned:
        return {}
    skus = [
        SkuRef(sku_id=pk, product_id=product_id, price=price, category_id=category_id)
        for pk, product_id, price, category_id in sku_prices_for_products(
            tenant=tenant, product_ids=concerned
        )
    ]
    priced = item_prices_for_shopper(
        tenant=tenant,
        platform=platform,
        member=member,
        skus=skus,
        now=now,
        snapshot=snapshot,
        tree_version=tree_version,
    ).prices
    result: dict[int, Decimal] = {}
    for sku in skus:
        offer = priced.get(sku.sku_id)
        price = offer.price if offer is not None else sku.price
        if sku.product_id not in result or price < result[sku.product_id]:
            result[sku.product_id] = price
    offered = {s.product_id for s in skus if s.sku_id in priced}
    return {pk: price for pk, price in result.items() if pk in offered}
