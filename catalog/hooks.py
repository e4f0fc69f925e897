"""What catalog asks of the apps above it (see docs/architecture.md, "Layers").

Catalog never imports a higher app. The shopper's product list and detail show the caller's
price after item-level promotions (flash sale, member price ...) and the campaigns live on the
product, which only ``promotions`` knows: it registers a ``ShopperPricing`` here in its
``AppConfig.ready()`` (``promotions.api.product_pricing``). Without one, the pages show list
prices and no campaigns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol


@dataclass(frozen=True)
class SkuPrice:
    """A SKU's item-level price for the caller now."""

    price: Decimal
    source: str  # what gives it (flash_sale, member_price ...): the detail's ``price_source``
    campaign_id: int | None  # the campaign behind it, if one: ``price_campaign_id``


@dataclass(frozen=True)
class DetailPricing:
    sku_prices: Mapping[int, SkuPrice] = field(default_factory=dict)  # absent: list price
    campaigns: Sequence[Mapping[str, Any]] = ()  # as the detail answers ``campaigns[]``


class ShopperPricing(Protocol):
    def list_version_keys(self, tenant_id: int) -> Sequence[str]:
        """Cache version keys ``list_prices`` needs; the list reads them in the same round
        trip as its cached page and passes their values as ``versions``."""
        ...

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
        """Product id -> its lowest SKU price for the caller, for the products that have an
        item-level price now (the others keep their list price)."""
        ...

    def detail_pricing(
        self, *, tenant: Any, platform: str, member: Any, detail: Mapping[str, Any], now: datetime
    ) -> DetailPricing:
        """The caller's SKU prices and the live campaigns of the (cached, member-independent)
        product detail ``detail``."""
        ...


class ListPrices:
    """No pricing registered: every SKU at its list price, no campaigns."""

    def list_version_keys(self, tenant_id: int) -> Sequence[str]:
        return ()

    def list_prices(self, **kwargs: Any) -> Mapping[int, Decimal]:
        return {}

    def detail_pricing(self, **kwargs: Any) -> DetailPricing:
        return DetailPricing()


_shopper_pricing: ShopperPricing = ListPrices()


def register_shopper_pricing(pricing: ShopperPricing) -> None:
    global _shopper_pricing
    _shopper_pricing = pricing


def shopper_pricing() -> ShopperPricing:
    return _shopper_pricing
