"""The prices and campaigns of the catalog's shopper product pages (``catalog.hooks``).

Catalog sits below promotions and never imports it: ``PromotionsConfig.ready()`` registers
``ProductPricing`` as catalog's ``ShopperPricing``, over the product-page selectors
(``promotions.selectors.products``; docs/pricing.md, "Product pages").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from rest_framework import serializers

from catalog.hooks import DetailPricing, SkuPrice
from promotions.selectors import (
    ProductCampaign,
    SkuRef,
    item_prices_for_shopper,
    product_prices_for_shopper,
    product_prices_version_keys,
)

_datetime = serializers.DateTimeField()


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _campaign(c: ProductCampaign) -> dict[str, Any]:
    return {
        "id": c.id,
        "kind": c.kind,
        "name": c.name,
        "title": c.title,
        "banner": c.banner,
        "starts_at": _datetime.to_representation(c.starts_at),
        "ends_at": _datetime.to_representation(c.ends_at),
        "rules": c.rules,
        "flash_skus": [
            {
                "sku_id": f.sku_id,
                "price": _money(f.price),
                "quota_left": f.quota_left,
                "per_member_limit": f.per_member_limit,
            }
            for f in c.flash_skus
        ],
    }


class ProductPricing:
    def list_version_keys(self, tenant_id: int) -> Sequence[str]:
        return product_prices_version_keys(tenant_id)

    def list_prices(
        self,
        *,
        tenant: Any,
        platform: str,
        member: Any,
        product_ids: Iterable[int],
        now: datetime,
        versions: Sequence[int],
    ) -> Mapping[int, Decimal]:
        return product_prices_for_shopper(
            tenant=tenant,
            platform=platform,
            member=member,
            product_ids=product_ids,
            now=now,
            versions=versions,
        )

    def detail_pricing(
        self, *, tenant: Any, platform: str, member: Any, detail: Mapping[str, Any], now: datetime
    ) -> DetailPricing:
        priced = item_prices_for_shopper(
            tenant=tenant,
            platform=platform,
            member=member,
            skus=[
                SkuRef(
                    sku_id=sku["id"],
                    product_id=detail["id"],
                    price=Decimal(sku["price"]),
                    category_id=detail["category_id"],
                )
                for sku in detail["skus"]
            ],
            now=now,
            with_campaigns=True,
        )
        return DetailPricing(
            sku_prices={
                sku_id: SkuPrice(price=offer.price, source=offer.kind, campaign_id=offer.ref_id)
                for sku_id, offer in priced.prices.items()
            },
            campaigns=[_campaign(c) for c in priced.campaigns],
        )
