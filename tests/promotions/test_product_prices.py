"""Product list and detail show the caller's item-level price and the live campaigns (issue 4,
item 4): flash-sale prices with their quota, member-price campaigns for logged-in members, the
window checked at read time, caches that stay member-independent, constant query counts."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import Product
from catalog.services import product_create
from mall.tenancy.selectors import channel_cache_clear
from mall.versions import versions_local_clear
from promotions.models import Campaign, CampaignDisplay, FlashSaleSku
from promotions.services import campaign_cancel, flash_sale_consume
from tests.catalog.factories import CategoryFactory
from tests.conftest import shopper_client
from tests.mall.factories import ChannelFactory
from tests.members.factories import MemberFactory, access_token_for
from tests.promotions.factories import CampaignFactory, FlashSaleSkuFactory

pytestmark = pytest.mark.django_db


def _product(tenant: Any, title: str, price: str, *, n_skus: int = 1, **fields: Any) -> Product:
    colours = [f"C{i}" for i in range(n_skus)]
    return product_create(
        tenant=tenant,
        title=title,
        status="on_sale",
        specs=[{"name": "Colour", "values": colours}],
        skus=[
            {
                "code": f"{title}-{c}",
                "specs": {"Colour": c},
                "price": Decimal(price) + i,
                "stock": 5,
            }
            for i, c in enumerate(colours)
        ],
        **fields,
    )


def _skus(product: Product) -> list[Any]:
    return list(product.skus.order_by("id"))


def _flash(sku: Any, price: str = "79.00", **fields: Any) -> FlashSaleSku:
    fields.setdefault("quota", 10)
    return FlashSaleSkuFactory(campaign__tenant=sku.tenant, sku=sku, price=Decimal(price), **fields)


@pytest.fixture
def member(tenant: Any) -> Any:
    return MemberFactory(tenant=tenant)


@pytest.fixture
def member_api(channel: Any, member: Any) -> Any:
    return shopper_client(channel.app_id, access_token_for(member))


def test_flash_sale_price_and_campaign_show_on_detail_and_list(api: Any, tenant: Any) -> None:
    product = _product(tenant, "Kettle", "100.00", n_skus=2)
    first, second = _skus(product)
    flash = _flash(first, "79.00", quota=10, per_member_limit=2)
    FlashSaleSku.objects.filter(pk=flash.pk).update(sold=3)
    CampaignDisplay.objects.create(
        tenant=tenant, campaign=flash.campaign, platform="wechat", title="Noon deal"
    )

    body = api.get(f"/api/v1/products/{product.pk}").json()

    assert body["price"] == "79.00" and body["original_price"] == "100.00"
    assert [
        (s["id"], s["price"], s["original_price"], s["price_source"]) for s in body["skus"]
    ] == [
        (first.pk, "79.00", "100.00", "flash_sale"),
        (second.pk, "101.00", "101.00", None),
    ]
    assert body["skus"][0]["price_campaign_id"] == flash.campaign_id
    [campaign] = body["campaigns"]
    assert campaign["id"] == flash.campaign_id
    assert campaign["kind"] == "flash_sale"
    assert campaign["title"] == "Noon deal"
    assert campaign["ends_at"] is not None
    assert campaign["flash_skus"] == [
        {"sku_id": first.pk, "price": "79.00", "quota_left": 7, "per_member_limit": 2}
    ]
    [item] = api.get("/api/v1/products").json()["results"]
    assert (item["price"], item["original_price"]) == ("79.00", "100.00")


def test_flash_sale_price_disappears_at_ends_at(api: Any, tenant: Any) -> None:
    product = _product(tenant, "Kettle", "100.00")
    start = timezone.now().replace(microsecond=0) + timedelta(minutes=5)
    end = start + timedelta(minutes=10)
    _flash(_skus(product)[0], "79.00", campaign__starts_at=start, campaign__ends_at=end)
    detail = f"/api/v1/products/{product.pk}"

    def shown() -> tuple[str, str, int]:
        body = api.get(detail).json()
        listed = api.get("/api/v1/products").json()["results"][0]["price"]
        return body["skus"][0]["price"], listed, len(body["campaigns"])

    with time_machine.travel(start - timedelta(seconds=1), tick=False):
        assert shown() == ("100.00", "100.00", 0)
    with time_machine.travel(start, tick=False):
        assert shown() == ("79.00", "79.00", 1)
    with time_machine.travel(end - timedelta(seconds=1), tick=False):
        assert shown() == ("79.00", "79.00", 1)
    with time_machine.travel(end, tick=False):  # no beat ran: the read-time check ends it
        assert shown() == ("100.00", "100.00", 0)


def test_sold_out_flash_sale_keeps_the_list_price(api: Any, tenant: Any) -> None:
    product = _product(tenant, "Kettle", "100.00")
    sku = _skus(product)[0]
    flash = _flash(sku, "79.00", quota=2)
    url = f"/api/v1/products/{product.pk}"
    assert api.get(url).json()["skus"][0]["price"] == "79.00"

    flash_sale_consume(tenant=tenant, campaign_id=flash.campaign_id, sku_id=sku.pk, quantity=2)

    body = api.get(url).json()  # the counter is read fresh, the snapshot is still cached
    assert body["skus"][0]["price"] == "100.00"
    assert body["campaigns"][0]["flash_skus"][0]["quota_left"] == 0
    assert api.get("/api/v1/products").json()["results"][0]["price"] == "100.00"


def test_flash_sale_over_budget_keeps_the_list_price(api: Any, tenant: Any) -> None:
    product = _product(tenant, "Kettle", "100.00")
    flash = _flash(_skus(product)[0], "79.00", campaign__budget=Decimal("50.00"))
    Campaign.objects.filter(pk=flash.campaign_id).update(
        discount_given=Decimal("40.00")
    )  # 10.00 left < 21.00 off one unit
    assert api.get(f"/api/v1/products/{product.pk}").json()["skus"][0]["price"] == "100.00"


def test_member_price_campaign_for_logged_in_members_only(
    api: Any, member_api: Any, tenant: Any, member: Any
) -> None:
    clothes = CategoryFactory(tenant=tenant, name="Clothes")
    shirts = CategoryFactory(tenant=tenant, name="Shirts", parent=clothes)
    shirt = _product(tenant, "Shirt", "100.00", n_skus=2, category_id=shirts.pk)
    mug = _product(tenant, "Mug", "20.00")
    first, second = _skus(shirt)
    CampaignFactory(
        tenant=tenant,
        kind="member_price",
        all_items=False,
        rules={"rate": "0.90", "prices": [{"sku_id": first.pk, "price": "80.00"}]},
    ).categories.add(clothes)

    anonymous = api.get(f"/api/v1/products/{shirt.pk}").json()
    assert [s["price"] for s in anonymous["skus"]] == ["100.00", "101.00"]
    assert [c["kind"] for c in anonymous["campaigns"]] == ["member_price"]

    body = member_api.get(f"/api/v1/products/{shirt.pk}").json()
    assert [(s["price"], s["price_source"]) for s in body["skus"]] == [
        ("80.00", "member_price"),  # its own price
        ("90.90", "member_price"),  # 101.00 x 0.90, the category's rate
    ]
    assert body["price"] == "80.00"
    listed = {r["id"]: r["price"] for r in member_api.get("/api/v1/products").json()["results"]}
    assert listed == {shirt.pk: "80.00", mug.pk: "20.00"}  # the mug is out of scope
    listed = {r["id"]: r["price"] for r in api.get("/api/v1/products").json()["results"]}
    assert listed == {shirt.pk: "100.00", mug.pk: "20.00"}

    quote = member_api.post(
        "/api/v1/checkout/quote",
        {"lines": [{"sku_id": second.pk, "quantity": 1}], "fulfillment": "pickup"},
        format="json",
    ).json()
    assert quote["lines"][0]["item_price"] == "90.90"  # the same rule as the quote


def test_detail_lists_only_campaigns_that_apply_here(api: Any, tenant: Any) -> None:
    food = CategoryFactory(tenant=tenant, name="Food")
    product = _product(tenant, "Kettle", "100.00")
    everything = CampaignFactory(tenant=tenant, title="Over 199 minus 30")
    CampaignFactory(tenant=tenant, all_items=False).categories.add(food)  # other category
    CampaignFactory(tenant=tenant, on_wechat=False)  # not shown on WeChat
    CampaignFactory(tenant=tenant, status="draft")
    excluding = CampaignFactory(tenant=tenant)
    excluding.excluded_products.add(product)
    alipay = ChannelFactory(tenant=tenant, platform="alipay", app_id="ali-a")

    body = api.get(f"/api/v1/products/{product.pk}").json()

    assert [(c["id"], c["title"]) for c in body["campaigns"]] == [
        (everything.pk, "Over 199 minus 30")
    ]
    assert body["campaigns"][0]["rules"]["tiers"] == [{"threshold": "199.00", "reduction": "30.00"}]
    on_alipay = shopper_client(alipay.app_id).get(f"/api/v1/products/{product.pk}").json()
    assert len(on_alipay["campaigns"]) == 2  # the WeChat-hidden one shows on Alipay


def test_campaign_changes_show_at_once(api: Any, tenant: Any) -> None:
    product = _product(tenant, "Kettle", "100.00")
    url = f"/api/v1/products/{product.pk}"
    assert api.get(url).json()["campaigns"] == []  # snapshot and detail now cached

    flash = _flash(_skus(product)[0], "79.00")
    assert api.get(url).json()["skus"][0]["price"] == "79.00"

    row = FlashSaleSku.objects.get(pk=flash.pk)
    row.price = Decimal("69.00")
    row.save()
    assert api.get(url).json()["skus"][0]["price"] == "69.00"

    campaign_cancel(tenant=tenant, campaign=flash.campaign)
    body = api.get(url).json()
    assert (body["skus"][0]["price"], body["campaigns"]) == ("100.00", [])


def test_other_tenants_campaigns_never_apply(api: Any, tenant: Any, other_tenant: Any) -> None:
    product = _product(tenant, "Kettle", "100.00")
    CampaignFactory(tenant=other_tenant)
    CampaignFactory(tenant=other_tenant, kind="member_price", rules={"rate": "0.50"})
    body = api.get(f"/api/v1/products/{product.pk}").json()
    assert body["campaigns"] == [] and body["price"] == "100.00"


def _count(client: Any, url: str, *, cold: bool) -> int:
    if cold:
        cache.clear()
        channel_cache_clear()
        versions_local_clear()
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        assert response.status_code == 200
    return len(ctx.captured_queries)


def test_list_queries_do_not_grow_with_page_size(member_api: Any, tenant: Any) -> None:
    products = [_product(tenant, f"P{i}", "10.00", n_skus=2) for i in range(100)]
    for product in products[::7]:
        _flash(_skus(product)[0], "5.00")
    CampaignFactory(tenant=tenant, kind="member_price", rules={"rate": "0.95"})
    small, large = "/api/v1/products?page_size=10", "/api/v1/products?page_size=100"

    assert _count(member_api, small, cold=True) == _count(member_api, large, cold=True)
    _count(member_api, small, cold=False)
    # Warm: member, the page's SKU prices, flash-sale sold counts (pages and the pricing
    # snapshot come from the cache).
    assert _count(member_api, small, cold=False) == _count(member_api, large, cold=False) == 3
    results = member_api.get(large).json()["results"]
    prices = {r["id"]: r["price"] for r in results}
    assert prices[products[0].pk] == "5.00"  # flash sale beats 9.50
    assert prices[products[1].pk] == "9.50"


def test_detail_queries_do_not_grow_with_skus(api: Any, tenant: Any) -> None:
    one = _product(tenant, "One", "10.00", n_skus=1)
    many = _product(tenant, "Many", "10.00", n_skus=50)
    for product in (one, many):
        for sku in _skus(product):
            _flash(sku, "5.00", campaign__budget=Decimal("1000"))
    CampaignFactory(tenant=tenant)
    urls = [f"/api/v1/products/{one.pk}", f"/api/v1/products/{many.pk}"]

    assert _count(api, urls[0], cold=True) == _count(api, urls[1], cold=True)
    _count(api, urls[0], cold=False)
    # Warm: flash-sale sold counts and campaign budgets, in one statement (promotions.sql; the
    # detail and snapshot are cached).
    assert _count(api, urls[0], cold=False) == _count(api, urls[1], cold=False) == 1
    body = api.get(urls[1]).json()
    assert {s["price"] for s in body["skus"]} == {"5.00"}
    assert len(body["campaigns"]) == 51


def test_nothing_live_costs_no_query(api: Any, tenant: Any) -> None:
    product = _product(tenant, "Kettle", "100.00")
    api.get(f"/api/v1/products/{product.pk}")
    api.get("/api/v1/products")
    assert _count(api, f"/api/v1/products/{product.pk}", cold=False) == 0
    assert _count(api, "/api/v1/products", cold=False) == 0


def test_list_follows_campaign_changes_at_once(api: Any, tenant: Any) -> None:
    """The list reads the pricing versions in the same round trip as its cached page: a flash
    sale shows on the next read (priced path) and, once cancelled, the list answers the cached
    page's bytes again (fast path)."""
    product = _product(tenant, "Kettle", "100.00")
    before = api.get("/api/v1/products")  # page and snapshot now cached
    assert before.json()["results"][0]["price"] == "100.00"

    flash = _flash(_skus(product)[0], "79.00")
    item = api.get("/api/v1/products").json()["results"][0]
    assert (item["price"], item["original_price"]) == ("79.00", "100.00")

    campaign_cancel(tenant=tenant, campaign=flash.campaign)
    after = api.get("/api/v1/products")
    assert after.content == before.content
