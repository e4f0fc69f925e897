"""Read paths of promotions: the pricing engine's inputs in a constant number of queries, live
campaigns for a platform, claimable coupon templates and a member's coupons."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet

from catalog.freight import FreightLine, freight_price, freight_terms_from_template
from catalog.models import Category, FreightTemplate, Product, Sku
from mall.api.errors import ApplicationError
from mall.money import quantize
from mall.tenancy.models import Tenant
from members.models import Address, Member
from promotions.errors import PromotionErrorCode
from promotions.models import Campaign, Coupon, CouponTemplate, PromotionSettings, ScopeType
from promotions.pricing import (
    CampaignInput,
    CampaignKind,
    CouponInput,
    FlashSaleSkuPrice,
    LineInput,
    MemberContext,
    PricingSettings,
    Problem,
    QuoteInput,
    Scope,
    ShippingInput,
    ShippingLine,
    ShippingResult,
    campaign_is_live,
)
from promotions.rules import engine_rule, referenced_sku_ids

LIVE = [Campaign.Status.SCHEDULED, Campaign.Status.ACTIVE]


@dataclass(frozen=True)
class CartLine:
    sku_id: int
    quantity: int
    addon_campaign_id: int | None = None


@dataclass(frozen=True)
class LoadedQuote:
    inputs: QuoteInput
    problems: tuple[Problem, ...]  # found while loading (unavailable SKUs, unknown coupons)
    skus: dict[int, Sku]


def pricing_settings_for(*, tenant: Tenant) -> PricingSettings:
    row = PromotionSettings.objects.for_tenant(tenant).first()
    if row is None:
        return PricingSettings()
    return PricingSettings(
        points_per_yuan=row.points_per_yuan,
        points_max_share=row.points_max_share,
        max_goods_coupons=row.max_goods_coupons,
        coupons_with_campaigns=row.coupons_with_campaigns,
        coupons_on_flash_sale=row.coupons_on_flash_sale,
    )


def campaigns_live_queryset(*, tenant: Tenant, now: datetime) -> QuerySet[Campaign]:
    """Campaigns live at ``now`` whatever the beat did (status and window at read time)."""
    return (
        Campaign.objects.for_tenant(tenant)
        .filter(status__in=LIVE, starts_at__lte=now, ends_at__gt=now)
        .order_by("-priority", "id")
    )


Links = dict[str, dict[int, frozenset[int]]]


def _links(model: Any, owner_ids: Sequence[int], fields: Sequence[str]) -> Links:
    """Owner id -> linked ids for each many-to-many field, one light query per field (the
    through tables' id pairs, no model rows)."""
    result: Links = {}
    owner = f"{model._meta.model_name}_id"
    for name in fields:
        field = model._meta.get_field(name)
        through = field.remote_field.through
        target = f"{field.m2m_reverse_field_name()}_id"
        pairs: dict[int, set[int]] = defaultdict(set)
        rows = through.objects.filter(**{f"{owner}__in": list(owner_ids)}).values_list(
            owner, target
        )
        for owner_id, target_id in rows:
            pairs[owner_id].add(target_id)
        result[name] = {k: frozenset(v) for k, v in pairs.items()}
    return result


CAMPAIGN_LINKS = ("products", "categories", "skus", "excluded_products")
TEMPLATE_LINKS = ("products", "categories", "excluded_products")
EMPTY: frozenset[int] = frozenset()


def _campaign_scope(campaign: Campaign, links: Links) -> Scope:
    pk = campaign.pk
    return Scope(
        all_items=campaign.all_items,
        product_ids=links["products"].get(pk, EMPTY),
        category_ids=links["categories"].get(pk, EMPTY),
        sku_ids=links["skus"].get(pk, EMPTY),
        excluded_product_ids=links["excluded_products"].get(pk, EMPTY),
    )


def _template_scope(template: CouponTemplate, links: Links) -> Scope:
    pk, scope_type = template.pk, template.scope_type
    products = links["products"].get(pk, EMPTY)
    categories = links["categories"].get(pk, EMPTY)
    return Scope(
        all_items=scope_type == ScopeType.ALL,
        product_ids=products if scope_type == ScopeType.PRODUCTS else EMPTY,
        category_ids=categories if scope_type == ScopeType.CATEGORIES else EMPTY,
        excluded_product_ids=links["excluded_products"].get(pk, EMPTY),
    )


def _category_ancestors(skus: Sequence[Sku], tenant: Tenant) -> dict[int, frozenset[int]]:
    """Category id -> itself and its ancestors, in one query for every line's category."""
    categories = {s.product.category_id: s.product.category for s in skus if s.product.category_id}
    if not categories:
        return {}
    nodes = list(categories.values())
    condition = Q()
    for node in nodes:
        condition |= Q(tree_id=node.tree_id, lft__lte=node.lft, rght__gte=node.rght)
    ancestors = list(
        Category.objects.for_tenant(tenant).filter(condition).values("id", "tree_id", "lft", "rght")
    )
    return {
        node.pk: frozenset(
            a["id"]
            for a in ancestors
            if a["tree_id"] == node.tree_id and a["lft"] <= node.lft and a["rght"] >= node.rght
        )
        for node in nodes
    }


def _freight_calculator(
    products: dict[int, Product], templates: dict[int, FreightTemplate], province: str
):
    terms = {pk: freight_terms_from_template(t) for pk, t in templates.items()}

    def calculate(lines: tuple[ShippingLine, ...]) -> ShippingResult:
        groups: dict[int, list[FreightLine]] = defaultdict(list)
        for line in lines:
            template_id = products[line.product_id].freight_template_id
            if template_id in terms:
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
    now: datetime,
) -> LoadedQuote:
    """Everything ``quote()`` needs, in a constant number of queries whatever the cart size.

    A SKU id that is not this tenant's answers 404 ``sku_not_found``; a SKU that is off shelf,
    inactive or hidden on this platform is left out with a ``sku_unavailable`` problem; a coupon
    id that is not this member's gives a ``coupon_not_found`` problem.
    """
    problems: list[Problem] = []
    sku_ids = sorted({line.sku_id for line in lines})
    skus = {
        s.pk: s
        for s in Sku.objects.for_tenant(tenant)
        .filter(pk__in=sku_ids)
        .select_related("product", "product__category")
    }
    missing = [pk for pk in sku_ids if pk not in skus]
    if missing:
        raise ApplicationError(
            PromotionErrorCode.SKU_NOT_FOUND,
            "SKU not found.",
            details={"sku_ids": missing},
            status_code=404,
        )
    platform_field = {"wechat": "on_wechat", "alipay": "on_alipay", "h5": "on_h5"}.get(platform)
    available: dict[int, Sku] = {}
    for pk, sku in skus.items():
        product = sku.product
        visible = platform_field is None or getattr(product, platform_field, False)
        if sku.is_active and product.status == Product.Status.ON_SALE and visible:
            available[pk] = sku
        else:
            problems.append(
                Problem("sku_unavailable", f"{product.title} is not on sale.", sku_id=pk)
            )
    ancestors = _category_ancestors(list(available.values()), tenant)

    campaigns = list(campaigns_live_queryset(tenant=tenant, now=now).prefetch_related("flash_skus"))
    links = _links(Campaign, [c.pk for c in campaigns], CAMPAIGN_LINKS)
    referenced: set[int] = set()
    for campaign in campaigns:
        referenced |= referenced_sku_ids(campaign.kind, campaign.rules)
    stock = dict(
        Sku.objects.for_tenant(tenant)
        .filter(pk__in=sorted(referenced), is_active=True)
        .values_list("id", "stock")
    )

    member_prices: dict[int, Decimal] = {}
    campaign_inputs: list[CampaignInput] = []
    for campaign in campaigns:
        scope = _campaign_scope(campaign, links)
        if campaign.kind == CampaignKind.MEMBER_PRICE:
            _member_prices(campaign, scope, available, ancestors, member_prices)
            continue
        flash = {
            f.sku_id: FlashSaleSkuPrice(
                price=f.price, quota_left=f.quota - f.sold, per_member_limit=f.per_member_limit
            )
            for f in campaign.flash_skus.all()
        }
        budget_left = (
            None if campaign.budget is None else max(campaign.budget - campaign.discount_given, 0)
        )
        campaign_inputs.append(
            CampaignInput(
                id=campaign.pk,
                kind=campaign.kind,
                name=campaign.title or campaign.name,
                starts_at=campaign.starts_at,
                ends_at=campaign.ends_at,
                status=campaign.status,
                rule=engine_rule(campaign.kind, campaign.rules, stock=stock, flash_prices=flash),
                scope=scope,
                platforms=campaign.platforms,
                priority=campaign.priority,
                stacks_with=None
                if campaign.stacks_with is None
                else frozenset(campaign.stacks_with),
                budget_remaining=budget_left,
            )
        )

    coupons = _coupons(tenant=tenant, member=member, coupon_ids=coupon_ids, problems=problems)

    line_inputs = tuple(
        LineInput(
            sku_id=line.sku_id,
            product_id=available[line.sku_id].product_id,
            unit_price=available[line.sku_id].price,
            quantity=line.quantity,
            category_ids=ancestors.get(
                available[line.sku_id].product.category_id or 0, frozenset()
            ),
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
                Problem("out_of_stock", f"Only {available[pk].stock} left in stock.", sku_id=pk)
            )

    shipping = ShippingInput()
    if fulfillment != "pickup" and address is not None:
        products = {s.product_id: s.product for s in available.values()}
        template_ids = {p.freight_template_id for p in products.values() if p.freight_template_id}
        templates = {
            t.pk: t
            for t in FreightTemplate.objects.for_tenant(tenant)
            .filter(pk__in=sorted(template_ids))
            .prefetch_related("rules")
        }
        shipping = ShippingInput(
            calculator=_freight_calculator(products, templates, address.province_code)
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
        campaigns=tuple(c for c in campaign_inputs if campaign_is_live(c, now=now, platform=None)),
        coupons=coupons,
        points_to_use=points_to_use,
        settings=pricing_settings_for(tenant=tenant),
        fulfillment=fulfillment,
        shipping=shipping,
    )
    return LoadedQuote(inputs=inputs, problems=tuple(problems), skus=skus)


def _member_prices(
    campaign: Campaign,
    scope: Scope,
    skus: dict[int, Sku],
    ancestors: dict[int, frozenset[int]],
    into: dict[int, Decimal],
) -> None:
    """A live member-price campaign gives every member its per-SKU prices, or its rate on the
    SKUs in its scope; the lowest price of all such campaigns wins."""
    prices = {int(p["sku_id"]): Decimal(p["price"]) for p in campaign.rules.get("prices", [])}
    rate = campaign.rules.get("rate")
    for pk, sku in skus.items():
        price = prices.get(pk)
        if price is None and rate:
            probe = LineInput(
                sku_id=pk,
                product_id=sku.product_id,
                unit_price=sku.price,
                quantity=1,
                category_ids=ancestors.get(sku.product.category_id or 0, frozenset()),
            )
            if scope.covers(probe):
                price = quantize(sku.price * Decimal(rate))
        if price is not None and (pk not in into or price < into[pk]):
            into[pk] = price


def _coupons(
    *, tenant: Tenant, member: Member, coupon_ids: Sequence[int], problems: list[Problem]
) -> tuple[CouponInput, ...]:
    wanted = sorted(set(coupon_ids))
    if not wanted:
        return ()
    rows = {
        c.pk: c
        for c in Coupon.objects.for_tenant(tenant)
        .filter(pk__in=wanted, member=member)
        .select_related("template")
    }
    links = _links(CouponTemplate, sorted({c.template_id for c in rows.values()}), TEMPLATE_LINKS)
    result = []
    for pk in wanted:
        coupon = rows.get(pk)
        if coupon is None:
            problems.append(Problem("coupon_not_found", "Coupon not found.", coupon_id=pk))
            continue
        template = coupon.template
        result.append(
            CouponInput(
                id=coupon.pk,
                kind=template.kind,
                name=template.name,
                valid_from=coupon.valid_from,
                valid_until=coupon.valid_until,
                status=coupon.status,
                amount=template.amount,
                percent_off=template.percent_off,
                max_discount=template.max_discount,
                threshold=template.threshold,
                scope=_template_scope(template, links),
                template_id=template.pk,
            )
        )
    return tuple(result)


def campaigns_for_platform(*, tenant: Tenant, platform: str, now: datetime) -> list[Campaign]:
    """Live campaigns shown on ``platform`` (with their platform displays prefetched)."""
    field = {"wechat": "on_wechat", "alipay": "on_alipay", "h5": "on_h5"}.get(platform)
    if field is None:
        return []
    return list(
        campaigns_live_queryset(tenant=tenant, now=now)
        .filter(**{field: True})
        .prefetch_related("displays")
    )


def coupon_templates_claimable(*, tenant: Tenant, now: datetime) -> QuerySet[CouponTemplate]:
    """Public templates that can be claimed now and are not all claimed."""
    from django.db.models import F

    return (
        CouponTemplate.objects.for_tenant(tenant)
        .filter(is_active=True, claim_channel=CouponTemplate.Channel.PUBLIC)
        .filter(issued_count__lt=F("total_quantity"))
        .filter(Q(claim_starts_at__isnull=True) | Q(claim_starts_at__lte=now))
        .filter(Q(claim_ends_at__isnull=True) | Q(claim_ends_at__gt=now))
        .filter(
            Q(validity_type=CouponTemplate.Validity.RELATIVE)
            | Q(validity_type=CouponTemplate.Validity.FIXED, valid_until__gt=now)
        )
        .order_by("-id")
    )


def coupons_of_member(
    *, tenant: Tenant, member: Member, status: str | None, now: datetime
) -> QuerySet[Coupon]:
    """A member's coupons; an unused coupon past its end reads as expired before the task runs."""
    qs = Coupon.objects.for_tenant(tenant).filter(member=member).select_related("template")
    if status == Coupon.Status.UNUSED:
        qs = qs.filter(status=Coupon.Status.UNUSED, valid_until__gt=now)
    elif status == Coupon.Status.EXPIRED:
        qs = qs.filter(
            Q(status=Coupon.Status.EXPIRED) | Q(status=Coupon.Status.UNUSED, valid_until__lte=now)
        )
    elif status:
        qs = qs.filter(status=status)
    return qs.order_by("-id")
