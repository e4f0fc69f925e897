"""The pricing engine: ``quote(inputs) -> Quote``, pure (no database, no clock, no I/O).

Order of application (docs/pricing.md):
1. item price, exclusive per line: the lowest of tier price, per-SKU member price, flash-sale
   price and paid-card price;
2. order-level campaigns on their eligible lines: add-on purchase (on the cart amounts), then full
   reduction and discount campaigns by priority, then gifts (on the amounts after reductions);
3. coupons, in the tenant's stacking rules;
4. points deduction, capped at a share of the goods payable;
5. shipping: the template fee, free by the template threshold, the member's tier or card, or a
   free-shipping campaign, else reduced by a shipping coupon.
Every reduction is allocated to lines exactly (largest remainder); the result does not depend
on the order of the input lines.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal
from typing import Protocol

from django.utils.translation import gettext

from mall.money import ZERO, allocate, quantize, quantize_down, to_fen
from promotions.pricing.types import (
    ITEM_CARD,
    ITEM_FLASH,
    ITEM_MEMBER,
    ITEM_TIER,
    AddonRule,
    Adjustment,
    AppliedPromotion,
    CampaignInput,
    CampaignKind,
    CouponInput,
    CouponKind,
    DiscountRule,
    FlashSaleRule,
    FreeShippingRule,
    FullReductionRule,
    GiftLine,
    GiftRule,
    LineInput,
    Problem,
    Quote,
    QuoteInput,
    QuoteLine,
    ShippingLine,
)

LIVE_STATUSES = frozenset({"scheduled", "active"})
ORDER_LEVEL_KINDS = (CampaignKind.FULL_REDUCTION, CampaignKind.DISCOUNT)
# On equal prices the earlier source wins (deterministic).
ITEM_SOURCE_ORDER = (ITEM_FLASH, ITEM_MEMBER, ITEM_CARD, ITEM_TIER)


class Scheduled(Protocol):
    """What the read-time check looks at (a ``CampaignInput`` or a cached campaign record)."""

    @property
    def status(self) -> str: ...
    @property
    def starts_at(self) -> datetime: ...
    @property
    def ends_at(self) -> datetime: ...
    @property
    def platforms(self) -> frozenset[str]: ...


def campaign_is_live(campaign: Scheduled, *, now: datetime, platform: str | None) -> bool:
    """Read-time check: within [starts_at, ends_at), not draft/ended/cancelled, on the platform."""
    if campaign.status not in LIVE_STATUSES:
        return False
    if not (campaign.starts_at <= now < campaign.ends_at):
        return False
    return not (platform and campaign.platforms and platform not in campaign.platforms)


@dataclass(slots=True)
class ItemPrice:
    """The item-level price a line gets: ``kind`` is its source (flash_sale, member_price,
    card_price, tier_price), ``ref_id`` the flash-sale campaign."""

    kind: str
    price: Decimal
    ref_id: int | None


@dataclass
class _Work:
    line: LineInput
    item_price: Decimal
    amount: Decimal  # current goods payable of the line
    item_kind: str | None = None
    adjustments: list[Adjustment] = field(default_factory=list)
    # The order-level campaigns applied to the line (``_Pricer.apply``), as what stacking
    # needs: their kinds, and the kinds that every one of them stacks with (None: none yet).
    applied_kinds: set[str] = field(default_factory=set)
    stackable: frozenset[str] | None = None
    addon_applied: bool = False
    points: Decimal = ZERO
    shipping: Decimal = ZERO
    subtotal: Decimal = ZERO  # list price x quantity, to the fen


class _Pricer:
    def __init__(self, inputs: QuoteInput) -> None:
        self.inputs = inputs
        self.problems: list[Problem] = []
        self.promotions: list[AppliedPromotion] = []
        self.gifts: list[GiftLine] = []
        self.campaign_given: dict[int, Decimal] = {}
        self.used_coupons: list[int] = []
        live = [
            c
            for c in inputs.campaigns
            if campaign_is_live(c, now=inputs.now, platform=inputs.platform)
        ]
        self.campaigns = sorted(live, key=lambda c: (-c.priority, c.id))
        self.campaign_by_id = {c.id: c for c in self.campaigns}
        self.stacking_of = {c.id: c.stacking() for c in self.campaigns}
        self.covered: dict[int, list[_Work]] = {}  # campaign id -> lines its scope covers
        self.coupon_covered: dict[int, list[_Work]] = {}  # coupon id -> lines its scope covers
        self.flash_campaigns = [c for c in self.campaigns if c.kind == CampaignKind.FLASH_SALE]
        self.work = [
            _Work(
                line=line,
                item_price=quantize(line.unit_price),
                amount=quantize(line.unit_price * line.quantity),
                subtotal=quantize(line.unit_price * line.quantity),
            )
            for line in _merge_lines(inputs.lines)
        ]

    # --- helpers --------------------------------------------------------------------------

    def problem(self, code: str, message: str, **refs: int | None) -> None:
        self.problems.append(Problem(code=code, message=message, **refs))

    def budget_allows(self, campaign: CampaignInput, amount: Decimal) -> bool:
        if campaign.budget_remaining is None:
            return True
        given = self.campaign_given.get(campaign.id, ZERO)
        return given + amount <= campaign.budget_remaining

    def give(self, campaign: CampaignInput, amount: Decimal) -> None:
        self.campaign_given[campaign.id] = self.campaign_given.get(campaign.id, ZERO) + amount

    def reduce(
        self, works: list[_Work], total: Decimal, *, source: str, kind: str, ref_id: int | None
    ) -> None:
        """Allocate ``total`` over ``works`` by their current amounts and record it."""
        parts = allocate(total, [w.amount for w in works])
        for w, part in zip(works, parts, strict=True):
            if part:
                w.amount -= part
                w.adjustments.append(Adjustment(source, kind, ref_id, part))

    def stacking(self, campaign: CampaignInput) -> frozenset[str]:
        allowed = self.stacking_of.get(campaign.id)
        return campaign.stacking() if allowed is None else allowed

    def apply(self, campaign: CampaignInput, w: _Work) -> None:
        w.applied_kinds.add(campaign.kind)
        allowed = self.stacking(campaign)
        w.stackable = allowed if w.stackable is None else w.stackable & allowed

    def eligible(self, campaign: CampaignInput) -> list[_Work]:
        """The lines ``campaign`` applies to now: in its scope, not add-on lines, and stacking
        with the line's item-level price and, both ways, with every campaign applied to it."""
        # The scope never changes during a quote: which lines it covers is worked out once.
        covered = self.covered.get(campaign.id)
        if covered is None:
            covered = [
                w
                for w in self.work
                if w.line.addon_campaign_id is None and campaign.scope.covers(w.line)
            ]
            self.covered[campaign.id] = covered
        allowed, kind = self.stacking(campaign), campaign.kind
        return [
            w
            for w in covered
            if not w.addon_applied
            and (w.item_kind is None or w.item_kind in allowed)
            and (w.stackable is None or (kind in w.stackable and w.applied_kinds <= allowed))
        ]

    # --- 1. item price --------------------------------------------------------------------

    def best_item_price(self, line: LineInput) -> ItemPrice | None:
        """Rule 1: the lowest of tier, member, flash-sale and card prices, if below the list
        price (ties: ``ITEM_SOURCE_ORDER``); None when the list price stands."""
        member = self.inputs.member
        candidates: dict[str, tuple[Decimal, int | None]] = {}
        if member.tier_discount_rate is not None:
            candidates[ITEM_TIER] = (quantize(line.unit_price * member.tier_discount_rate), None)
        if line.sku_id in member.member_prices:
            candidates[ITEM_MEMBER] = (quantize(member.member_prices[line.sku_id]), None)
        if member.card_price_rate is not None:
            candidates[ITEM_CARD] = (quantize(line.unit_price * member.card_price_rate), None)
        flash_price = self.flash_price(self.flash_campaigns, line)
        if flash_price is not None:
            candidates[ITEM_FLASH] = flash_price
        best: ItemPrice | None = None
        for kind in ITEM_SOURCE_ORDER:
            if kind in candidates:
                price, ref = candidates[kind]
                if price < line.unit_price and (best is None or price < best.price):
                    best = ItemPrice(kind, price, ref)
        return best

    def item_prices(self) -> None:
        for w in self.work:
            line = w.line
            best = self.best_item_price(line)
            if best is None:
                continue
            kind, price, ref = best.kind, best.price, best.ref_id
            reduction = quantize((line.unit_price - price) * line.quantity)
            w.item_kind, w.item_price = kind, price
            w.amount -= reduction
            w.adjustments.append(Adjustment("item", kind, ref, reduction))
            if kind == ITEM_FLASH and ref is not None:
                self.give(self.campaign_by_id[ref], reduction)
            self.record("item", kind, ref, reduction)

    def flash_price(
        self, campaigns: list[CampaignInput], line: LineInput
    ) -> tuple[Decimal, int | None] | None:
        best: tuple[Decimal, int | None] | None = None
        for c in campaigns:
            rule = c.rule
            if not isinstance(rule, FlashSaleRule) or line.sku_id not in rule.prices:
                continue
            if line.addon_campaign_id is not None:
                continue
            offer = rule.prices[line.sku_id]
            refs = {"campaign_id": c.id, "sku_id": line.sku_id}
            if line.quantity > offer.quota_left:
                self.problem(
                    "flash_sale_sold_out",
                    gettext("Only %(n)d left at the flash-sale price.")
                    % {"n": max(offer.quota_left, 0)},
                    **refs,
                )
                continue
            if offer.per_member_limit and (
                offer.member_bought + line.quantity > offer.per_member_limit
            ):
                self.problem(
                    "flash_sale_limit_exceeded",
                    gettext("At most %(n)d per member at the flash-sale price.")
                    % {"n": offer.per_member_limit},
                    **refs,
                )
                continue
            reduction = quantize((line.unit_price - offer.price) * line.quantity)
            if not self.budget_allows(c, reduction):
                self.problem(
                    "campaign_budget_exhausted",
                    gettext("The campaign's budget is used up."),
                    **refs,
                )
                continue
            price = quantize(offer.price)
            if best is None or price < best[0]:
                best = (price, c.id)
        return best

    # --- 2. order-level campaigns ---------------------------------------------------------

    def addons(self) -> None:
        for w in self.work:
            campaign_id = w.line.addon_campaign_id
            if campaign_id is None:
                continue
            refs = {"campaign_id": campaign_id, "sku_id": w.line.sku_id}
            campaign = self.campaign_by_id.get(campaign_id)
            rule = campaign.rule if campaign is not None else None
            offer = None
            if isinstance(rule, AddonRule) and campaign is not None:
                offer = next((o for o in rule.offers if o.sku_id == w.line.sku_id), None)
            if campaign is None or offer is None or not isinstance(rule, AddonRule):
                self.problem(
                    "addon_unavailable", gettext("This add-on offer is not available."), **refs
                )
                continue
            base = self.eligible(campaign)
            amount = sum((x.amount for x in base), ZERO)
            if not base or amount < rule.threshold:
                self.problem(
                    "addon_threshold_not_met",
                    gettext("Spend %(more)s more on eligible items to add this item for %(price)s.")
                    % {"more": quantize(rule.threshold - amount), "price": quantize(offer.price)},
                    **refs,
                )
                continue
            quantity = min(w.line.quantity, offer.max_quantity)
            if w.line.quantity > offer.max_quantity:
                self.problem(
                    "addon_quantity_limited",
                    gettext("At most %(n)d at the add-on price; the rest at full price.")
                    % {"n": offer.max_quantity},
                    **refs,
                )
            reduction = quantize((w.item_price - quantize(offer.price)) * quantity)
            if reduction <= 0:
                continue
            if not self.budget_allows(campaign, reduction):
                self.problem(
                    "campaign_budget_exhausted",
                    gettext("The campaign's budget is used up."),
                    **refs,
                )
                continue
            w.amount -= reduction
            w.addon_applied = True
            self.apply(campaign, w)
            w.adjustments.append(Adjustment("campaign", campaign.kind, campaign.id, reduction))
            self.give(campaign, reduction)
            self.record("campaign", campaign.kind, campaign.id, reduction, campaign.name)

    def reductions(self) -> None:
        for campaign in self.campaigns:
            if campaign.kind not in ORDER_LEVEL_KINDS:
                continue
            works = self.eligible(campaign)
            if not works:
                continue
            amount = sum((w.amount for w in works), ZERO)
            quantity = sum(w.line.quantity for w in works)
            rule = campaign.rule
            if isinstance(rule, FullReductionRule):
                reduction, hint = _full_reduction(rule, amount)
            elif isinstance(rule, DiscountRule):
                reduction, hint = _discount(rule, amount, quantity)
            else:
                continue
            reduction = min(reduction, amount)
            if reduction <= 0:
                self.problem("campaign_threshold_not_met", hint, campaign_id=campaign.id)
                continue
            if not self.budget_allows(campaign, reduction):
                self.problem(
                    "campaign_budget_exhausted",
                    gettext("The campaign's budget is used up."),
                    campaign_id=campaign.id,
                )
                continue
            self.reduce(works, reduction, source="campaign", kind=campaign.kind, ref_id=campaign.id)
            for w in works:
                self.apply(campaign, w)
            self.give(campaign, reduction)
            self.record("campaign", campaign.kind, campaign.id, reduction, campaign.name)

    def gift_campaigns(self) -> None:
        given: dict[int, int] = {}
        for campaign in self.campaigns:
            rule = campaign.rule
            if campaign.kind != CampaignKind.GIFT or not isinstance(rule, GiftRule):
                continue
            works = self.eligible(campaign)
            if not works:
                continue
            amount = sum((w.amount for w in works), ZERO)
            quantity = sum(w.line.quantity for w in works)
            if amount < rule.threshold or quantity < rule.min_quantity:
                self.problem(
                    "campaign_threshold_not_met",
                    _gift_hint(rule, amount, quantity),
                    campaign_id=campaign.id,
                )
                continue
            any_given = False
            for gift in sorted(rule.gifts, key=lambda g: g.sku_id):
                left = gift.stock - given.get(gift.sku_id, 0)
                count = max(0, min(gift.quantity, left))
                if count < gift.quantity:
                    self.problem(
                        "gift_out_of_stock",
                        gettext("The gift is out of stock.")
                        if count == 0
                        else gettext("Only part of the gift is left in stock."),
                        campaign_id=campaign.id,
                        sku_id=gift.sku_id,
                    )
                if count:
                    given[gift.sku_id] = given.get(gift.sku_id, 0) + count
                    self.gifts.append(GiftLine(gift.sku_id, count, campaign.id))
                    any_given = True
            if any_given:
                for w in works:
                    self.apply(campaign, w)
                self.record("campaign", campaign.kind, campaign.id, ZERO, campaign.name)

    # --- 3. coupons -----------------------------------------------------------------------

    def coupon_lines(self, coupon: CouponInput) -> list[_Work]:
        settings = self.inputs.settings
        covered = self.coupon_covered.get(coupon.id)
        if covered is None:
            covered = [w for w in self.work if coupon.scope.covers(w.line)]
            self.coupon_covered[coupon.id] = covered
        result = []
        for w in covered:
            if w.addon_applied or w.amount <= 0:
                continue
            if w.item_kind == ITEM_FLASH and not settings.coupons_on_flash_sale:
                continue
            touched = not w.applied_kinds.isdisjoint(ORDER_LEVEL_KINDS)
            if touched and not settings.coupons_with_campaigns:
                continue
            result.append(w)
        return result

    def coupon_valid(self, coupon: CouponInput) -> bool:
        now = self.inputs.now
        if coupon.status != "unused":
            self.problem(
                f"coupon_{coupon.status}" if coupon.status else "coupon_unavailable",
                f"This coupon is {coupon.status or 'unavailable'}.",
                coupon_id=coupon.id,
            )
            return False
        if now < coupon.valid_from:
            self.problem(
                "coupon_not_started", gettext("This coupon is not valid yet."), coupon_id=coupon.id
            )
            return False
        if now >= coupon.valid_until:
            self.problem("coupon_expired", gettext("This coupon has expired."), coupon_id=coupon.id)
            return False
        return True

    def coupon_discount(
        self, coupon: CouponInput, *, report: bool, works: list[_Work] | None = None
    ) -> Decimal:
        """What ``coupon`` takes off the lines it may use (``works``, else worked out)."""
        if works is None:
            works = self.coupon_lines(coupon)
        amount = sum((w.amount for w in works), ZERO)
        if not works:
            if report:
                self.problem(
                    "coupon_no_eligible_items",
                    gettext("No item in the cart can use this coupon."),
                    coupon_id=coupon.id,
                )
            return ZERO
        if amount < coupon.threshold:
            if report:
                self.problem(
                    "coupon_threshold_not_met",
                    gettext("Spend %(more)s more on eligible items to use this coupon.")
                    % {"more": quantize(coupon.threshold - amount)},
                    coupon_id=coupon.id,
                )
            return ZERO
        if coupon.kind == CouponKind.PERCENT:
            discount = quantize(amount * (coupon.percent_off or ZERO) / 100)
            if coupon.max_discount is not None:
                discount = min(discount, coupon.max_discount)
        else:
            discount = coupon.amount or ZERO
        return min(quantize(discount), amount)

    def coupons(self) -> None:
        goods: list[CouponInput] = []
        for coupon in _unique_coupons(self.inputs.coupons):
            if coupon.kind == CouponKind.SHIPPING or not self.coupon_valid(coupon):
                continue
            goods.append(coupon)
        # Best first: the largest discount on the current amounts, then the lowest id.
        ranked = sorted(goods, key=lambda c: (-self.coupon_discount(c, report=False), c.id))
        applied = 0
        for coupon in ranked:
            works = self.coupon_lines(coupon)
            discount = self.coupon_discount(coupon, report=True, works=works)
            if discount <= 0:
                continue
            if applied >= self.inputs.settings.max_goods_coupons:
                self.problem(
                    "coupon_not_stackable",
                    gettext("This coupon cannot be combined with the other coupon chosen."),
                    coupon_id=coupon.id,
                )
                continue
            self.reduce(works, discount, source="coupon", kind=coupon.kind, ref_id=coupon.id)
            self.used_coupons.append(coupon.id)
            self.record("coupon", coupon.kind, coupon.id, discount, coupon.name)
            applied += 1

    # --- 4. points ------------------------------------------------------------------------

    def points(self) -> tuple[Decimal, int]:
        requested = self.inputs.points_to_use
        if requested <= 0:
            return ZERO, 0
        settings = self.inputs.settings
        balance = self.inputs.member.points_balance
        if requested > balance:
            self.problem(
                "points_insufficient",
                gettext("Only %(n)d points are available; using those.") % {"n": balance},
            )
            requested = balance
        goods = sum((w.amount for w in self.work), ZERO)
        rate = settings.points_per_yuan
        if rate <= 0:
            return ZERO, 0
        max_fen = to_fen(quantize_down(goods * settings.points_max_share))
        max_points = max_fen * rate // 100
        used = min(requested, max_points)
        if used < requested:
            self.problem(
                "points_capped",
                gettext("Points may pay at most %(amount)s.")
                % {"amount": quantize_down(goods * settings.points_max_share)},
            )
        deduction_fen = used * 100 // rate
        # The fewest points that buy this deduction (no point is spent for nothing).
        used = int((Decimal(deduction_fen * rate) / 100).to_integral_value(ROUND_CEILING))
        deduction = Decimal(deduction_fen) / 100
        deduction = quantize(deduction)
        if deduction <= 0:
            return ZERO, 0
        works = [w for w in self.work if w.amount > 0]
        for w, part in zip(works, allocate(deduction, [w.amount for w in works]), strict=True):
            w.points = part
            if part:
                w.adjustments.append(Adjustment("points", "points", None, part))
        return deduction, used

    # --- 5. shipping ----------------------------------------------------------------------

    def shipping(self) -> tuple[Decimal, Decimal]:
        """(original fee, discount) for the order."""
        inputs = self.inputs
        shipping_coupons = [
            c for c in _unique_coupons(inputs.coupons) if c.kind == CouponKind.SHIPPING
        ]
        if inputs.fulfillment == "pickup":
            for coupon in shipping_coupons:
                self.problem(
                    "coupon_not_applicable",
                    gettext("Store pickup has no shipping fee."),
                    coupon_id=coupon.id,
                )
            return ZERO, ZERO
        goods = sum((w.amount for w in self.work), ZERO)
        calculator = inputs.shipping.calculator
        if calculator is not None:
            result = calculator(
                tuple(
                    ShippingLine(
                        w.line.sku_id,
                        w.line.product_id,
                        w.line.quantity,
                        w.line.weight_grams,
                        w.amount,
                    )
                    for w in self.work
                )
            )
            fee, deliverable, template_free = quantize(result.fee), result.deliverable, result.free
            threshold = None
        else:
            fee, deliverable = quantize(inputs.shipping.fee), inputs.shipping.deliverable
            threshold, template_free = inputs.shipping.free_threshold, False
        if not deliverable:
            self.problem(
                "undeliverable", gettext("These items cannot be delivered to this address.")
            )
        free = fee <= 0
        if template_free or (not free and threshold is not None and goods >= threshold):
            free = True
            self.record("shipping", "free_shipping_threshold", None, fee, "Free shipping")
        if not free and inputs.member.free_shipping:
            # The member's tier or paid card ships free (before campaigns and coupons).
            free = True
            self.record("shipping", inputs.member.free_shipping, None, fee, "Free shipping")
        if not free:
            for campaign in self.campaigns:
                rule = campaign.rule
                if campaign.kind != CampaignKind.FREE_SHIPPING or not isinstance(
                    rule, FreeShippingRule
                ):
                    continue
                works = self.eligible(campaign)
                if not works:
                    continue
                amount = sum((w.amount for w in works), ZERO)
                quantity = sum(w.line.quantity for w in works)
                if amount >= rule.threshold and quantity >= rule.min_quantity:
                    free = True
                    self.record("shipping", campaign.kind, campaign.id, fee, campaign.name)
                    break
                self.problem(
                    "campaign_threshold_not_met",
                    gettext("Spend %(more)s more for free shipping.")
                    % {"more": quantize(max(rule.threshold - amount, ZERO))},
                    campaign_id=campaign.id,
                )
        if free:
            for coupon in shipping_coupons:
                self.problem(
                    "coupon_not_applicable",
                    gettext("Shipping is already free."),
                    coupon_id=coupon.id,
                )
            return fee, fee
        discount = ZERO
        applied = 0
        for coupon in sorted(shipping_coupons, key=lambda c: c.id):
            if not self.coupon_valid(coupon):
                continue
            if goods < coupon.threshold:
                self.problem(
                    "coupon_threshold_not_met",
                    gettext("Spend %(more)s more to use this coupon.")
                    % {"more": quantize(coupon.threshold - goods)},
                    coupon_id=coupon.id,
                )
                continue
            if applied >= inputs.settings.max_shipping_coupons:
                self.problem(
                    "coupon_not_stackable",
                    gettext("Only one shipping coupon per order."),
                    coupon_id=coupon.id,
                )
                continue
            amount = fee - discount if coupon.amount is None else min(coupon.amount, fee - discount)
            discount += amount
            applied += 1
            self.used_coupons.append(coupon.id)
            self.record("coupon", coupon.kind, coupon.id, amount, coupon.name)
        return fee, discount

    def record(
        self, source: str, kind: str, ref_id: int | None, amount: Decimal, name: str = ""
    ) -> None:
        for index, promo in enumerate(self.promotions):
            if (promo.source, promo.kind, promo.ref_id) == (source, kind, ref_id):
                self.promotions[index] = AppliedPromotion(
                    source, kind, ref_id, promo.name, promo.amount + amount
                )
                return
        self.promotions.append(AppliedPromotion(source, kind, ref_id, name or kind, amount))

    # --- the whole quote ------------------------------------------------------------------

    def run(self) -> Quote:
        self.item_prices()
        self.addons()
        self.reductions()
        self.gift_campaigns()
        self.coupons()
        points_deduction, points_used = self.points()
        shipping_original, shipping_discount = self.shipping()
        shipping_fee = shipping_original - shipping_discount
        weights = [w.subtotal for w in self.work]
        for w, part in zip(self.work, allocate(shipping_fee, weights), strict=True):
            w.shipping = part
        lines = tuple(_quote_line(w) for w in self.work)
        subtotal = sum((ln.subtotal for ln in lines), ZERO)
        discount_total = sum((ln.discount for ln in lines), ZERO)
        payable = sum((ln.payable for ln in lines), ZERO)
        return Quote(
            lines=lines,
            promotions=tuple(self.promotions),
            subtotal=subtotal,
            discount_total=discount_total,
            shipping_fee_original=shipping_original,
            shipping_discount=shipping_discount,
            shipping_fee=shipping_fee,
            points_deduction=points_deduction,
            points_used=points_used,
            payable=payable,
            gifts=tuple(sorted(self.gifts, key=lambda g: (g.campaign_id, g.sku_id))),
            problems=tuple(self.problems),
            used_coupon_ids=tuple(sorted(self.used_coupons)),
            campaign_discounts=tuple(sorted((k, v) for k, v in self.campaign_given.items() if v)),
        )


