"""The quote's inputs in a constant number of queries (``quote_inputs_load``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from catalog.freight import FreightLine, FreightTerms, freight_price
from catalog.models import Product
from catalog.selectors import (
    PricingProduct,
    PricingSku,
    category_ancestors,
    category_tree_version_key,
    skus_for_pricing,
)
from mall.errors import NotFoundError
from mall.money import quantize
from mall.rawsql import as_datetime, as_decimal
from mall.tenancy.models import Tenant
from mall.versions import versions_get
from members.models import Address, Member
from members.sql import address_province_column
from members.tiers.sql import member_benefits_column, member_benefits_from_column
from promotions.errors import PromotionErrorCode
from promotions.models import CouponTemplate
from promotions.pricing import (
    CouponInput,
    LineInput,
    MemberContext,
    Problem,
    QuoteInput,
    ShippingInput,
    ShippingLine,
    ShippingResult,
    campaign_is_live,
)
from promotions.selectors.inputs import (
    PricedSku,
    campaign_inputs_of,
    counters_from_columns,
    member_prices_of,
    needed_counters,
)
from promotions.selectors.snapshot import (
    COUPON_SCOPE_SECONDS,
    EMPTY,
    PLATFORM_FIELDS,
    TEMPLATE_LINKS,
    coupon_version_key,
    links_of,
    pricing_snapshot,
    pricing_version_key,
    scopes_local,
    template_scope,
)
from promotions.sql import counter_columns, member_coupons_column, member_coupons_from_column


@dataclass(frozen=True)
class CartLine:
    sku_id: int
    quantity: int
    addon_campaign_id: int | None = None


@dataclass(frozen=True)
class LoadedQuote:
    inputs: QuoteInput
    problems: tuple[Problem, ...]  # found while loading (unavailable SKUs, unknown coupons)
    skus: dict[int, PricingSku]  # the cart's SKUs (with product) and live gift campaigns' SKUs


def _freight_calculator(
    products: dict[int, PricingProduct], terms: Mapping[int, FreightTerms], province: str
) -> Callable[[tuple[ShippingLine, ...]], ShippingResult]:
    def calculate(lines: tuple[ShippingLine, ...]) -> ShippingResult:
        groups: dict[int, list[FreightLine]] = defaultdict(list)
        for line in lines:
            template_id = products[line.product_id].freight_template_id
            if template_id is not None and template_id in terms:
                groups[template_id].append(
                    FreightLine(line.quantity, line.weight_grams, line.amount)
                )
        fee, deliverable, free = Decimal("0.00"), True, False
        for template_id in sorted(groups):
            result = freight_price(
                terms=terms[template_id], lines=groups[template_id], province=province
            )
            fee += result.fee
            deliverable = deliverable and result.deliverable
            free = free or result.free_shipping
        return ShippingResult(fee=quantize(fee), deliverable=deliverable, free=free and fee == 0)

    return calculate


# --- the quote ---------------------------------------------------------------------------


def quote_inputs_load(
    *,
    tenant: Tenant,
    member: Member,
    platform: str,
    lines: Sequence[CartLine],
    coupon_ids: Sequence[int] = (),
    points_to_use: int = 0,
    fulfillment: str = "express",
    address: Address | None = None,
    address_id: int | None = None,
    now: datetime,
) -> LoadedQuote:
    """Everything ``quote()`` needs, in a constant number of queries whatever the cart size:
    the SKUs (with the live gift campaigns' SKUs), the chosen coupons, the member's tier and
    card benefits, and the flash-sale and budget counters when live campaigns have them (all
    columns of the one SKU statement); the rest comes from the pricing snapshot.

    A SKU id that is not this tenant's answers 404 ``sku_not_found``; a SKU that is off shelf,
    inactive or hidden on this platform is left out with a ``sku_unavailable`` problem; a coupon
    id that is not this member's gives a ``coupon_not_found`` problem.

    The delivery address is ``address`` (checkout, which snapshots it) or ``address_id``
    (the quote), whose province is read in the SKUs' statement; an id that is not this
    member's answers 404 ``address_not_found`` (before any SKU error).
    """
    problems: list[Problem] = []
    pricing_version, tree_version, scope_version = versions_get(
        [
            pricing_version_key(tenant.pk),
            category_tree_version_key(tenant.pk),
            coupon_version_key(tenant.pk),
        ]
    )
    snapshot = pricing_snapshot(tenant=tenant, now=now, version=pricing_version)
    live = snapshot.live(now=now, platform=None)
    sku_ids = sorted({line.sku_id for line in lines})
    gift_ids = {pk for campaign in live for pk in campaign.gift_sku_ids}
    # One statement: the SKUs, with the fresh counters, the address's province and the
    # chosen coupons as extra columns.
    flash_rows, budgeted = needed_counters(live, sku_ids)
    extra = counter_columns(flash_rows, budgeted, tenant_id=tenant.pk)
    counted = len(extra)
    read_province = address is None and bool(address_id)
    if read_province and address_id is not None:
        extra.append(
            address_province_column(tenant_id=tenant.pk, member_id=member.pk, address_id=address_id)
        )
    wanted_coupons = sorted(set(coupon_ids))
    if wanted_coupons:
        extra.append(
            member_coupons_column(
                tenant_id=tenant.pk, member_id=member.pk, coupon_ids=wanted_coupons
            )
        )
    # The member's tier and card benefits (fresh: a tier reached a moment ago applies).
    extra.append(member_benefits_column(tenant_id=tenant.pk, member_id=member.pk))
    rows, extra_values = skus_for_pricing(
        tenant_id=tenant.pk, sku_ids=set(sku_ids) | gift_ids, extra=extra
    )
    values = list(extra_values or ())
    benefits = member_benefits_from_column(values.pop())
    coupon_rows = member_coupons_from_column(values.pop()) if wanted_coupons else {}
    province = address.province_code if address is not None else None
    if read_province:
        province = values.pop()
        if province is None:
            raise NotFoundError(_("Address not found."), code=PromotionErrorCode.ADDRESS_NOT_FOUND)
    missing = [pk for pk in sku_ids if pk not in rows]
    if missing:
        raise NotFoundError(
            _("SKU not found."), code=PromotionErrorCode.SKU_NOT_FOUND, details={"sku_ids": missing}
        )
    platform_field = PLATFORM_FIELDS.get(platform)
    available: dict[int, PricingSku] = {}
    for pk in sku_ids:
        sku = rows[pk]
        product = sku.product
        visible = platform_field is None or getattr(product, platform_field, False)
        if sku.is_active and product.status == Product.Status.ON_SALE and visible:
            available[pk] = sku
        else:
            problems.append(
                Problem("sku_unavailable", f"{product.title} is not on sale.", sku_id=pk)
            )
    ancestors = category_ancestors(
        tenant_id=tenant.pk,
        category_ids={s.product.category_id or 0 for s in available.values()},
        version=tree_version,
    )
    stock = {pk: rows[pk].stock for pk in gift_ids if pk in rows and rows[pk].is_active}
    counters = counters_from_columns(values[:counted], flash_rows, budgeted)

    campaign_inputs = campaign_inputs_of(
        snapshot, live, counters=counters, stock=stock, sku_ids=available
    )
    member_prices = member_prices_of(
        (c for c in live if campaign_is_live(c, now=now, platform=platform)),
        (
            PricedSku(
                pk,
                sku.product_id,
                sku.price,
                ancestors.get(sku.product.category_id or 0, EMPTY),
            )
            for pk, sku in available.items()
        ),
    )

    coupons = _coupons(
        tenant_id=tenant.pk,
        wanted=wanted_coupons,
        rows=coupon_rows,
        problems=problems,
        scope_version=scope_version,
    )

    line_inputs = tuple(
        LineInput(
            sku_id=line.sku_id,
            product_id=available[line.sku_id].product_id,
            unit_price=available[line.sku_id].price,
            quantity=line.quantity,
            category_ids=ancestors.get(available[line.sku_id].product.category_id or 0, EMPTY),
            weight_grams=available[line.sku_id].weight_grams,
            title=available[line.sku_id].product.title,
            addon_campaign_id=line.addon_campaign_id,
        )
        for line in lines
        if line.sku_id in available
    )
    merged_quantity: dict[int, int] = defaultdict(int)
    for line in line_inputs:
        merged_quantity[line.sku_id] += line.quantity
    for pk, quantity in sorted(merged_quantity.items()):
        if available[pk].stock < quantity:
            problems.append(
                Problem(
                    "out_of_stock",
                    gettext("Only %(n)d left in stock.") % {"n": available[pk].stock},
                    sku_id=pk,
                )
            )

    shipping = ShippingInput()
    if fulfillment != "pickup" and province is not None:
        products = {s.product_id: s.product for s in available.values()}
        shipping = ShippingInput(
            calculator=_freight_calculator(products, snapshot.freight, province)
        )

    inputs = QuoteInput(
        lines=line_inputs,
        now=now,
        platform=platform,
        member=MemberContext(
            member_id=member.pk,
            tier_discount_rate=benefits.tier_discount_rate,
            member_prices=member_prices,
            card_price_rate=benefits.card_rate(now),
            points_balance=member.points,
            free_shipping=benefits.free_shipping_source(now),
        ),
        campaigns=campaign_inputs,
        coupons=coupons,
        points_to_use=points_to_use,
        settings=snapshot.settings,
        fulfillment=fulfillment,
        shipping=shipping,
    )
    return LoadedQuote(inputs=inputs, problems=tuple(problems), skus=rows)


def _template_links(
    tenant_id: int, template_ids: Sequence[int], version: int
) -> dict[int, dict[str, frozenset[int]]]:
    """Template id -> its scope links at coupon-scope ``version``: this process's copies, else
    the cache (one MGET), else the through tables (three queries for all missing ones)."""
    result: dict[int, dict[str, frozenset[int]]] = {}
    for pk in template_ids:
        local = scopes_local.get((tenant_id, pk), version=version)
        if local is not None:
            result[pk] = local
    keys = {
        pk: f"promotions:coupon-scope:{tenant_id}:{version}:{pk}"
        for pk in template_ids
        if pk not in result
    }
    fetched = cache.get_many(list(keys.values())) if keys else {}
    missing = []
    for pk, key in keys.items():
        if key in fetched:
            result[pk] = fetched[key]
        else:
            missing.append(pk)
    if missing:
        links = links_of(CouponTemplate, missing, TEMPLATE_LINKS)
        loaded = {
            pk: {name: links[name].get(pk, EMPTY) for name in TEMPLATE_LINKS} for pk in missing
        }
        cache.set_many({keys[pk]: value for pk, value in loaded.items()}, COUPON_SCOPE_SECONDS)
        result.update(loaded)
    for pk in keys:
        scopes_local.set((tenant_id, pk), result[pk], version=version, ttl=COUPON_SCOPE_SECONDS)
    return result


def _coupons(
    *,
    tenant_id: int,
    wanted: Sequence[int],
    rows: Mapping[int, Sequence[Any]],
    problems: list[Problem],
    scope_version: int,
) -> tuple[CouponInput, ...]:
    if not wanted:
        return ()
    links = _template_links(tenant_id, sorted({row[1] for row in rows.values()}), scope_version)
    result = []
    for pk in wanted:
        row = rows.get(pk)
        if row is None:
            problems.append(Problem("coupon_not_found", gettext("Coupon not found."), coupon_id=pk))
            continue
        template_id = row[1]
        result.append(
            CouponInput(
                id=pk,
                kind=row[5],
                name=row[6],
                valid_from=as_datetime(row[3]),  # type: ignore[arg-type]
                valid_until=as_datetime(row[4]),  # type: ignore[arg-type]
                status=row[2],
                amount=as_decimal(row[7]),
                percent_off=as_decimal(row[8]),
                max_discount=as_decimal(row[9]),
                threshold=as_decimal(row[10]),  # type: ignore[arg-type]
                scope=template_scope(row[11], links[template_id]),
                template_id=template_id,
            )
        )
    return tuple(result)
