"""Read paths of promotions: the pricing engine's inputs in a constant number of queries, the
item-level prices and campaigns shown on product pages, live campaigns for a platform,
claimable coupon templates and a member's coupons.

Modules: ``snapshot`` (the tenant's cached pricing inputs and their invalidation), ``inputs``
(fresh counters, campaign inputs, member prices), ``quote`` (``quote_inputs_load``),
``products`` (product pages). Tenant-level pricing inputs (live and soon-live campaigns with
their scopes, displays and flash-sale SKUs; promotion settings; freight templates) are one
**pricing snapshot** per tenant, cached for ``SNAPSHOT_SECONDS`` under a version every change
bumps. What changes with every order is never cached: flash-sale ``sold`` counts, campaign
``discount_given``, SKU prices and stock. The window of every campaign is checked against
``now`` at read time, so a cached snapshot never applies or shows an expired price.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import F, Q, QuerySet

from mall.tenancy.models import Tenant
from members.models import Member
from promotions.models import Campaign, Coupon, CouponTemplate
from promotions.selectors.products import (
    FlashOffer,
    ProductCampaign,
    ShopperPrices,
    SkuRef,
    item_prices_for_shopper,
    product_prices_for_shopper,
    product_prices_version_keys,
)
from promotions.selectors.quote import (
    CartLine,
    LoadedQuote,
    quote_inputs_load,
)
from promotions.selectors.snapshot import (
    LIVE,
    PLATFORM_FIELDS,
    SNAPSHOT_SECONDS,
    CampaignRecord,
    FlashSkuRecord,
    PricingSnapshot,
    campaigns_live_queryset,
    coupon_scopes_changed,
    pricing_cache_changed,
    pricing_settings_for,
    pricing_snapshot,
)

# --- campaigns, coupon templates, coupons -------------------------------------------------


def campaigns_for_platform(*, tenant: Tenant, platform: str, now: datetime) -> list[Campaign]:
    """Live campaigns shown on ``platform`` (with their platform displays prefetched)."""
    field_name = PLATFORM_FIELDS.get(platform)
    if field_name is None:
        return []
    return list(
        campaigns_live_queryset(tenant=tenant, now=now)
        .filter(**{field_name: True})
        .prefetch_related("displays")
    )


def coupon_templates_claimable(*, tenant: Tenant, now: datetime) -> QuerySet[CouponTemplate]:
    """Public templates that can be claimed now and are not all claimed."""
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


__all__ = [
    "LIVE",
    "PLATFORM_FIELDS",
    "SNAPSHOT_SECONDS",
    "CampaignRecord",
    "CartLine",
    "FlashOffer",
    "FlashSkuRecord",
    "LoadedQuote",
    "PricingSnapshot",
    "ProductCampaign",
    "ShopperPrices",
    "SkuRef",
    "campaigns_for_platform",
    "campaigns_live_queryset",
    "coupon_scopes_changed",
    "coupon_templates_claimable",
    "coupons_of_member",
    "item_prices_for_shopper",
    "pricing_cache_changed",
    "pricing_settings_for",
    "pricing_snapshot",
    "product_prices_for_shopper",
    "product_prices_version_keys",
    "quote_inputs_load",
]