def _quote_line(w: _Work) -> QuoteLine:
    goods_payable = w.amount
    return QuoteLine(
        sku_id=w.line.sku_id,
        quantity=w.line.quantity,
        unit_price=quantize(w.line.unit_price),
        item_price=w.item_price,
        subtotal=w.subtotal,
        discount=w.subtotal - goods_payable,
        goods_payable=goods_payable,
        points_deduction=w.points,
        shipping_fee=w.shipping,
        payable=goods_payable - w.points + w.shipping,
        breakdown=tuple(w.adjustments),
        addon_campaign_id=w.line.addon_campaign_id,
    )


def _merge_lines(lines: Iterable[LineInput]) -> list[LineInput]:
    """One line per (SKU, add-on campaign), quantities added, sorted: order-independent."""
    merged: dict[tuple[int, int], LineInput] = {}
    for line in lines:
        if line.quantity <= 0:
            raise ValueError(f"Quantity must be positive (SKU {line.sku_id}).")
        if line.unit_price < 0:
            raise ValueError(f"Price must not be negative (SKU {line.sku_id}).")
        key = (line.sku_id, line.addon_campaign_id or 0)
        if key in merged:
            first = merged[key]
            merged[key] = LineInput(
                sku_id=first.sku_id,
                product_id=first.product_id,
                unit_price=first.unit_price,
                quantity=first.quantity + line.quantity,
                category_ids=first.category_ids,
                weight_grams=first.weight_grams,
                title=first.title,
                addon_campaign_id=first.addon_campaign_id,
            )
        else:
            merged[key] = line
    return [merged[key] for key in sorted(merged)]


