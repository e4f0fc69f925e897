from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.inventory import stock_reserve
from catalog.models import Product, ProductImage
from catalog.services import product_create, product_set_status, product_update
from mall.tenancy.selectors import channel_cache_clear
from mall.versions import versions_local_clear
from tests.catalog.factories import CategoryFactory
from tests.conftest import shopper_client
from tests.mall.factories import ChannelFactory


def _product(tenant: Any, title: str, price: str, *, n_skus: int = 1, **fields: Any) -> Product:
    fields.setdefault("status", "on_sale")
    colours = [f"C{i}" for i in range(n_skus)]
    return product_create(
        tenant=tenant,
        title=title,
        specs=[{"name": "Colour", "values": colours}],
        skus=[
            {
                "code": f"{title}-{c}",
                "specs": {"Colour": c},
                "price": Decimal(price) + i,
                "market_price": Decimal(price) + 10,
                "stock": 5,
            }
            for i, c in enumerate(colours)
        ],
        **fields,
    )


def test_list_shows_on_sale_products_visible_on_platform(api: Any, tenant: Any) -> None:
    shown = _product(tenant, "Shirt", "19.90", subtitle="cotton")
    _product(tenant, "Draft", "5.00", status="draft")
    _product(tenant, "Off", "5.00", status="off_shelf")
    _product(tenant, "Alipay only", "5.00", platforms=["alipay"])

    body = api.get("/api/v1/products").json()

    assert body["count"] == 1
    assert body["results"] == [
        {
            "id": shown.pk,
            "title": "Shirt",
            "subtitle": "cotton",
            "image": "",
            "price": "19.90",
            "market_price": "29.90",
            "sales": 0,
            "in_stock": True,
            "original_price": "19.90",
        }
    ]


def test_list_filters_by_category_with_descendants(api: Any, tenant: Any) -> None:
    clothes = CategoryFactory(tenant=tenant, name="Clothes")
    shirts = CategoryFactory(tenant=tenant, name="Shirts", parent=clothes)
    food = CategoryFactory(tenant=tenant, name="Food")
    a = _product(tenant, "A", "1.00", category_id=clothes.pk)
    b = _product(tenant, "B", "1.00", category_id=shirts.pk)
    _product(tenant, "C", "1.00", category_id=food.pk)

    ids = {r["id"] for r in api.get(f"/api/v1/products?category={clothes.pk}").json()["results"]}
    assert ids == {a.pk, b.pk}
    ids = {r["id"] for r in api.get(f"/api/v1/products?category={shirts.pk}").json()["results"]}
    assert ids == {b.pk}


def test_list_search_price_range_and_ordering(api: Any, tenant: Any) -> None:
    cheap = _product(tenant, "Red tea", "5.00")
    mid = _product(tenant, "Green tea", "15.00", subtitle="spring")
    dear = _product(tenant, "Coffee", "50.00", subtitle="not tea")
    Product.objects.filter(pk=mid.pk).update(sales_count=9)

    def ids(query: str) -> list[int]:
        response = api.get(f"/api/v1/products?{query}")
        assert response.status_code == 200, response.json()
        return [r["id"] for r in response.json()["results"]]

    assert set(ids("q=tea")) == {cheap.pk, mid.pk, dear.pk}
    assert ids("q=spring") == [mid.pk]
    assert ids("ordering=price") == [cheap.pk, mid.pk, dear.pk]
    assert ids("ordering=-price") == [dear.pk, mid.pk, cheap.pk]
    assert ids("ordering=-sales")[0] == mid.pk
    assert ids("ordering=newest") == [dear.pk, mid.pk, cheap.pk]
    assert set(ids("min_price=10&max_price=20")) == {mid.pk}


def test_list_pagination(api: Any, tenant: Any) -> None:
    for i in range(5):
        _product(tenant, f"P{i}", "1.00")
    first = api.get("/api/v1/products?page_size=2").json()
    assert first["count"] == 5 and len(first["results"]) == 2
    assert "page=2" in first["next"] and first["previous"] is None
    last = api.get("/api/v1/products?page_size=2&page=3").json()
    assert len(last["results"]) == 1 and last["next"] is None
    assert api.get("/api/v1/products?page=99").json()["results"] == []


