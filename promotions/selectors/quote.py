"""The quote's inputs in a constant number of queries (``quote_inputs_load``)."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db import connection
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
from mall.api.errors import ApplicationError
from mall.money import quantize
from mall.rawsql import as_datetime, as_decimal, placeholders
from mall.tenancy.models import Tenant
from mall.versions import versions_get
from members.models import Address, Member
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
    counter_columns,
    counters_from_columns,
    member_prices_of,
    needed_counters,
)
from promotions.selectors.snapshot import (
    COUPON_SCOPE_SECONDS,
    EMPTY,
    LOCAL_MAX,
    PLATFORM_FIELDS,
    TEMPLATE_LINKS,
    coupon_version_key,
    links_of,
    pricing_snapshot,
    pricing_version_key,
    scopes_local,
    template_scope,
)


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
    the SKUs (with the live gift campaigns' SKUs), the chosen coupons, and the flash-sale and
    budget counters when live campaigns have them; the rest comes from the pricing snapshot.

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
    if read_province:
        extra.append((_PROVINCE_SQL, [tenant.pk, address_id, member.pk]))
    wanted_coupons = sorted(set(coupon_ids))
    if wanted_coupons:
        extra.append(_coupons_column(tenant=tenant, member=member, coupon_ids=wanted_coupons))
    rows, extra_values = skus_for_pricing(
        tenant_id=tenant.pk, sku_ids=set(sku_ids) | gift_ids, extra=extra
    )
    values = list(extra_values or ())
    coupon_rows = _coupon_rows(values.pop()) if wanted_coupons else {}
    province = address.province_code if address is not None else None
    if read_province:
        province = values.pop()
        if province is None:
            raise ApplicationError(
                PromotionErrorCode.ADDRESS_NOT_FOUND, _("Address not found."), status_code=404
            )
    missing = [pk for pk in sku_ids if pk not in rows]
    if missing:
        raise ApplicationError(
            PromotionErrorCode.SKU_NOT_FOUND,
            _("SKU not found."),
            details={"sku_ids": missing},
            status_code=404,
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
            tier_discount_rate=None,  # tiers arrive with the members issue
            member_prices=member_prices,
            card_price_rate=None,  # paid cards arrive with the members issue
            points_balance=member.points,
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
    now = time.monotonic()
    result: dict[int, dict[str, frozenset[int]]] = {}
    for pk in template_ids:
        local = scopes_local.get((tenant_id, pk))
        if local is not None and local[0] == version and local[1] > now:
            result[pk] = local[2]
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
    if len(scopes_local) >= LOCAL_MAX:
        scopes_local.clear()
    for pk in keys:
        scopes_local[(tenant_id, pk)] = (version, now + COUPON_SCOPE_SECONDS, result[pk])
    return result


# NULL when the address is not this member's (the column itself is never NULL).
_PROVINCE_SQL = (
    "SELECT province_code FROM members_address WHERE tenant_id = %s AND id = %s AND member_id = %s"
)
# The chosen coupons with their templates, as one JSON array (a scalar column of the SKUs'
# statement); numbers parse as Decimal, timestamps by ``datetime.fromisoformat`` (C), which also
# skips the timezone-aware loader Django installs in psycopg (Python).
_COUPON_FIELDS = (
    "c.id, c.template_id, c.status, c.valid_from, c.valid_until, t.kind, t.name, t.amount,"
    " t.percent_off, t.max_discount, t.threshold, t.scope_type"
)
_COUPON_JSON = {
    "postgresql": f"SELECT CAST(json_agg(json_build_array({_COUPON_FIELDS})) AS TEXT)",
    "sqlite": f"SELECT json_group_array(json_array({_COUPON_FIELDS}))",
}
_COUPON_FROM = (
    " FROM promotions_coupon c INNER JOIN promotions_coupontemplate t ON t.id = c.template_id"
    " WHERE c.tenant_id = %s AND c.member_id = %s AND c.id IN ({ids})"
)


def _coupons_column(
    *, tenant: Tenant, member: Member, coupon_ids: Sequence[int]
) -> tuple[str, list[Any]]:
    select = _COUPON_JSON[connection.vendor]
    return (
        select + _COUPON_FROM.format(ids=placeholders(len(coupon_ids))),
        [tenant.pk, member.pk, *coupon_ids],
    )


def _coupon_rows(value: str | None) -> dict[int, list[Any]]:
    """Coupon id -> its row, from the JSON array (NULL or "[]" when none is the member's)."""
    found = json.loads(value, parse_float=Decimal) if value else []
    return {row[0]: row for row in found}


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