def _unique_coupons(coupons: Iterable[CouponInput]) -> list[CouponInput]:
    return sorted({c.id: c for c in coupons}.values(), key=lambda c: c.id)


def _full_reduction(rule: FullReductionRule, amount: Decimal) -> tuple[Decimal, str]:
    reduction = ZERO
    hint = gettext("The cart does not reach the campaign's threshold.")
    met = [t for t in rule.tiers if amount >= t.threshold]
    if met:
        reduction = max(t.reduction for t in met)
    elif rule.tiers:
        lowest = min(rule.tiers, key=lambda t: t.threshold)
        hint = gettext("Spend %(more)s more to get %(off)s off.") % {
            "more": quantize(lowest.threshold - amount),
            "off": quantize(lowest.reduction),
        }
    if rule.repeat_every and rule.repeat_reduction and rule.repeat_every > 0:
        times = int((amount / rule.repeat_every).to_integral_value(rounding=ROUND_DOWN))
        reduction = max(reduction, rule.repeat_reduction * times)
        if times == 0:
            hint = gettext("Spend %(more)s more to get %(off)s off.") % {
                "more": quantize(rule.repeat_every - amount),
                "off": quantize(rule.repeat_reduction),
            }
    if rule.cap is not None:
        reduction = min(reduction, rule.cap)
    return quantize(reduction), hint


