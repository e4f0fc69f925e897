"""Inputs and outputs of the pricing engine: dataclasses, no Django.

Rules, campaigns, settings and the quote itself are frozen. Values built per line, per
coupon or per adjustment on every quote (lines, adjustments, problems, ...) are plain slotted
dataclasses: a frozen dataclass costs about five times as much to build, and the engine never
changes a value once built.

Rates are fractions of the price paid (``Decimal("0.90")`` = 10% off); amounts are Decimal CNY.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

ZERO = Decimal("0.00")


def _frozen_map(value: Mapping | None) -> Mapping:
    return MappingProxyType(dict(value or {}))


class CampaignKind(StrEnum):
    """Open set: seckill, group buy and bargain arrive later and price as item-level kinds."""

    FULL_REDUCTION = "full_reduction"
    DISCOUNT = "discount"
    GIFT = "gift"
    ADDON = "addon"
    MEMBER_PRICE = "member_price"
    FLASH_SALE = "flash_sale"
    FREE_SHIPPING = "free_shipping"


# Item-level price sources; a line carries at most one of them (exclusive, best price wins).
ITEM_TIER = "tier_price"
ITEM_MEMBER = "member_price"
ITEM_FLASH = "flash_sale"
ITEM_CARD = "card_price"
ITEM_KINDS = frozenset({ITEM_TIER, ITEM_MEMBER, ITEM_FLASH, ITEM_CARD})

# Which item-level and order-level kinds a campaign stacks with when it declares nothing.
# Chinese-mall defaults: member and card prices still count toward full reduction / discounts,
# flash-sale lines do not; full reduction and discount campaigns exclude each other; gifts,
# add-ons and free shipping stack with everything.
DEFAULT_STACKS_WITH: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        CampaignKind.FULL_REDUCTION: frozenset({ITEM_TIER, ITEM_MEMBER, ITEM_CARD}),
        CampaignKind.DISCOUNT: frozenset({ITEM_TIER, ITEM_MEMBER, ITEM_CARD}),
        CampaignKind.GIFT: frozenset(
            {ITEM_TIER, ITEM_MEMBER, ITEM_CARD, ITEM_FLASH, "full_reduction", "discount"}
        ),
        CampaignKind.ADDON: frozenset({ITEM_TIER, ITEM_MEMBER, ITEM_CARD, "full_reduction"}),
        CampaignKind.FREE_SHIPPING: frozenset(
            {ITEM_TIER, ITEM_MEMBER, ITEM_CARD, ITEM_FLASH, "full_reduction", "discount"}
        ),
    }
)


@dataclass(frozen=True)
class Scope:
    """Which lines a campaign or coupon covers. Empty sets with ``all_items`` = everything."""

    all_items: bool = True
    product_ids: frozenset[int] = frozenset()
    category_ids: frozenset[int] = frozenset()
    sku_ids: frozenset[int] = frozenset()
    excluded_product_ids: frozenset[int] = frozenset()

    def covers(self, line: LineInput) -> bool:
        if line.product_id in self.excluded_product_ids:
            return False
        if self.all_items:
            return True
        return (
            line.sku_id in self.sku_ids
            or line.product_id in self.product_ids
            or bool(self.category_ids & line.category_ids)
        )


@dataclass(slots=True)
class LineInput:
    sku_id: int
    product_id: int
    unit_price: Decimal
    quantity: int
    category_ids: frozenset[int] = frozenset()  # the product's category and its ancestors
    weight_grams: int = 0
    title: str = ""
    # Set when the shopper picked this line as an add-on purchase offer of that campaign.
    addon_campaign_id: int | None = None


@dataclass(frozen=True)
class MemberContext:
    member_id: int | None = None
    tier_discount_rate: Decimal | None = None  # e.g. 0.95: the tier pays 95%
    member_prices: Mapping[int, Decimal] = field(default_factory=dict)  # sku_id -> price
    card_price_rate: Decimal | None = None  # paid member card, e.g. 0.90
    points_balance: int = 0
    # The tier's or the running card's free-shipping benefit: the adjustment kind recorded
    # (``tier_free_shipping`` / ``card_free_shipping``); None: none.
    free_shipping: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "member_prices", _frozen_map(self.member_prices))


# --- campaign rules (one per kind) ------------------------------------------------------


@dataclass(frozen=True)
class ReductionTier:
    threshold: Decimal
    reduction: Decimal


@dataclass(frozen=True)
class FullReductionRule:
    """Tiered ("over 199 minus 30, over 299 minus 50") or repeating ("every 100 minus 10")."""

    tiers: tuple[ReductionTier, ...] = ()
    repeat_every: Decimal | None = None
    repeat_reduction: Decimal | None = None
    cap: Decimal | None = None


@dataclass(frozen=True)
class DiscountTier:
    rate: Decimal  # fraction paid, 0 < rate < 1
    min_quantity: int = 0
    min_amount: Decimal = ZERO


@dataclass(frozen=True)
class DiscountRule:
    """Quantity/amount discount: "2 items 10% off", "over 300 at 85%"; the best tier met."""

    tiers: tuple[DiscountTier, ...]


@dataclass(frozen=True)
class GiftItem:
    sku_id: int
    quantity: int
    stock: int  # what is left to give (the SKU's stock); gifts are given while stock lasts


@dataclass(frozen=True)
class GiftRule:
    threshold: Decimal = ZERO
    min_quantity: int = 0
    gifts: tuple[GiftItem, ...] = ()


@dataclass(frozen=True)
class AddonOffer:
    sku_id: int
    price: Decimal
    max_quantity: int = 1


@dataclass(frozen=True)
class AddonRule:
    """ "Over 99, add item X for 9.90": offers priced when the eligible lines reach threshold."""

    threshold: Decimal
    offers: tuple[AddonOffer, ...]


@dataclass(frozen=True)
class FlashSaleSkuPrice:
    price: Decimal
    quota_left: int
    per_member_limit: int = 0  # 0: no limit
    member_bought: int = 0


@dataclass(frozen=True)
class FlashSaleRule:
    prices: Mapping[int, FlashSaleSkuPrice]

    def __post_init__(self) -> None:
        object.__setattr__(self, "prices", _frozen_map(self.prices))


@dataclass(frozen=True)
class FreeShippingRule:
    threshold: Decimal = ZERO
    min_quantity: int = 0


Rule = FullReductionRule | DiscountRule | GiftRule | AddonRule | FlashSaleRule | FreeShippingRule


@dataclass(frozen=True)
class CampaignInput:
    id: int
    kind: str
    name: str
    starts_at: datetime
    ends_at: datetime
    status: str  # draft / scheduled / active / ended / cancelled
    rule: Rule | None
    scope: Scope = Scope()
    platforms: frozenset[str] = frozenset()  # empty: every platform
    priority: int = 0
    # None: DEFAULT_STACKS_WITH of its kind. Item-level names and order-level kinds.
    stacks_with: frozenset[str] | None = None
    budget_remaining: Decimal | None = None  # None: no budget

    def stacking(self) -> frozenset[str]:
        if self.stacks_with is not None:
            return self.stacks_with
        return DEFAULT_STACKS_WITH.get(self.kind, frozenset())


class CouponKind(StrEnum):
    FIXED = "fixed"  # no threshold, amount off
    THRESHOLD = "threshold"  # over X minus Y
    PERCENT = "percent"  # percent off, with a cap
    SHIPPING = "shipping"  # off the shipping fee (amount None: all of it)


@dataclass(slots=True)
class CouponInput:
    id: int
    kind: str
    name: str
    valid_from: datetime
    valid_until: datetime
    status: str = "unused"
    amount: Decimal | None = None
    percent_off: Decimal | None = None  # 15 = 15% off
    max_discount: Decimal | None = None
    threshold: Decimal = ZERO
    scope: Scope = Scope()
    template_id: int | None = None


@dataclass(frozen=True)
class PricingSettings:
    """The tenant's stacking rules and points rate (see docs/pricing.md)."""

    points_per_yuan: int = 100  # 100 points = 1.00
    points_max_share: Decimal = Decimal("0.50")  # of the goods payable after coupons
    max_goods_coupons: int = 1
    max_shipping_coupons: int = 1
    coupons_with_campaigns: bool = True  # coupons on lines a full reduction/discount touched
    coupons_on_flash_sale: bool = False


