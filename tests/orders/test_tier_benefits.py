"""Tiers and paid cards in orders: the tier price and the card price (the lower wins, never
both), free shipping from the tier or the card, and growth once the after-sale window closed
(paid minus refunded, per yuan; a pending or refunded order gives nothing; once per order)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import time_machine

from members.models import (
    GrowthEntry,
    Member,
    MemberCard,
    MemberCardPlan,
    MemberTier,
    Tier,
    TierSettings,
)
from orders import services, tasks
from orders.models import Order
from tests.catalog.factories import FreightTemplateFactory
from tests.orders.conftest import pay

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)


def _tier(tenant: Any, member: Member, **benefits: Any) -> Tier:
    tier = Tier.objects.create(tenant=tenant, name="Gold", level=1, growth_threshold=0, **benefits)
    MemberTier.objects.create(tenant=tenant, member=member, tier=tier, since=T0)
    return tier


def _card(tenant: Any, member: Member, **benefits: Any) -> MemberCard:
    plan = MemberCardPlan.objects.create(
        tenant=tenant, name="Plus", price=Decimal("30"), duration_days=30, **benefits
    )
    now = dt.datetime.now(dt.UTC)
    return MemberCard.objects.create(
        tenant=tenant,
        member=member,
        plan=plan,
        starts_at=now - dt.timedelta(days=1),
        ends_at=now + dt.timedelta(days=29),
    )


def _promotions(order: Order) -> list[tuple[str, str, str]]:
    return [(p["source"], p["kind"], p["amount"]) for p in order.promotions]


def test_tier_price_applies_to_the_order(
    tenant: Any, member: Member, make_sku: Any, place: Any
) -> None:
    _tier(tenant, member, discount_rate=Decimal("0.95"))
    order = place([(make_sku("99.90"), 2)])
    # 99.90 x 0.95 = 94.905 -> 94.91 a unit; (99.90 - 94.91) x 2 = 9.98 off.
    assert (order.subtotal, order.discount_total, order.payable) == (
        Decimal("199.80"),
        Decimal("9.98"),
        Decimal("189.82"),
    )
    assert _promotions(order) == [("item", "tier_price", "9.98")]


def test_card_price_wins_over_the_tier_price_and_they_never_stack(
    tenant: Any, member: Member, make_sku: Any, place: Any
) -> None:
    _tier(tenant, member, discount_rate=Decimal("0.95"))
    card = _card(tenant, member, price_rate=Decimal("0.90"))
    order = place([(make_sku("100.00"), 2)])
    assert (order.discount_total, order.payable) == (Decimal("20.00"), Decimal("180.00"))
    assert _promotions(order) == [("item", "card_price", "20.00")]
    # The card ended: the tier price again.
    card.ends_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    card.save()
    order = place([(make_sku("100.00"), 2)])
    assert _promotions(order) == [("item", "tier_price", "10.00")]


@pytest.mark.parametrize("source", ["tier", "card"])
def test_free_shipping_from_the_tier_or_the_card(
    tenant: Any, member: Member, make_sku: Any, place: Any, source: str
) -> None:
    template = FreightTemplateFactory(tenant=tenant, first_fee=Decimal("8.00"))
    sku = make_sku("40.00", freight_template=template)
    before = place([(sku, 1)])
    assert (before.shipping_fee, before.payable) == (Decimal("8.00"), Decimal("48.00"))
    if source == "tier":
        _tier(tenant, member, free_shipping=True)
    else:
        _card(tenant, member, free_shipping=True)
    order = place([(sku, 1)])
    assert (order.shipping_fee, order.payable) == (Decimal("0.00"), Decimal("40.00"))
    assert _promotions(order) == [("shipping", f"{source}_free_shipping", "8.00")]


def _complete(tenant: Any, order: Order) -> Order:
    services.order_ship(tenant=tenant, order=order, actor="x", carrier="sf", tracking_no="SF1")
    services.order_confirm_receipt(tenant=tenant, order=order, actor="member")
    assert services.orders_complete_due() >= 1
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED
    return order


def test_growth_is_credited_once_after_the_after_sale_window(
    tenant: Any, member: Member, make_sku: Any, place: Any
) -> None:
    tenant.after_sale_days = 0
    tenant.save()
    TierSettings.objects.create(tenant=tenant, growth_per_yuan=Decimal("1.5"))
    silver = Tier.objects.create(tenant=tenant, name="Silver", level=1, growth_threshold=300)
    with time_machine.travel(T0, tick=True):
        completed = _complete(tenant, pay(place([(make_sku("99.90"), 2)])))  # paid 199.80
        pay(place([(make_sku("10.00"), 1)]))  # paid, not completed: nothing yet
        place([(make_sku("10.00"), 1)])  # unpaid: nothing
        refunded = _complete(tenant, pay(place([(make_sku("100.00"), 1)])))
        # Completed with 60.00 of its 100.00 refunded (an after-sale before the window closed).
        Order.objects.filter(pk=refunded.pk).update(refunded_amount=Decimal("60.00"))

        assert tasks.member_growth_from_orders.delay().get() == 2
        assert tasks.member_growth_from_orders.delay().get() == 0
    member.refresh_from_db()
    # 199.80 x 1.5 = 299.7 -> 299; 40.00 x 1.5 = 60: 359 >= 300 -> Silver.
    assert member.growth == 359
    assert sorted(
        GrowthEntry.objects.filter(member=member).values_list("ref", "delta", "reason")
    ) == sorted(
        [(f"order:{completed.number}", 299, "order"), (f"order:{refunded.number}", 60, "order")]
    )
    assert MemberTier.objects.get(member=member).tier == silver


def test_a_fully_refunded_completed_order_gives_no_growth(
    tenant: Any, member: Member, make_sku: Any, place: Any
) -> None:
    tenant.after_sale_days = 0
    tenant.save()
    order = _complete(tenant, pay(place([(make_sku("50.00"), 1)])))
    Order.objects.filter(pk=order.pk).update(refunded_amount=Decimal("50.00"))
    assert services.orders_growth_due() == 0
    assert not GrowthEntry.objects.exists()
