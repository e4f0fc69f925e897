"""Checkout: re-priced order in one transaction; every failure names its problems and leaves
nothing behind."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import StockMovement
from mall.api.errors import ApplicationError, status_for
from mall.events.models import OutboxEvent
from orders.models import Order, OrderEvent, OrderLine, PointsUse
from promotions.models import Campaign, Coupon
from tests.orders.conftest import points, stock
from tests.promotions.factories import CampaignFactory, CouponFactory

pytestmark = pytest.mark.django_db


def _nothing_left(tenant: Any) -> None:
    assert Order.objects.for_tenant(tenant).count() == 0
    assert OrderLine.objects.count() == 0
    assert StockMovement.objects.filter(reason="reserve").count() == 0
    assert PointsUse.objects.count() == 0
    assert not OutboxEvent.objects.filter(name="order.created").exists()


def test_order_with_campaign_coupon_and_points_is_priced_and_reserved(
    tenant: Any, member: Any, make_sku: Any, place: Any
) -> None:
    a = make_sku("100.00", stock=10)
    b = make_sku("59.90", stock=5)
    campaign = CampaignFactory(tenant=tenant)  # over 199 minus 30
    coupon = CouponFactory(template__tenant=tenant, member=member)  # over 100 minus 20

    order = place([(a, 2), (b, 1)], coupon_ids=[coupon.pk], use_points=500)

    assert re.fullmatch(r"\d{18}", order.number)
    assert order.status == Order.Status.PENDING_PAYMENT
    assert order.subtotal == Decimal("259.90")
    # 30 campaign + 20 coupon + 5.00 for 500 points
    assert order.discount_total == Decimal("50.00")
    assert order.points_used == 500
    assert order.points_deduction == Decimal("5.00")
    assert order.payable == Decimal("204.90")
    lines = list(order.lines.order_by("id"))
    assert [(x.sku_id, x.quantity, x.unit_price) for x in lines] == [
        (a.pk, 2, Decimal("100.00")),
        (b.pk, 1, Decimal("59.90")),
    ]
    assert sum(x.payable for x in lines) == order.payable
    assert sum(x.discount for x in lines) == order.discount_total
    assert lines[0].title == a.product.title
    assert stock(a) == 8 and stock(b) == 4
    assert Coupon.objects.get(pk=coupon.pk).status == Coupon.Status.LOCKED
    assert Coupon.objects.get(pk=coupon.pk).order_reference == order.number
    assert points(member) == 500
    assert Campaign.objects.get(pk=campaign.pk).discount_given == Decimal("30.00")
    assert {p["source"] for p in order.promotions} >= {"campaign", "coupon"}
    assert order.address["name"] == "Zhang San"
    assert order.expires_at is not None
    assert OrderEvent.objects.filter(order=order, to_status="pending_payment").count() == 1
    assert OutboxEvent.objects.filter(name="order.created", subject=f"order:{order.number}")


def test_out_of_stock_names_every_short_sku_and_leaves_nothing(
    tenant: Any, member: Any, make_sku: Any, place: Any
) -> None:
    a, b, c = make_sku(stock=1), make_sku(stock=0), make_sku(stock=5)
    coupon = CouponFactory(template__tenant=tenant, member=member, template__threshold=0)

    with pytest.raises(ApplicationError) as exc:
        place([(a, 2), (b, 1), (c, 1)], coupon_ids=[coupon.pk], use_points=100)

    assert status_for(exc.value) == 409
    assert exc.value.code == "out_of_stock"
    short = sorted(p["sku_id"] for p in exc.value.details["problems"])
    assert short == [a.pk, b.pk]
    _nothing_left(tenant)
    assert (stock(a), stock(b), stock(c)) == (1, 0, 5)
    assert Coupon.objects.get(pk=coupon.pk).status == Coupon.Status.UNUSED
    assert points(member) == 1000


def test_unusable_coupon_price_change_and_points_are_all_named(
    tenant: Any, member: Any, make_sku: Any, place: Any
) -> None:
    sku = make_sku("50.00")
    coupon = CouponFactory(template__tenant=tenant, member=member)  # needs 100, order is 50

    with pytest.raises(ApplicationError) as exc:
        place([(sku, 1)], coupon_ids=[coupon.pk], use_points=5000, expected_payable="1.00")

    codes = {p["code"] for p in exc.value.details["problems"]}
    assert exc.value.code == "checkout_failed"
    assert status_for(exc.value) == 422
    assert {"insufficient_points", "price_changed"} <= codes
    assert any(p.get("coupon_id") == coupon.pk for p in exc.value.details["problems"])
    _nothing_left(tenant)
    assert stock(sku) == 10


def test_price_changed_alone_is_a_409(tenant: Any, make_sku: Any, place: Any) -> None:
    sku = make_sku("50.00")
    with pytest.raises(ApplicationError) as exc:
        place([(sku, 1)], expected_payable=Decimal("45.00"))
    assert (status_for(exc.value), exc.value.code) == (409, "price_changed")
    assert exc.value.details["problems"][0]["payable"] == "50.00"
    order = place([(sku, 1)], expected_payable=Decimal("50.00"))
    assert order.payable == Decimal("50.00")


def test_off_shelf_sku_is_refused(tenant: Any, make_sku: Any, place: Any) -> None:
    sku = make_sku(status="off_shelf")
    with pytest.raises(ApplicationError) as exc:
        place([(sku, 1)])
    assert (status_for(exc.value), exc.value.code) == (422, "sku_unavailable")
    _nothing_left(tenant)


def test_a_budget_that_ran_out_meanwhile_rolls_everything_back(
    tenant: Any, member: Any, make_sku: Any, place: Any
) -> None:
    sku = make_sku("200.00")
    campaign = CampaignFactory(tenant=tenant, budget=Decimal("100.00"))
    # Another order used the budget between the quote and the write.
    from unittest import mock

    from promotions.services import campaigns

    real = campaigns.campaign_budget_consume

    def exhausted(**kwargs: Any) -> bool:
        Campaign.objects.filter(pk=campaign.pk).update(discount_given=Decimal("100.00"))
        return real(**kwargs)

    with (
        mock.patch.object(campaigns, "campaign_budget_consume", exhausted),
        pytest.raises(ApplicationError) as exc,
    ):
        place([(sku, 1)], use_points=100)
    assert exc.value.code == "campaign_budget_exhausted"
    _nothing_left(tenant)
    assert stock(sku) == 10 and points(member) == 1000


def test_express_needs_an_address_and_pickup_a_store(
    tenant: Any, make_sku: Any, place: Any
) -> None:
    sku = make_sku()
    with pytest.raises(ApplicationError) as exc:
        place([(sku, 1)], address_id=None)
    assert exc.value.code == "address_required"
    with pytest.raises(ApplicationError) as exc:
        place([(sku, 1)], fulfillment="pickup")
    assert exc.value.code == "store_required"
    _nothing_left(tenant)


def test_order_numbers_retry_on_a_collision(
    tenant: Any, make_sku: Any, place: Any, monkeypatch: Any
) -> None:
    from orders.services import checkout

    sku = make_sku()
    numbers = iter(["202611250000000001", "202611250000000001", "202611250000000002"])
    monkeypatch.setattr(checkout, "order_number_new", lambda now: next(numbers))
    first = place([(sku, 1)])
    second = place([(sku, 1)])
    assert (first.number, second.number) == ("202611250000000001", "202611250000000002")


def _queries(place: Any, make_sku: Any, count: int, **options: Any) -> int:
    skus = [make_sku("40.00", stock=50) for _ in range(count)]
    place([(skus[0], 1)])  # warm caches (content types, tenant-level pricing inputs)
    with CaptureQueriesContext(connection) as ctx:
        order = place([(s, 1) for s in skus], **options)
    assert order.lines.count() == count
    return len(ctx.captured_queries)


def test_query_count_meets_the_issue_target(tenant: Any, make_sku: Any, place: Any) -> None:
    # Issue 5: <= 20 queries for a 3-line order, each extra line at most one more. Counted
    # with savepoints on whichever database the suite runs on (SQLite and PostgreSQL).
    three = _queries(place, make_sku, 3)
    four = _queries(place, make_sku, 4)
    eight = _queries(place, make_sku, 8)
    assert three <= 20, three
    assert four - three <= 1 and eight - three <= 5, (three, four, eight)
    # Today: 11 on PostgreSQL, 12 on SQLite, and no statement per line at all.
    assert three <= 12 and eight == three, (three, four, eight)


def test_query_count_with_campaigns_coupon_and_points(
    tenant: Any, member: Any, make_sku: Any, place: Any
) -> None:
    from promotions.rules import validate_rules

    for kind, rules in (
        ("discount", {"tiers": [{"rate": "0.95", "min_quantity": 2}]}),
        ("full_reduction", {"tiers": [{"threshold": "100", "reduction": "10"}]}),
    ):
        CampaignFactory(tenant=tenant, kind=kind, rules=validate_rules(kind, rules))

    def count(lines: int) -> int:
        coupon = CouponFactory(template__tenant=tenant, member=member)  # over 100 minus 20
        return _queries(place, make_sku, lines, coupon_ids=[coupon.pk], use_points=100)

    three, six = count(3), count(6)
    # The coupon (load + lock), points and the campaign budget add a few statements, never one
    # per line. Points from the lots (members.points): lock the member, its live lots, one
    # UPDATE of the lots taken, the balance, the ledger row, its lot moves. 26 on SQLite today.
    assert three <= 26 and six == three, (three, six)


def test_a_gift_is_reserved_and_written_as_a_free_line(
    tenant: Any, make_sku: Any, place: Any
) -> None:
    from promotions.rules import validate_rules

    bought = make_sku("120.00", stock=10)
    gift = make_sku("15.00", stock=4)
    rules = {"threshold": "100", "min_quantity": 0, "gifts": [{"sku_id": gift.pk, "quantity": 2}]}
    CampaignFactory(tenant=tenant, kind="gift", rules=validate_rules("gift", rules))

    order = place([(bought, 1)])

    lines = {x.sku_id: x for x in order.lines.all()}
    assert lines[gift.pk].is_gift and lines[gift.pk].quantity == 2
    assert lines[gift.pk].payable == Decimal("0.00") and lines[gift.pk].title == gift.product.title
    assert not lines[bought.pk].is_gift and order.payable == lines[bought.pk].payable
    assert stock(gift) == 2 and stock(bought) == 9
    reserved = StockMovement.objects.filter(reason="reserve", reference=order.number)
    assert sorted(reserved.values_list("sku_id", "quantity")) == sorted(
        [(bought.pk, -1), (gift.pk, -2)]
    )


def test_member_merge_joins_the_carts(tenant: Any, make_sku: Any) -> None:
    from members.services.merge import member_relations
    from orders.merge import merge_carts
    from orders.models import CartItem
    from orders.services import cart_item_add
    from tests.members.factories import MemberFactory

    survivor, loser = MemberFactory(tenant=tenant), MemberFactory(tenant=tenant)
    a, b = make_sku(), make_sku()
    cart_item_add(tenant=tenant, member=survivor, sku_id=a.pk, quantity=1)
    cart_item_add(tenant=tenant, member=loser, sku_id=a.pk, quantity=2)
    cart_item_add(tenant=tenant, member=loser, sku_id=b.pk, quantity=1)
    assert any(r.label == "orders.Cart.member" and r.handler for r in member_relations())

    assert merge_carts(survivor=survivor, loser=loser) == 2
    items = dict(CartItem.objects.filter(cart__member=survivor).values_list("sku_id", "quantity"))
    assert items == {a.pk: 3, b.pk: 1}
    assert not CartItem.objects.filter(cart__member=loser).exists()