def test_list_bad_input_is_400(api: Any, tenant: Any) -> None:
    for query in ("ordering=cheapest", "min_price=abc", "min_price=-1", "max_price=NaN",
                  "page_size=1000", "category=0", "q=" + "x" * 65):  # fmt: skip
        response = api.get(f"/api/v1/products?{query}")
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "validation_error"
    for query in ("page=0", "page=x"):  # the paging rule of every list (mall/api/pagination.py)
        response = api.get(f"/api/v1/products?{query}")
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_page"


def test_list_count_follows_product_changes(api: Any, tenant: Any) -> None:
    product = _product(tenant, "A", "1.00")
    assert api.get("/api/v1/products").json()["count"] == 1
    _product(tenant, "B", "1.00")
    assert api.get("/api/v1/products").json()["count"] == 2
    product_set_status(tenant=tenant, product_ids=[product.pk], status="off_shelf")
    assert api.get("/api/v1/products").json()["count"] == 1


def test_other_tenants_products_are_invisible(api: Any, tenant: Any, other_tenant: Any) -> None:
    foreign = _product(other_tenant, "Foreign", "1.00")
    assert api.get("/api/v1/products").json()["count"] == 0
    assert api.get(f"/api/v1/products/{foreign.pk}").status_code == 404


def test_detail_has_skus_specs_images(api: Any, tenant: Any) -> None:
    product = _product(
        tenant, "Shirt", "10.00", n_skus=2, description="<p>Hi<script>x</script></p>"
    )
    ProductImage.objects.create(
        tenant=tenant, product=product, file="p/1.jpg", thumb_small="p/1_s.jpg",
        thumb_medium="p/1_m.jpg", width=800, height=600,
    )  # fmt: skip

    response = api.get(f"/api/v1/products/{product.pk}")

    assert response.status_code == 200
    body = response.json()
    assert body["description"] == "<p>Hi</p>"
    assert [s["name"] for s in body["specs"]] == ["Colour"]
    assert [v["value"] for v in body["specs"][0]["values"]] == ["C0", "C1"]
    assert body["skus"][0] == {
        "id": product.skus.order_by("id")[0].pk,
        "code": "Shirt-C0",
        "specs": [{"name": "Colour", "value": "C0"}],
        "price": "10.00",
        "market_price": "20.00",
        "stock": 5,
        "available": True,
        "weight_grams": 0,
        "original_price": "10.00",
        "price_source": None,
        "price_campaign_id": None,
    }
    assert body["images"][0]["thumb_small"].endswith("p/1_s.jpg")
    assert body["campaigns"] == []
    assert body["price"] == body["original_price"] == "10.00"


