"""Property tests of the pricing engine over random carts and rule sets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

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
    PricingSettings,
    QuoteInput,
    ReductionTier,
    Scope,
    ShippingInput,
    quote,
)

NOW = datetime(2025, 6, 1, 4, 0, tzinfo=UTC)
SKUS = list(range(1, 9))

money = st.integers(min_value=0, max_value=50_000).map(lambda fen: D(fen) / 100)
positive_money = st.integers(min_value=1, max_value=50_000).map(lambda fen: D(fen) / 100)
rate = st.integers(min_value=1, max_value=99).map(lambda pct: D(pct) / 100)
sku = st.sampled_from(SKUS)


def product_of(sku_id: int) -> int:
    return sku_id * 10


scopes = st.one_of(
    st.just(Scope()),
    st.builds(
        lambda skus, cats, excl: Scope(
            all_items=False,
            sku_ids=frozenset(skus),
            category_ids=frozenset(cats),
            excluded_product_ids=frozenset(product_of(s) for s in excl),
        ),
        st.sets(sku, max_size=4),
        st.sets(st.sampled_from([100, 200]), max_size=2),
        st.sets(sku, max_size=2),
    ),
)

rules = st.one_of(
    st.builds(
        lambda tiers, cap: FullReductionRule(
            tiers=tuple(ReductionTier(t, r) for t, r in tiers), cap=cap
        ),
        st.lists(st.tuples(money, positive_money), min_size=1, max_size=3),
        st.none() | positive_money,
    ),
    st.builds(
        lambda every, minus, cap: FullReductionRule(
            repeat_every=every, repeat_reduction=minus, cap=cap
        ),
        positive_money,
        positive_money,
        st.none() | positive_money,
    ),
    st.builds(
        lambda tiers: DiscountRule(tiers=tuple(tiers)),
        st.lists(
            st.builds(
                DiscountTier,
                rate=rate,
                min_quantity=st.integers(0, 5),
                min_amount=money,
            ),
            min_size=1,
            max_size=3,
        ),
    ),
    st.builds(
        lambda threshold, gifts: GiftRule(threshold=threshold, gifts=tuple(gifts)),
        money,
        st.lists(st.builds(GiftItem, sku, st.integers(1, 3), st.integers(0, 5)), max_size=2),
    ),
    st.builds(
        lambda threshold, offers: AddonRule(threshold=threshold, offers=tuple(offers)),
        money,
        st.lists(st.builds(AddonOffer, sku, money, st.integers(1, 3)), min_size=1, max_size=2),
    ),
    st.builds(
        lambda prices: FlashSaleRule(prices=prices),
        st.dictionaries(
            sku,
            st.builds(
                FlashSaleSkuPrice, money, st.integers(0, 10), st.integers(0, 3), st.integers(0, 2)
            ),
            max_size=3,
        ),
    ),
    st.builds(FreeShippingRule, money, st.integers(0, 3)),
)

KIND_OF = {
    FullReductionRule: "full_reduction",
    DiscountRule: "discount",
    GiftRule: "gift",
    AddonRule: "addon",
    FlashSaleRule: "flash_sale",
    FreeShippingRule: "free_shipping",
}


@st.composite
def campaigns(draw: st.DrawFn, cid: int) -> CampaignInput:
    rule = draw(rules)
    start_offset = draw(st.integers(-3, 1))
    return CampaignInput(
        id=cid,
        kind=KIND_OF[type(rule)],
        name=f"C{cid}",
        starts_at=NOW + timedelta(days=start_offset),
        ends_at=NOW + timedelta(days=start_offset + draw(st.integers(1, 4))),
        status=draw(st.sampled_from(["active", "scheduled", "draft", "ended", "cancelled"])),
        rule=rule,
        scope=draw(scopes),
        priority=draw(st.integers(0, 2)),
        stacks_with=draw(
            st.none()
            | st.sets(
                st.sampled_from(["flash_sale", "member_price", "full_reduction", "discount"])
            ).map(frozenset)
        ),
        budget_remaining=draw(st.none() | money),
    )


@st.composite
def coupons(draw: st.DrawFn, cid: int) -> CouponInput:
    kind = draw(st.sampled_from(["fixed", "threshold", "percent", "shipping"]))
    return CouponInput(
        id=cid,
        kind=kind,
        name=f"K{cid}",
        valid_from=NOW - timedelta(days=draw(st.integers(-1, 2))),
        valid_until=NOW + timedelta(days=draw(st.integers(-1, 2))),
        status=draw(st.sampled_from(["unused", "unused", "used", "locked"])),
        amount=draw(st.none() | positive_money) if kind == "shipping" else draw(positive_money),
        percent_off=D(draw(st.integers(1, 99))),
        max_discount=draw(st.none() | positive_money),
        threshold=draw(money),
        scope=draw(scopes),
    )


@st.composite
def quote_inputs(draw: st.DrawFn) -> QuoteInput:
    prices = {s: draw(money) for s in SKUS}
    raw_lines = draw(
        st.lists(
            st.tuples(sku, st.integers(1, 5), st.none() | st.integers(1, 6)),
            min_size=1,
            max_size=8,
        )
    )
    lines = tuple(
        LineInput(
            sku_id=s,
            product_id=product_of(s),
            unit_price=prices[s],
            quantity=q,
            category_ids=frozenset({100 if s % 2 else 200}),
            addon_campaign_id=addon,
        )
        for s, q, addon in raw_lines
    )
    n_campaigns = draw(st.integers(0, 6))
    n_coupons = draw(st.integers(0, 3))
    member = MemberContext(
        member_id=1,
        tier_discount_rate=draw(st.none() | rate),
        member_prices=draw(st.dictionaries(sku, money, max_size=3)),
        card_price_rate=draw(st.none() | rate),
        points_balance=draw(st.integers(0, 100_000)),
    )
    return QuoteInput(
        lines=lines,
        now=NOW,
        platform="wechat",
        member=member,
        campaigns=tuple(draw(campaigns(i + 1)) for i in range(n_campaigns)),
        coupons=tuple(draw(coupons(i + 1)) for i in range(n_coupons)),
        points_to_use=draw(st.integers(0, 50_000)),
        settings=PricingSettings(
            points_per_yuan=draw(st.sampled_from([1, 10, 33, 100, 250])),
            points_max_share=draw(rate),
            max_goods_coupons=draw(st.integers(1, 2)),
            coupons_with_campaigns=draw(st.booleans()),
            coupons_on_flash_sale=draw(st.booleans()),
        ),
        fulfillment=draw(st.sampled_from(["express", "same_city", "pickup"])),
        shipping=ShippingInput(fee=draw(money), free_threshold=draw(st.none() | money)),
    )


@settings(max_examples=300, deadline=None)
@given(inputs=quote_inputs())
def test_amounts_are_consistent(inputs: QuoteInput) -> None:
    result = quote(inputs)
    assert result.payable >= 0
    assert all(ln.payable >= 0 and ln.goods_payable >= 0 for ln in result.lines)
    assert sum(ln.payable for ln in result.lines) == result.payable
    assert 0 <= result.discount_total <= result.subtotal
    assert sum(ln.subtotal for ln in result.lines) == result.subtotal
    assert (
        result.payable
        == result.subtotal - result.discount_total - result.points_deduction + result.shipping_fee
    )
    assert result.points_used <= inputs.points_to_use
    assert result.points_used <= inputs.member.points_balance
    assert 0 <= result.shipping_fee <= result.shipping_fee_original
    for ln in result.lines:
        assert sum(a.amount for a in ln.breakdown if a.source != "points") == ln.discount
        assert all(a.amount > 0 for a in ln.breakdown)
    for amount in (result.payable, result.discount_total, result.shipping_fee):
        assert amount == amount.quantize(D("0.01"))
    for campaign_id, given_amount in result.campaign_discounts:
        budget = next(c for c in inputs.campaigns if c.id == campaign_id).budget_remaining
        assert budget is None or given_amount <= budget


@settings(max_examples=150, deadline=None)
@given(inputs=quote_inputs(), data=st.data())
def test_deterministic_and_independent_of_line_order(
    inputs: QuoteInput, data: st.DataObject
) -> None:
    first = quote(inputs)
    assert quote(inputs) == first
    shuffled = data.draw(st.permutations(inputs.lines))
    reordered = QuoteInput(**{**inputs.__dict__, "lines": tuple(shuffled)})
    assert quote(reordered) == first


@settings(max_examples=150, deadline=None)
@given(inputs=quote_inputs())
def test_campaign_outside_window_never_applies(inputs: QuoteInput) -> None:
    moved = tuple(
        CampaignInput(
            **{
                **c.__dict__,
                "starts_at": NOW + timedelta(seconds=1),
                "ends_at": NOW + timedelta(days=1),
            }
        )
        if i % 2 == 0
        else CampaignInput(**{**c.__dict__, "starts_at": NOW - timedelta(days=1), "ends_at": NOW})
        for i, c in enumerate(inputs.campaigns)
    )
    result = quote(QuoteInput(**{**inputs.__dict__, "campaigns": moved}))
    assert result.campaign_discounts == ()
    assert all(p.source != "campaign" for p in result.promotions)
    assert result.gifts == ()
    assert all(
        a.source != "campaign" and a.kind != "flash_sale"
        for ln in result.lines
        for a in ln.breakdown
    )
    # the same cart without any campaign prices identically
    bare = quote(QuoteInput(**{**inputs.__dict__, "campaigns": ()}))
    assert result.payable == bare.payable
    assert result.lines == bare.lines
