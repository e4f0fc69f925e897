"""Per-kind schemas of ``Campaign.rules`` (JSON) and their conversion into engine rules.

``validate_rules(kind, data)`` raises ``RulesError`` (a ``ValueError``) with a readable message
naming the entry ("Tier 2: ...") on bad data and returns the normalised JSON (decimals as
strings); the console's typed campaign form builds the JSON and calls it too.
``engine_rule(...)`` builds the engine's frozen rule object from validated JSON plus what the
database knows (gift stock, flash-sale SKU prices). Unknown kinds are refused until their
schema is added here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

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


class RulesError(ValueError):
    """Invalid campaign rules. ``key`` is the top-level rules key concerned (``tiers``,
    ``threshold``...), ``row`` the 0-based entry of a list key, ``item`` the entry's own key.
    The message names the entry ("Tier 2: reduction must be greater than 0.") so the console
    can show it next to the typed field and any other caller gets the same words."""

    def __init__(
        self, message: str, *, key: str | None = None, row: int | None = None, item: str = ""
    ) -> None:
        super().__init__(message)
        self.message = message
        self.key = key
        self.row = row
        self.item = item


# What a merchant calls the entries of each list key, and the keys themselves.
ROW_NOUNS: dict[str, Any] = {
    "tiers": _lazy("Tier"),
    "gifts": _lazy("Gift"),
    "offers": _lazy("Add-on offer"),
    "prices": _lazy("Member price"),
}
KEY_LABELS: dict[str, Any] = {
    "threshold": _lazy("threshold"),
    "reduction": _lazy("reduction"),
    "repeat_every": _lazy("repeat every"),
    "repeat_reduction": _lazy("repeat reduction"),
    "cap": _lazy("cap"),
    "rate": _lazy("rate"),
    "min_quantity": _lazy("minimum quantity"),
    "min_amount": _lazy("minimum amount"),
    "sku_id": _lazy("SKU"),
    "quantity": _lazy("quantity"),
    "price": _lazy("price"),
    "max_quantity": _lazy("maximum quantity"),
    "tiers": _lazy("tiers"),
    "gifts": _lazy("gifts"),
    "offers": _lazy("offers"),
    "prices": _lazy("prices"),
}


def _label(key: str) -> str:
    return str(KEY_LABELS.get(key, key))


def _row_error(list_key: str, index: int, message: str, item: str = "") -> RulesError:
    """``message`` about entry ``index`` (0-based) of ``list_key``, prefixed "Tier 2: "."""
    noun = ROW_NOUNS.get(list_key, list_key)
    return RulesError(
        _("%(noun)s %(number)d: %(message)s")
        % {"noun": noun, "number": index + 1, "message": message},
        key=list_key,
        row=index,
        item=item,
    )


def _rows(
    data: Mapping[str, Any], list_key: str, parse: Callable[[Mapping[str, Any]], Any]
) -> list[Any]:
    """``parse`` applied to every entry of ``data[list_key]``; its errors name the entry."""
    out = []
    for index, entry in enumerate(_list(data, list_key, required=False)):
        try:
            out.append(parse(entry))
        except RulesError as exc:
            raise _row_error(list_key, index, exc.message, exc.key or "") from exc
    return out


def _amount(data: Mapping[str, Any], key: str, *, required: bool = True, positive: bool = False):
    value = data.get(key)
    label = _label(key)
    if value is None or value == "":
        if required:
            raise RulesError(_("%(field)s is required.") % {"field": label}, key=key)
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise RulesError(_("%(field)s must be an amount.") % {"field": label}, key=key) from exc
    if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
        raise RulesError(
            _("%(field)s must be an amount between 0 and %(max)s.")
            % {"field": label, "max": MAX_AMOUNT},
            key=key,
        )
    if amount != amount.quantize(Decimal("0.01")):
        raise RulesError(_("%(field)s must have at most 2 decimals.") % {"field": label}, key=key)
    if positive and amount == 0:
        raise RulesError(_("%(field)s must be greater than 0.") % {"field": label}, key=key)
    return amount


def _int(data: Mapping[str, Any], key: str, *, default: int = 0, minimum: int = 0) -> int:
    value = data.get(key, default)
    if value is None:
        value = default
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise RulesError(
            _("%(field)s must be a whole number >= %(minimum)d.")
            % {"field": _label(key), "minimum": minimum},
            key=key,
        )
    return value


def _rate(data: Mapping[str, Any], key: str) -> Decimal:
    rate = _amount(data, key)
    if rate is None or not Decimal("0") < rate < Decimal("1"):
        raise RulesError(
            _("%(field)s must be a fraction paid between 0 and 1 (0.90 = 10%% off).")
            % {"field": _label(key)},
            key=key,
        )
    return rate


def _list(data: Mapping[str, Any], key: str, *, required: bool = True) -> list[Mapping[str, Any]]:
    value = data.get(key) or []
    label = _label(key)
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise RulesError(_("%(field)s must be a list of objects.") % {"field": label}, key=key)
    if required and not value:
        raise RulesError(_("%(field)s: add at least one entry.") % {"field": label}, key=key)
    if len(value) > 50:
        raise RulesError(
            _("%(field)s has too many entries (at most 50).") % {"field": label}, key=key
        )
    return value


def _s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _reduction_tier(tier: Mapping[str, Any]) -> dict[str, str]:
    threshold = _amount(tier, "threshold")
    reduction = _amount(tier, "reduction", positive=True)
    if reduction > threshold > 0:
        raise RulesError(
            _("the reduction cannot exceed the threshold (%(threshold)s).")
            % {"threshold": threshold},
            key="reduction",
        )
    return {"threshold": str(threshold), "reduction": str(reduction)}


def _full_reduction(data: Mapping[str, Any]) -> dict[str, Any]:
    tiers = _rows(data, "tiers", _reduction_tier)
    # In the order given: each tier asks more and gives more than the one before (the engine
    # applies the highest tier reached, so a tier giving less would punish spending more).
    for index in range(1, len(tiers)):
        before, tier = tiers[index - 1], tiers[index]
        if Decimal(tier["threshold"]) <= Decimal(before["threshold"]):
            raise _row_error(
                "tiers",
                index,
                _("threshold must be greater than tier %(number)d's (%(amount)s).")
                % {"number": index, "amount": before["threshold"]},
                "threshold",
            )
        if Decimal(tier["reduction"]) <= Decimal(before["reduction"]):
            raise _row_error(
                "tiers",
                index,
                _("reduction must be greater than tier %(number)d's (%(amount)s).")
                % {"number": index, "amount": before["reduction"]},
                "reduction",
            )
    every = _amount(data, "repeat_every", required=False, positive=True)
    minus = _amount(data, "repeat_reduction", required=False, positive=True)
    if (every is None) != (minus is None):
        raise RulesError(
            _("Repeat every and repeat reduction go together."),
            key="repeat_reduction" if minus is None else "repeat_every",
        )
    if not tiers and every is None:
        raise RulesError(_("Give tiers, or repeat every with repeat reduction."), key="tiers")
    if tiers and every is not None:
        raise RulesError(
            _("A full reduction is either tiered or repeating, not both."), key="repeat_every"
        )
    cap = _amount(data, "cap", required=False, positive=True)
    return {
        "tiers": tiers,
        "repeat_every": _s(every),
        "repeat_reduction": _s(minus),
        "cap": _s(cap),
    }


def _discount_tier(tier: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "rate": str(_rate(tier, "rate")),
        "min_quantity": _int(tier, "min_quantity"),
        "min_amount": str(_amount(tier, "min_amount", required=False) or Decimal("0")),
    }


def _discount(data: Mapping[str, Any]) -> dict[str, Any]:
    _list(data, "tiers")
    return {"tiers": _rows(data, "tiers", _discount_tier)}


def _sku_ids(list_key: str, items: list[Mapping[str, Any]]) -> None:
    seen: set[int] = set()
    for index, item in enumerate(items):
        try:
            sku_id = _int(item, "sku_id", minimum=1)
        except RulesError as exc:
            raise _row_error(list_key, index, exc.message, "sku_id") from exc
        if sku_id in seen:
            raise _row_error(list_key, index, _("this SKU is already listed above."), "sku_id")
        seen.add(sku_id)


def _gift(data: Mapping[str, Any]) -> dict[str, Any]:
    gifts = _list(data, "gifts")
    _sku_ids("gifts", gifts)
    return {
        "threshold": str(_amount(data, "threshold", required=False) or Decimal("0")),
        "min_quantity": _int(data, "min_quantity"),
        "gifts": _rows(
            data,
            "gifts",
            lambda g: {
                "sku_id": g["sku_id"],
                "quantity": _int(g, "quantity", default=1, minimum=1),
            },
        ),
    }


def _addon(data: Mapping[str, Any]) -> dict[str, Any]:
    offers = _list(data, "offers")
    _sku_ids("offers", offers)
    return {
        "threshold": str(_amount(data, "threshold")),
        "offers": _rows(
            data,
            "offers",
            lambda o: {
                "sku_id": o["sku_id"],
                "price": str(_amount(o, "price")),
                "max_quantity": _int(o, "max_quantity", default=1, minimum=1),
            },
        ),
    }


def _member_price(data: Mapping[str, Any]) -> dict[str, Any]:
    prices = _list(data, "prices", required=False)
    _sku_ids("prices", prices)
    rate = _rate(data, "rate") if data.get("rate") not in (None, "") else None
    if not prices and rate is None:
        raise RulesError(
            _("Give a rate (for the campaign's scope) or member prices per SKU."), key="prices"
        )
    return {
        "rate": _s(rate),
        "prices": _rows(
            data, "prices", lambda p: {"sku_id": p["sku_id"], "price": str(_amount(p, "price"))}
        ),
    }


def _flash_sale(data: Mapping[str, Any]) -> dict[str, Any]:
    if data:
        raise RulesError(
            _("Flash-sale prices are set per SKU (flash-sale SKU rows), not in the rules.")
        )
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
    """The normalised rules of a campaign of ``kind``; ``RulesError`` (a ``ValueError``)
    naming the entry and key when they are invalid."""
    schema = SCHEMAS.get(kind)
    if schema is None:
        raise RulesError(_("Campaigns of kind '%(kind)s' are not supported yet.") % {"kind": kind})
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise RulesError(_("Rules must be a JSON object."))
    try:
        return schema(data)
    except RulesError as exc:
        if exc.row is None:  # "threshold is required." -> "Threshold is required."
            exc.message = capfirst(exc.message)
            exc.args = (exc.message,)
        raise


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