@pytest.mark.parametrize("status", ["draft", "off_shelf"])
def test_detail_of_unsold_product_is_404(api: Any, tenant: Any, status: str) -> None:
    product = _product(tenant, "X", "1.00", status=status)
    response = api.get(f"/api/v1/products/{product.pk}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_detail_not_shown_on_this_platform_is_404(tenant: Any) -> None:
    alipay = ChannelFactory(tenant=tenant, platform="alipay", app_id="ali-a")
    product = _product(tenant, "X", "1.00", platforms=["wechat"])
    assert shopper_client(alipay.app_id).get(f"/api/v1/products/{product.pk}").status_code == 404


def _catalog_queries(ctx: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries if "catalog_" in q["sql"]]


def _queries(client: Any, url: str) -> int:
    """Catalog queries of a cold read (the promotions snapshot, loaded on a cold cache too, is
    counted by tests/promotions/test_product_prices.py)."""
    cache.clear()  # measure the cold path (pages, counts and details are cached afterwards)
    channel_cache_clear()
    versions_local_clear()
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    snapshot = ("promotions_", "catalog_freight")
    return len([q for q in ctx.captured_queries if not any(t in q["sql"] for t in snapshot)])


def test_list_query_count_does_not_grow_with_page_size(api: Any, tenant: Any) -> None:
    for i in range(100):
        _product(tenant, f"P{i}", "1.00", n_skus=2)
    small = _queries(api, "/api/v1/products?page_size=10")
    large = _queries(api, "/api/v1/products?page_size=100")
    assert small == large == 4  # channel, count, page, stock state of the page
    with CaptureQueriesContext(connection) as warm:
        api.get("/api/v1/products?page_size=100")
    assert _catalog_queries(warm) == []  # the page is cached


def test_detail_query_count_does_not_grow_with_skus(api: Any, tenant: Any) -> None:
    one = _product(tenant, "One", "1.00", n_skus=1)
    many = _product(tenant, "Many", "1.00", n_skus=50)
    assert (
        _queries(api, f"/api/v1/products/{one.pk}")
        == _queries(api, f"/api/v1/products/{many.pk}")
        == 5  # channel, product, SKUs, specs, images
    )
    with CaptureQueriesContext(connection) as warm:
        api.get(f"/api/v1/products/{many.pk}")
    assert _catalog_queries(warm) == []  # the detail is cached


def test_cached_reads_follow_stock_and_product_changes(api: Any, tenant: Any) -> None:
    product = _product(tenant, "Shirt", "10.00")
    sku = product.skus.get()
    url = f"/api/v1/products/{product.pk}"
    assert api.get(url).json()["skus"][0]["stock"] == 5
    assert api.get("/api/v1/products").json()["results"][0]["in_stock"] is True

    stock_reserve(tenant=tenant, lines=[(sku.pk, 2)], reference="ORD-1")
    assert api.get(url).json()["skus"][0]["stock"] == 3
    stock_reserve(tenant=tenant, lines=[(sku.pk, 3)], reference="ORD-2")
    assert api.get(url).json()["skus"][0]["available"] is False
    assert api.get("/api/v1/products").json()["results"][0]["in_stock"] is False

    product_update(tenant=tenant, product=product, title="Shirt II")
    assert api.get(url).json()["title"] == "Shirt II"
    assert api.get("/api/v1/products").json()["results"][0]["title"] == "Shirt II"
    product_set_status(tenant=tenant, product_ids=[product.pk], status="off_shelf")
    assert api.get(url).status_code == 404
    assert api.get("/api/v1/products").json()["count"] == 0


def test_list_fast_path_answers_the_same_json_as_the_priced_path(
    api: Any, tenant: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With nothing to overlay the list answers the page's pre-encoded items; the bytes and
    the content type are those of the rendered (priced) path."""
    for i in range(3):
        _product(tenant, f"Thé vert {i} \u2028 «x»", "9.90", subtitle='quote " and \\')
    _product(tenant, "Draft", "1.00", status="draft")
    url = "/api/v1/products?page_size=2&page=2&ordering=price"

    fast = api.get(url)
    fast_again = api.get(url)  # served from the cached page

    from promotions.api import product_pricing

    seen: list[list[int]] = []

    def not_lower(**kwargs: Any) -> dict[int, Decimal]:
        seen.append(list(kwargs["product_ids"]))
        return {pk: Decimal("1000.00") for pk in kwargs["product_ids"]}  # never below the list

    monkeypatch.setattr(product_pricing, "product_prices_for_shopper", not_lower)
    slow = api.get(url)

    assert seen, "the priced path was not taken"
    assert fast.status_code == slow.status_code == 200
    assert fast["Content-Type"] == slow["Content-Type"] == "application/json"
    assert fast.content == fast_again.content == slow.content
    body = fast.json()
    assert body["count"] == 3
    assert body["next"] is None
    assert body["previous"] == "http://testserver/api/v1/products?ordering=price&page_size=2"
    assert b"\\u2028" in fast.content  # escaped as the renderer does
    assert [item["original_price"] for item in body["results"]] == ["9.90"]