@dataclass(slots=True)
class ShippingLine:
    """What a freight calculator sees of a line: goods amount after campaigns and coupons."""

    sku_id: int
    product_id: int
    quantity: int
    weight_grams: int
    amount: Decimal


@dataclass(frozen=True)
class ShippingResult:
    fee: Decimal
    deliverable: bool = True
    free: bool = False  # made free by the freight template's own threshold


@dataclass(frozen=True)
class ShippingInput:
    """Either a precomputed fee (with an optional free-shipping threshold on the goods payable)
    or a pure ``calculator`` called with the lines' goods amounts after coupons (e.g. the
    catalog's freight templates per province)."""

    fee: Decimal = ZERO
    free_threshold: Decimal | None = None
    deliverable: bool = True
    calculator: Callable[[tuple[ShippingLine, ...]], ShippingResult] | None = None


@dataclass(frozen=True)
class QuoteInput:
    lines: tuple[LineInput, ...]
    now: datetime
    platform: str = "wechat"
    member: MemberContext = MemberContext()
    campaigns: tuple[CampaignInput, ...] = ()
    coupons: tuple[CouponInput, ...] = ()
    points_to_use: int = 0
    settings: PricingSettings = PricingSettings()
    fulfillment: str = "express"
    shipping: ShippingInput = ShippingInput()


