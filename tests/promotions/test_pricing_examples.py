"""The worked examples of docs/pricing.md, one test each (the table mirrors the doc)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from promotions.pricing import (
    AddonOffer,
    AddonRule,
    CampaignInput,
    CouponInput,
    DiscountRule,
    DiscountTier,
    FlashSaleRule,
    FlashSaleSkuPrice,
    FreeShippingRule,
    FullReductionRule,
    GiftItem,
    GiftRule,
    LineInput,
    MemberContext,
    QuoteInput,
    ReductionTier,
    Scope,
    ShippingInput,
    quote,
)

NOW = datetime(2025, 6, 1, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
START = NOW - timedelta(days=1)
END = NOW + timedelta(days=1)

# The catalogue of the examples: sku -> (product, categories incl. ancestors, unit price).
CATALOGUE = {
    1: (10, frozenset({100, 1}), D("100.00")),
    2: (20, frozenset({200, 2}), D("59.90")),
    3: (30, frozenset({100, 1}), D("35.00")),
    9: (90, frozenset({900}), D("29.90")),
}


def line(sku: int, quantity: int, addon: int | None = None) -> LineInput:
    product, categories, price = CATALOGUE[sku]
    return LineInput(
        sku_id=sku,
        product_id=product,
        unit_price=price,
        quantity=quantity,
        category_ids=categories,
        addon_campaign_id=addon,
    )


def campaign(cid: int, kind: str, rule: object, **kw: object) -> CampaignInput:
    defaults: dict = {"starts_at": START, "ends_at": END, "status": "active", "name": f"C{cid}"}
    defaults.update(kw)
    return CampaignInput(id=cid, kind=kind, rule=rule, **defaults)  # type: ignore[arg-type]


def coupon(cid: int, kind: str, **kw: object) -> CouponInput:
    defaults: dict = {"valid_from": START, "valid_until": END, "name": f"Coupon {cid}"}
    defaults.update(kw)
    return CouponInput(id=cid, kind=kind, **defaults)  # type: ignore[arg-type]


OVER_199_MINUS_30 = FullReductionRule(tiers=(ReductionTier(D("199"), D("30")),))
TIERED = FullReductionRule(
    tiers=(ReductionTier(D("199"), D("30")), ReductionTier(D("299"), D("50")))
)


@dataclass
class Example:
    lines: list[LineInput]
    subtotal: str
    discount_total: str
    payable: str
    line_payables: list[str]
    shipping_fee: str = "0.00"
    points_deduction: str = "0.00"
    campaigns: list[CampaignInput] = field(default_factory=list)
    coupons: list[CouponInput] = field(default_factory=list)
    member: MemberContext = field(default_factory=MemberContext)
    points: int = 0
    shipping: ShippingInput = field(default_factory=ShippingInput)
    gifts: list[tuple[int, int]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    used_coupons: list[int] = field(default_factory=list)


EXAMPLES: dict[str, Example] = {
    "E1 no promotion, shipping allocated": Example(
        lines=[line(1, 2), line(2, 1)],
        shipping=ShippingInput(fee=D("10.00")),
        subtotal="259.90",
        discount_total="0.00",
        shipping_fee="10.00",
        payable="269.90",
        line_payables=["207.70", "62.20"],
    ),
    "E2 tiered full reduction, first tier": Example(
        lines=[line(1, 2), line(2, 1)],
        campaigns=[campaign(1, "full_reduction", TIERED)],
        subtotal="259.90",
        discount_total="30.00",
        payable="229.90",
        line_payables=["176.91", "52.99"],
    ),
    "E3 tiered full reduction, second tier": Example(
        lines=[line(1, 3)],
        campaigns=[campaign(1, "full_reduction", TIERED)],
        subtotal="300.00",
        discount_total="50.00",
        payable="250.00",
        line_payables=["250.00"],
    ),
    "E4 repeating full reduction with cap": Example(
        lines=[line(3, 1), line(1, 3)],
        campaigns=[
            campaign(
                1,
                "full_reduction",
                FullReductionRule(repeat_every=D("100"), repeat_reduction=D("10"), cap=D("25")),
            )
        ],
        subtotal="335.00",
        discount_total="25.00",
        payable="310.00",
        line_payables=["277.61", "32.39"],
    ),
    "E5 full reduction threshold not met": Example(
        lines=[line(2, 1)],
        campaigns=[campaign(1, "full_reduction", OVER_199_MINUS_30)],
        subtotal="59.90",
        discount_total="0.00",
        payable="59.90",
        line_payables=["59.90"],
        problems=["campaign_threshold_not_met"],
    ),
    "E6 quantity discount on a category": Example(
        lines=[line(1, 1), line(2, 1), line(3, 1)],
        campaigns=[
            campaign(
                1,
                "discount",
                DiscountRule(tiers=(DiscountTier(rate=D("0.90"), min_quantity=2),)),
                scope=Scope(all_items=False, category_ids=frozenset({100})),
            )
        ],
        subtotal="194.90",
        discount_total="13.50",
        payable="181.40",
        line_payables=["90.00", "59.90", "31.50"],
    ),
    "E7 amount discount, best tier": Example(
        lines=[line(1, 3)],
        campaigns=[
            campaign(
                1,
                "discount",
                DiscountRule(
                    tiers=(
                        DiscountTier(rate=D("0.90"), min_amount=D("200")),
                        DiscountTier(rate=D("0.85"), min_amount=D("300")),
                    )
                ),
            )
        ],
        subtotal="300.00",
        discount_total="45.00",
        payable="255.00",
        line_payables=["255.00"],
    ),
    "E8 item price: best of tier, member and card price": Example(
        lines=[line(1, 1), line(2, 2)],
        member=MemberContext(
            member_id=7,
            tier_discount_rate=D("0.95"),
            member_prices={1: D("88.00")},
            card_price_rate=D("0.90"),
        ),
        subtotal="219.80",
        discount_total="23.98",
        payable="195.82",
        line_payables=["88.00", "107.82"],
    ),
    "E9 flash-sale line does not count toward full reduction": Example(
        lines=[line(1, 2), line(2, 2)],
        campaigns=[
            campaign(1, "full_reduction", OVER_199_MINUS_30),
            campaign(
                2,
                "flash_sale",
                FlashSaleRule(prices={2: FlashSaleSkuPrice(D("39.90"), 100, 2)}),
            ),
        ],
        subtotal="319.80",
        discount_total="70.00",
        payable="249.80",
        line_payables=["170.00", "79.80"],
    ),
    "E10 flash-sale per-member limit exceeded": Example(
        lines=[line(2, 3)],
        campaigns=[
            campaign(
                2,
                "flash_sale",
                FlashSaleRule(prices={2: FlashSaleSkuPrice(D("39.90"), 100, 2)}),
            )
        ],
        subtotal="179.70",
        discount_total="0.00",
        payable="179.70",
        line_payables=["179.70"],
        problems=["flash_sale_limit_exceeded"],
    ),
    "E11 full reduction configured to include flash-sale lines": Example(
        lines=[line(1, 2), line(2, 2)],
        campaigns=[
            campaign(
                1,
                "full_reduction",
                OVER_199_MINUS_30,
                stacks_with=frozenset({"flash_sale", "member_price"}),
            ),
            campaign(
                2,
                "flash_sale",
                FlashSaleRule(prices={2: FlashSaleSkuPrice(D("39.90"), 100, 2)}),
            ),
        ],
        subtotal="319.80",
        discount_total="70.00",
        payable="249.80",
        line_payables=["178.56", "71.24"],
    ),
    "E12 gift with purchase": Example(
        lines=[line(1, 2)],
        campaigns=[
            campaign(1, "gift", GiftRule(threshold=D("150"), gifts=(GiftItem(50, 1, stock=5),)))
        ],
        subtotal="200.00",
        discount_total="0.00",
        payable="200.00",
        line_payables=["200.00"],
        gifts=[(50, 1)],
    ),
    "E13 gift out of stock": Example(
        lines=[line(1, 2)],
        campaigns=[
            campaign(1, "gift", GiftRule(threshold=D("150"), gifts=(GiftItem(50, 1, stock=0),)))
        ],
        subtotal="200.00",
        discount_total="0.00",
        payable="200.00",
        line_payables=["200.00"],
        problems=["gift_out_of_stock"],
    ),
    "E14 add-on purchase": Example(
        lines=[line(1, 1), line(9, 1, addon=1)],
        campaigns=[
            campaign(1, "addon", AddonRule(threshold=D("99"), offers=(AddonOffer(9, D("9.90")),)))
        ],
        subtotal="129.90",
        discount_total="20.00",
        payable="109.90",
        line_payables=["100.00", "9.90"],
    ),
    "E15 add-on threshold not met": Example(
        lines=[line(2, 1), line(9, 1, addon=1)],
        campaigns=[
            campaign(1, "addon", AddonRule(threshold=D("99"), offers=(AddonOffer(9, D("9.90")),)))
        ],
        subtotal="89.80",
        discount_total="0.00",
        payable="89.80",
        line_payables=["59.90", "29.90"],
        problems=["addon_threshold_not_met"],
    ),
    "E16 threshold coupon after full reduction": Example(
        lines=[line(1, 2), line(2, 1)],
        campaigns=[campaign(1, "full_reduction", OVER_199_MINUS_30)],
        coupons=[coupon(5, "threshold", threshold=D("150"), amount=D("20"))],
        subtotal="259.90",
        discount_total="50.00",
        payable="209.90",
        line_payables=["161.52", "48.38"],
        used_coupons=[5],
    ),
    "E17 percent coupon with cap": Example(
        lines=[line(1, 2)],
        coupons=[coupon(5, "percent", percent_off=D("20"), max_discount=D("30"))],
        subtotal="200.00",
        discount_total="30.00",
        payable="170.00",
        line_payables=["170.00"],
        used_coupons=[5],
    ),
    "E18 best coupon wins, the other not stackable; excluded product": Example(
        lines=[line(1, 1), line(2, 1)],
        coupons=[
            coupon(5, "fixed", amount=D("10"), scope=Scope(excluded_product_ids=frozenset({10}))),
            coupon(6, "threshold", threshold=D("50"), amount=D("15")),
        ],
        subtotal="159.90",
        discount_total="15.00",
        payable="144.90",
        line_payables=["90.62", "54.28"],
        problems=["coupon_not_stackable"],
        used_coupons=[6],
    ),
    "E19 expired coupon": Example(
        lines=[line(2, 1)],
        coupons=[coupon(5, "fixed", amount=D("10"), valid_until=NOW - timedelta(seconds=1))],
        subtotal="59.90",
        discount_total="0.00",
        payable="59.90",
        line_payables=["59.90"],
        problems=["coupon_expired"],
    ),
    "E20 points capped at half the payable": Example(
        lines=[line(2, 1)],
        member=MemberContext(member_id=7, points_balance=5000),
        points=3000,
        subtotal="59.90",
        discount_total="0.00",
        points_deduction="29.95",
        payable="29.95",
        line_payables=["29.95"],
        problems=["points_capped"],
    ),
    "E21 shipping free by the template threshold": Example(
        lines=[line(1, 1)],
        shipping=ShippingInput(fee=D("12.00"), free_threshold=D("99")),
        subtotal="100.00",
        discount_total="0.00",
        payable="100.00",
        line_payables=["100.00"],
    ),
    "E22 shipping coupon below the free-shipping threshold": Example(
        lines=[line(2, 1)],
        shipping=ShippingInput(fee=D("12.00"), free_threshold=D("99")),
        coupons=[coupon(5, "shipping", amount=D("10"))],
        subtotal="59.90",
        discount_total="0.00",
        shipping_fee="2.00",
        payable="61.90",
        line_payables=["61.90"],
        used_coupons=[5],
    ),
    "E23 free-shipping campaign on a category": Example(
        lines=[line(2, 1)],
        shipping=ShippingInput(fee=D("10.00")),
        campaigns=[
            campaign(
                1,
                "free_shipping",
                FreeShippingRule(threshold=D("50")),
                scope=Scope(all_items=False, category_ids=frozenset({200})),
            )
        ],
        subtotal="59.90",
        discount_total="0.00",
        payable="59.90",
        line_payables=["59.90"],
    ),
    "E24 campaign budget would be exceeded": Example(
        lines=[line(1, 2)],
        campaigns=[campaign(1, "full_reduction", OVER_199_MINUS_30, budget_remaining=D("20"))],
        subtotal="200.00",
        discount_total="0.00",
        payable="200.00",
        line_payables=["200.00"],
        problems=["campaign_budget_exhausted"],
    ),
    "E25 campaigns outside their window or cancelled never apply": Example(
        lines=[line(1, 2)],
        campaigns=[
            campaign(1, "full_reduction", OVER_199_MINUS_30, ends_at=NOW),
            campaign(2, "full_reduction", OVER_199_MINUS_30, starts_at=NOW + timedelta(minutes=1)),
            campaign(3, "full_reduction", OVER_199_MINUS_30, status="cancelled"),
            campaign(4, "full_reduction", OVER_199_MINUS_30, status="draft"),
        ],
        subtotal="200.00",
        discount_total="0.00",
        payable="200.00",
        line_payables=["200.00"],
    ),
    "E26 everything together": Example(
        lines=[line(1, 2), line(3, 1)],
        member=MemberContext(member_id=7, member_prices={1: D("88.00")}, points_balance=1000),
        campaigns=[
            campaign(1, "full_reduction", FullReductionRule(tiers=(ReductionTier(D(150), D(20)),)))
        ],
        coupons=[coupon(5, "threshold", threshold=D("100"), amount=D("10"))],
        points=1000,
        shipping=ShippingInput(fee=D("8.00"), free_threshold=D("199")),
        subtotal="235.00",
        discount_total="54.00",
        shipping_fee="8.00",
        points_deduction="10.00",
        payable="179.00",
        line_payables=["149.45", "29.55"],
        used_coupons=[5],
    ),
}


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_worked_example(name: str) -> None:
    ex = EXAMPLES[name]
    result = quote(
        QuoteInput(
            lines=tuple(ex.lines),
            now=NOW,
            member=ex.member,
            campaigns=tuple(ex.campaigns),
            coupons=tuple(ex.coupons),
            points_to_use=ex.points,
            shipping=ex.shipping,
        )
    )
    assert result.subtotal == D(ex.subtotal)
    assert result.discount_total == D(ex.discount_total)
    assert result.shipping_fee == D(ex.shipping_fee)
    assert result.points_deduction == D(ex.points_deduction)
    assert result.payable == D(ex.payable)
    assert [ln.payable for ln in result.lines] == [D(p) for p in ex.line_payables]
    assert [(g.sku_id, g.quantity) for g in result.gifts] == ex.gifts
    assert sorted(p.code for p in result.problems) == sorted(ex.problems)
    assert list(result.used_coupon_ids) == ex.used_coupons
