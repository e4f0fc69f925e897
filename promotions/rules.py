"""Per-kind schemas of ``Campaign.rules`` (JSON) and their conversion into engine rules.

``validate_rules(kind, data)`` raises ``ValueError`` with a readable message on bad data and
returns the normalised JSON (decimals as strings); ``engine_rule(...)`` builds the engine's
frozen rule object from validated JSON plus what the database knows (gift stock, flash-sale
SKU prices). Unknown kinds are refused until their schema is added here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from promotions.pricing.types import (
    AddonOffer,
    AddonRule,
    CampaignKind,
    DiscountRule,
    DiscountTier,
    FlashSaleRule,
    FlashSaleSkuPrice,
    FreeShippingRule,
    FullReductionRule,
    GiftItem,
    GiftRule,
    ReductionTier,
    Rule,
)

MAX_AMOUNT = Decimal("9999999999.99")


def _amount(data: Mapping[str, Any], key: str, *, required: bool = True, positive: bool = False):
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise ValueError(f"'{key}' is required.")
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"'{key}' must be an amount.") from exc
    if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
        raise ValueError(f"'{key}' must be an amount between 0 and {MAX_AMOUNT}.")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError(f"'{key}' must have at most 2 decimals.")
    if positive and amount == 0:
        raise ValueError(f"'{key}' must be greater than 0.")
    return amount


def _int(data: Mapping[str, Any], key: str, *, default: int = 0, minimum: int = 0) -> int:
    value = data.get(key, default)
    if value is None:
        value = default
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"'{key}' must be a whole number >= {minimum}.")
    return value


def _rate(data: Mapping[str, Any], key: str) -> Decimal:
    rate = _amount(data, key)
    if rate is None or not Decimal("0") < rate < Decimal("1"):
        raise ValueError(f"'{key}' must be a fraction paid between 0 and 1 (0.90 = 10% off).")
    return rate


def _list(data: Mapping[str, Any], key: str, *, required: bool = True) -> list[Mapping[str, Any]]:
    value = data.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ValueError(f"'{key}' must be a list of objects.")
    if required and not value:
        raise ValueError(f"'{key}' needs at least one entry.")
    if len(value) > 50:
        raise ValueError(f"'{key}' has too many entries (at most 50).")
    return value


def _s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _full_reduction(data: Mapping[str, Any]) -> dict[str, Any]:
    tiers = [
        {
            "threshold": str(_amount(t, "threshold")),
            "reduction": str(_amount(t, "reduction", positive=True)),
        }
        for t in _list(data, "tiers", required=False)
    ]
    every = _amount(data, "repeat_every", required=False, positive=True)
    minus = _amount(data, "repeat_reduction", required=False, positive=True)
    if (every is None) != (minus is None):
        raise ValueError("'repeat_every' and 'repeat_reduction' go together.")
    if not tiers and every is None:
        raise ValueError("Give 'tiers' or 'repeat_every' with 'repeat_reduction'.")
    if tiers and every is not None:
        raise ValueError("A full reduction is either tiered or repeating, not both.")
    for tier in tiers:
        if Decimal(tier["reduction"]) > Decimal(tier["threshold"]) > 0:
            raise ValueError("A tier's reduction cannot exceed its threshold.")
    cap = _amount(data, "cap", required=False, positive=True)
    return {
        "tiers": sorted(tiers, key=lambda t: Decimal(t["threshold"])),
        "repeat_every": _s(every),
        "repeat_reduction": _s(minus),
        "cap": _s(cap),
    }


def _discount(data: Mapping[str, Any]) -> dict[str, Any]:
    tiers = []
    for tier in _list(data, "tiers"):
        tiers.append(
            {
                "rate": str(_rate(tier, "rate")),
                "min_quantity": _int(tier, "min_quantity"),
                "min_amount": str(_amount(tier, "min_amount", required=False) or Decimal("0")),
            }
        )
    return {"tiers": tiers}


def _sku_ids(items: list[Mapping[str, Any]]) -> None:
    ids = [_int(item, "sku_id", minimum=1) for item in items]
    if len(set(ids)) != len(ids):
        raise ValueError("Each SKU may appear once.")


def _gift(data: Mapping[str, Any]) -> dict[str, Any]:
    gifts = _list(data, "gifts")
    _sku_ids(gifts)
    return {
        "threshold": str(_amount(data, "threshold", required=False) or Decimal("0")),
        "min_quantity": _int(data, "min_quantity"),
        "gifts": [
            {"sku_id": g["sku_id"], "quantity": _int(g, "quantity", default=1, minimum=1)}
            for g in gifts
        ],
    }


def _addon(data: Mapping[str, Any]) -> dict[str, Any]:
    offers = _list(data, "offers")
    _sku_ids(offers)
    return {
        "threshold": str(_amount(data, "threshold")),
        "offers": [
            {
                "sku_id": o["sku_id"],
                "price": str(_amount(o, "price")),
                "max_quantity": _int(o, "max_quantity", default=1, minimum=1),
            }
            for o in offers
        ],
    }


def _member_price(data: Mapping[str, Any]) -> dict[str, Any]:
    prices = _list(data, "prices", required=False)
    _sku_ids(prices)
    rate = _rate(data, "rate") if data.get("rate") not in (None, "") else None
    if not prices and rate is None:
        raise ValueError("Give 'rate' (for the campaign's scope) or per-SKU 'prices'.")
    return {
        "rate": _s(rate),
        "prices": [{"sku_id": p["sku_id"], "price": str(_amount(p, "price"))} for p in prices],
    }


def _flash_sale(data: Mapping[str, Any]) -> dict[str, Any]:
    if data:
        raise ValueError("Flash-sale prices are set per SKU (FlashSaleSku), not in the rules.")
    return {}


def _free_shipping(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "threshold": str(_amount(data, "threshold", required=False) or Decimal("0")),
        "min_quantity": _int(data, "min_quantity"),
    }


SCHEMAS: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    CampaignKind.FULL_REDUCTION: _full_reduction,
    CampaignKind.DISCOUNT: _discount,
    CampaignKind.GIFT: _gift,
    CampaignKind.ADDON: _addon,
    CampaignKind.MEMBER_PRICE: _member_price,
    CampaignKind.FLASH_SALE: _flash_sale,
    CampaignKind.FREE_SHIPPING: _free_shipping,
}


def validate_rules(kind: str, data: Any) -> dict[str, Any]:
    """The normalised rules of a campaign of ``kind``; ``ValueError`` when they are invalid."""
    schema = SCHEMAS.get(kind)
    if schema is None:
        raise ValueError(f"Campaigns of kind '{kind}' are not supported yet.")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValueError("Rules must be a JSON object.")
    return schema(data)


def engine_rule(
    kind: str,
    rules: Mapping[str, Any],
    *,
    stock: Mapping[int, int],
    flash_prices: Mapping[int, FlashSaleSkuPrice],
) -> Rule | None:
    """The engine's rule object for validated ``rules`` (None for member-price campaigns,
    which the selector turns into per-SKU member prices)."""
    d = Decimal
    if kind == CampaignKind.FULL_REDUCTION:
        return FullReductionRule(
            tiers=tuple(
                ReductionTier(d(t["threshold"]), d(t["reduction"])) for t in rules["tiers"]
            ),
            repeat_every=d(rules["repeat_every"]) if rules.get("repeat_every") else None,
            repeat_reduction=d(rules["repeat_reduction"])
            if rules.get("repeat_reduction")
            else None,
            cap=d(rules["cap"]) if rules.get("cap") else None,
        )
    if kind == CampaignKind.DISCOUNT:
        return DiscountRule(
            tiers=tuple(
                DiscountTier(d(t["rate"]), t["min_quantity"], d(t["min_amount"]))
                for t in rules["tiers"]
            )
        )
    if kind == CampaignKind.GIFT:
        return GiftRule(
            threshold=d(rules["threshold"]),
            min_quantity=rules["min_quantity"],
            gifts=tuple(
                GiftItem(g["sku_id"], g["quantity"], stock.get(g["sku_id"], 0))
                for g in rules["gifts"]
            ),
        )
    if kind == CampaignKind.ADDON:
        return AddonRule(
            threshold=d(rules["threshold"]),
            offers=tuple(
                AddonOffer(o["sku_id"], d(o["price"]), o["max_quantity"]) for o in rules["offers"]
            ),
        )
    if kind == CampaignKind.FLASH_SALE:
        return FlashSaleRule(prices=flash_prices)
    if kind == CampaignKind.FREE_SHIPPING:
        return FreeShippingRule(threshold=d(rules["threshold"]), min_quantity=rules["min_quantity"])
    return None


def referenced_sku_ids(kind: str, rules: Mapping[str, Any]) -> set[int]:
    """SKUs a campaign's rules name (gifts, add-on offers, member prices)."""
    key = {"gift": "gifts", "addon": "offers", "member_price": "prices"}.get(kind)
    if key is None:
        return set()
    return {int(item["sku_id"]) for item in rules.get(key, [])}