# --- output ------------------------------------------------------------------------------


@dataclass(slots=True)
class Adjustment:
    """One part of a line's reduction: ``source`` is item/campaign/coupon/points."""

    source: str
    kind: str
    ref_id: int | None
    amount: Decimal


@dataclass(slots=True)
class QuoteLine:
    sku_id: int
    quantity: int
    unit_price: Decimal
    item_price: Decimal  # unit price after the item-level price (member/flash/card)
    subtotal: Decimal  # unit_price * quantity
    discount: Decimal  # item + campaigns + coupons (not points)
    goods_payable: Decimal  # subtotal - discount
    points_deduction: Decimal
    shipping_fee: Decimal  # this line's share of the order's shipping fee
    payable: Decimal  # goods_payable - points_deduction + shipping_fee
    breakdown: tuple[Adjustment, ...]
    addon_campaign_id: int | None = None


@dataclass(slots=True)
class AppliedPromotion:
    source: str  # item / campaign / coupon / shipping
    kind: str
    ref_id: int | None
    name: str
    amount: Decimal


@dataclass(slots=True)
class GiftLine:
    sku_id: int
    quantity: int
    campaign_id: int


@dataclass(slots=True)
class Problem:
    code: str
    message: str
    campaign_id: int | None = None
    coupon_id: int | None = None
    sku_id: int | None = None


@dataclass(frozen=True)
class Quote:
    lines: tuple[QuoteLine, ...]
    promotions: tuple[AppliedPromotion, ...]
    subtotal: Decimal
    discount_total: Decimal
    shipping_fee_original: Decimal
    shipping_discount: Decimal
    shipping_fee: Decimal
    points_deduction: Decimal
    points_used: int
    payable: Decimal
    gifts: tuple[GiftLine, ...]
    problems: tuple[Problem, ...]
    used_coupon_ids: tuple[int, ...] = ()
    # campaign id -> discount given (checkout consumes the budgets with these)
    campaign_discounts: tuple[tuple[int, Decimal], ...] = ()
