from __future__ import annotations

import io
import struct
import zlib
from typing import Any

import pytest
from django.core.files.storage import default_storage
from PIL import Image
from rest_framework.test import APIClient

from catalog.models import Product, ProductImage, Sku, StockMovement
from mall.tenancy.services import api_key_create
from tests.catalog.factories import CategoryFactory, ProductFactory, SkuFactory


def _client(tenant: Any, scopes: list[str] | None = None) -> APIClient:
    _, raw = api_key_create(tenant=tenant, scopes=scopes or ["catalog"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def merchant(tenant: Any) -> APIClient:
    return _client(tenant)


PAYLOAD = {
    "ref": "ERP-1",
    "title": "Linen shirt",
    "description": '<p onclick="x()">Cool<script>alert(1)</script></p>',
    "status": "on_sale",
    "platforms": ["wechat", "h5"],
    "specs": [{"name": "Colour", "values": ["Red", "Blue"]}, {"name": "Size", "values": ["M"]}],
    "skus": [
        {"code": "LS-R-M", "specs": {"Colour": "Red", "Size": "M"}, "price": "99.00", "stock": 4},
        {"code": "LS-B-M", "specs": {"Colour": "Blue", "Size": "M"}, "price": "89.00"},
    ],
}


def test_create_product_with_skus(merchant: APIClient, tenant: Any) -> None:
    category = CategoryFactory(tenant=tenant)
    response = merchant.post(
        "/api/merchant/v1/products", {**PAYLOAD, "category_id": category.pk}, format="json"
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["description"] == "<p>Cool</p>"
    assert body["platforms"] == ["wechat", "h5"] and body["display_price"] == "89.00"
    assert [(s["code"], s["stock"]) for s in body["skus"]] == [("LS-R-M", 4), ("LS-B-M", 0)]
    assert body["skus"][0]["specs"] == [
        {"name": "Colour", "value": "Red"},
        {"name": "Size", "value": "M"},
    ]
    assert StockMovement.objects.get().quantity == 4


def test_create_refuses_bad_specs_duplicate_codes_and_foreign_category(
    merchant: APIClient, tenant: Any, other_tenant: Any
) -> None:
    bad_specs = {**PAYLOAD, "skus": [{"code": "X", "specs": {"Colour": "Green"}, "price": "1"}]}
    response = merchant.post("/api/merchant/v1/products", bad_specs, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_specs"

    SkuFactory(product=ProductFactory(tenant=tenant), code="LS-R-M")
    response = merchant.post("/api/merchant/v1/products", PAYLOAD, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["details"] == {"codes": ["LS-R-M"]}

    foreign = CategoryFactory(tenant=other_tenant)
    response = merchant.post(
        "/api/merchant/v1/products", {**PAYLOAD, "category_id": foreign.pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_category"
    assert Product.objects.filter(tenant=tenant).count() == 1  # only the factory's


@pytest.mark.parametrize(
    "change",
    [
        {"specs": [{"values": []}]},  # a spec without its name
        {"skus": [{"price": "1.00"}]},  # a SKU without its code
        {"skus": [{"code": "LS-X"}]},  # a SKU without its price
    ],
)
def test_patch_with_an_incomplete_nested_item_is_400(
    merchant: APIClient, tenant: Any, change: dict[str, Any]
) -> None:
    """PATCH is partial for the product's own fields, not inside its specs or SKUs (found by
    schemathesis: a spec without a name was a 500)."""
    product_id = merchant.post("/api/merchant/v1/products", PAYLOAD, format="json").json()["id"]
    response = merchant.patch(f"/api/merchant/v1/products/{product_id}", change, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert "required" in error["message"]
    body = merchant.get(f"/api/merchant/v1/products/{product_id}").json()
    assert [s["code"] for s in body["skus"]] == [s["code"] for s in PAYLOAD["skus"]]


def test_patch_to_another_products_ref_is_409(merchant: APIClient, tenant: Any) -> None:
    """Found by schemathesis: the unique ref was a 500 on PATCH (POST already answered 409)."""
    merchant.post("/api/merchant/v1/products", PAYLOAD, format="json")
    other = merchant.post(
        "/api/merchant/v1/products", {"ref": "ERP-2", "title": "Other"}, format="json"
    ).json()["id"]
    response = merchant.patch(f"/api/merchant/v1/products/{other}", {"ref": "ERP-1"}, format="json")
    assert response.status_code == 409, response.content
    assert response.json()["error"]["code"] == "duplicate_product_ref"
    assert merchant.get(f"/api/merchant/v1/products/{other}").json()["ref"] == "ERP-2"


def test_get_and_patch_product(merchant: APIClient, tenant: Any) -> None:
    product_id = merchant.post("/api/merchant/v1/products", PAYLOAD, format="json").json()["id"]
    response = merchant.patch(
        f"/api/merchant/v1/products/{product_id}",
        {"title": "Linen shirt II", "status": "off_shelf",
         "skus": [{"code": "LS-B-M", "specs": {"Colour": "Blue", "Size": "M"}, "price": "79.00",
                   "stock": 999}]},
        format="json",
    )  # fmt: skip
    assert response.status_code == 200, response.json()
    body = merchant.get(f"/api/merchant/v1/products/{product_id}").json()
    assert body["title"] == "Linen shirt II" and body["status"] == "off_shelf"
    assert body["display_price"] == "79.00"
    blue = next(s for s in body["skus"] if s["code"] == "LS-B-M")
    assert blue["stock"] == 0  # stock is not changed by PATCH


def test_list_products(merchant: APIClient, tenant: Any, other_tenant: Any) -> None:
    ProductFactory(tenant=tenant, status="draft")
    ProductFactory(tenant=tenant)
    ProductFactory(tenant=other_tenant)
    assert merchant.get("/api/merchant/v1/products").json()["count"] == 2
    assert merchant.get("/api/merchant/v1/products?status=draft").json()["count"] == 1


def test_other_tenants_objects_are_404(merchant: APIClient, other_tenant: Any) -> None:
    sku = SkuFactory(product=ProductFactory(tenant=other_tenant))
    assert merchant.get(f"/api/merchant/v1/products/{sku.product_id}").status_code == 404
    assert (
        merchant.patch(
            f"/api/merchant/v1/products/{sku.product_id}", {"title": "x"}, format="json"
        ).status_code
        == 404
    )
    assert (
        merchant.put(
            f"/api/merchant/v1/skus/{sku.pk}/stock", {"stock": 1}, format="json"
        ).status_code
        == 404
    )
    assert (
        merchant.post(
            f"/api/merchant/v1/skus/{sku.pk}/stock", {"delta": 1, "reason": "x"}, format="json"
        ).status_code
        == 404
    )
    assert Sku.objects.get(pk=sku.pk).stock == 10


def test_scope_and_key_are_required(tenant: Any) -> None:
    orders_only = _client(tenant, ["orders"])
    assert orders_only.get("/api/merchant/v1/products").status_code == 403
    assert APIClient().get("/api/merchant/v1/products").status_code == 401


def test_put_stock_with_expected_version(merchant: APIClient, tenant: Any) -> None:
    sku = SkuFactory(product=ProductFactory(tenant=tenant), stock=5)
    url = f"/api/merchant/v1/skus/{sku.pk}/stock"

    ok = merchant.put(url, {"stock": 10, "expected_version": 1}, format="json")
    assert ok.status_code == 200 and ok.json() == {"id": sku.pk, "stock": 10, "version": 2}

    stale = merchant.put(url, {"stock": 3, "expected_version": 1}, format="json")
    assert stale.status_code == 409
    error = stale.json()["error"]
    assert error["code"] == "version_conflict" and error["details"]["current_version"] == 2

    assert merchant.put(url, {"stock": -1}, format="json").status_code == 400
    assert merchant.put(url, {"stock": 7}, format="json").json()["stock"] == 7


def test_post_stock_delta_is_guarded_and_idempotent(merchant: APIClient, tenant: Any) -> None:
    sku = SkuFactory(product=ProductFactory(tenant=tenant), stock=5)
    url = f"/api/merchant/v1/skus/{sku.pk}/stock"
    headers = {"HTTP_IDEMPOTENCY_KEY": "wms-42"}

    first = merchant.post(url, {"delta": -2, "reason": "stocktake"}, format="json", **headers)
    again = merchant.post(url, {"delta": -2, "reason": "stocktake"}, format="json", **headers)
    assert first.status_code == again.status_code == 200
    assert first.json()["stock"] == 3 and again.json() == first.json()
    assert Sku.objects.get(pk=sku.pk).stock == 3

    too_much = merchant.post(url, {"delta": -4, "reason": "x"}, format="json")
    assert too_much.status_code == 409
    assert too_much.json()["error"]["details"] == {"sku_id": sku.pk, "requested": 4,
                                                   "available": 3}  # fmt: skip
    assert merchant.post(url, {"delta": 0, "reason": "x"}, format="json").status_code == 400


# --- images ---------------------------------------------------------------------------


def _png_with_exif() -> bytes:
    img = Image.new("RGB", (900, 700), "red")
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x8825] = {2: (39.0, 54.0, 0.0)}  # GPS latitude
    buf = io.BytesIO()
    img.save(buf, "PNG", exif=exif.tobytes())
    return buf.getvalue()


def _upload(merchant: APIClient, product_id: int, name: str, data: bytes) -> Any:
    file = io.BytesIO(data)
    file.name = name
    return merchant.post(
        f"/api/merchant/v1/products/{product_id}/images", {"file": file}, format="multipart"
    )


def test_png_with_exif_is_stored_stripped_with_thumbnails(merchant: APIClient, tenant: Any) -> None:
    raw = _png_with_exif()
    assert Image.open(io.BytesIO(raw)).getexif()  # the fixture really carries EXIF
    product = ProductFactory(tenant=tenant)

    response = _upload(merchant, product.pk, "photo.png", raw)

    assert response.status_code == 201, response.json()
    image = ProductImage.objects.get()
    with default_storage.open(image.file) as fh:
        stored = Image.open(io.BytesIO(fh.read()))
    assert stored.size == (900, 700)
    assert not stored.getexif() and "exif" not in stored.info
    for name, size in ((image.thumb_small, 200), (image.thumb_medium, 600)):
        with default_storage.open(name) as fh:
            thumb = Image.open(io.BytesIO(fh.read()))
        assert max(thumb.size) == size and not thumb.getexif()
    product.refresh_from_db()
    assert product.main_image == image.thumb_medium


def test_text_file_named_jpg_is_refused(merchant: APIClient, tenant: Any) -> None:
    product = ProductFactory(tenant=tenant)
    response = _upload(merchant, product.pk, "evil.jpg", b"<?php echo 'hi'; ?>\n" * 10)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_image"
    assert not ProductImage.objects.exists()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def test_decompression_bomb_is_refused(merchant: APIClient, tenant: Any) -> None:
    # A tiny file whose header claims 100,000 x 100,000 pixels.
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    bomb = (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 1000))
        + _png_chunk(b"IEND", b"")
    )
    product = ProductFactory(tenant=tenant)
    response = _upload(merchant, product.pk, "bomb.png", bomb)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "image_too_large"
    assert not ProductImage.objects.exists()


def test_image_over_pixel_limit_but_under_pillow_limit_is_refused(
    merchant: APIClient, tenant: Any, settings: Any
) -> None:
    settings.CATALOG_MAX_IMAGE_PIXELS = 100 * 100
    buf = io.BytesIO()
    Image.new("RGB", (101, 100)).save(buf, "PNG")
    product = ProductFactory(tenant=tenant)
    response = _upload(merchant, product.pk, "big.png", buf.getvalue())
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "image_too_large"


def test_image_upload_to_other_tenants_product_is_404(
    merchant: APIClient, other_tenant: Any
) -> None:
    product = ProductFactory(tenant=other_tenant)
    assert _upload(merchant, product.pk, "p.png", _png_with_exif()).status_code == 404


def test_two_skus_with_the_same_combination_are_refused(merchant: APIClient) -> None:
    no_specs = {
        "title": "Mug",
        "skus": [{"code": "M-1", "price": "1"}, {"code": "M-2", "price": "1"}],
    }
    response = merchant.post("/api/merchant/v1/products", no_specs, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_specs"
    assert not Product.objects.exists()

    created = merchant.post("/api/merchant/v1/products", PAYLOAD, format="json").json()
    clash = {"skus": [{"code": "LS-NEW", "specs": {"Colour": "Red", "Size": "M"}, "price": "1"}]}
    response = merchant.patch(f"/api/merchant/v1/products/{created['id']}", clash, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["details"]["other_sku_code"] == "LS-R-M"