def _discount(rule: DiscountRule, amount: Decimal, quantity: int) -> tuple[Decimal, str]:
    met = [t for t in rule.tiers if quantity >= t.min_quantity and amount >= t.min_amount]
    if not met:
        return ZERO, gettext("The cart does not reach the campaign's discount threshold.")
    rate = min(t.rate for t in met)
    return amount - quantize(amount * rate), ""


def _gift_hint(rule: GiftRule, amount: Decimal, quantity: int) -> str:
    if amount < rule.threshold:
        return gettext("Spend %(more)s more to get the gift.") % {
            "more": quantize(rule.threshold - amount)
        }
    return gettext("Buy %(n)d more to get the gift.") % {"n": rule.min_quantity - quantity}


def quote(inputs: QuoteInput) -> Quote:
    """Price a cart. Pure: the same inputs always give the same quote."""
    return _Pricer(inputs).run()


def item_prices(inputs: QuoteInput) -> dict[int, ItemPrice]:
    """Rule 1 alone, each line on its own: SKU id -> its best item-level price for the member
    (absent when the list price stands). The same rules as ``quote`` (flash-sale quota and
    member limit for the line's quantity, budgets, the window and platform at ``inputs.now``);
    for showing prices, e.g. one line of quantity 1 per SKU of a product page."""
    pricer = _Pricer(inputs)
    result = {}
    for w in pricer.work:
        best = pricer.best_item_price(w.line)
        if best is not None:
            result[w.line.sku_id] = best
    return result
