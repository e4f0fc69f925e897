"""Catalog pages of the merchant console (/console/)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from catalog.models import Product, Sku, StockMovement
from catalog.services import product_create
from mall.tenancy.models import Staff
from tests.catalog.factories import ProductFactory, SkuFactory
from tests.mall.factories import StaffFactory, UserFactory


def _client(tenant: Any, role: str = Staff.Role.OWNER) -> Client:
    staff = StaffFactory(tenant=tenant, user=UserFactory(), role=role)
    client = Client()
    client.force_login(staff.user)
    return client


@pytest.fixture
def console(tenant: Any) -> Client:
    return _client(tenant)


def test_product_editor_generates_sku_matrix_from_specs(console: Client, tenant: Any) -> None:
    response = console.post(
        "/console/catalog/product/add/",
        {
            "ref": "TEE", "title": "T-shirt", "subtitle": "",
            "description": "<p>x<script></script></p>",
            "status": "draft", "sort_weight": 0, "supplier_ref": "", "on_wechat": "on",
            "specs-0-name": "Colour", "specs-0-values": ["Red", "Blue"],
            "specs-1-name": "Size", "specs-1-values": ["S", "M", "L"], "new_sku_price": "39.00",
            "skus-TOTAL_FORMS": "0", "skus-INITIAL_FORMS": "0",
            "images-TOTAL_FORMS": "0", "images-INITIAL_FORMS": "0",
        },
    )  # fmt: skip
    assert response.status_code == 302, response.content[:2000]
    product = Product.objects.get(tenant=tenant, ref="TEE")
    assert response["Location"] == f"/console/catalog/product/{product.pk}/change/"
    assert product.description == "<p>x</p>"
    codes = set(Sku.objects.filter(product=product).values_list("code", flat=True))
    assert len(codes) == 6 and "TEE-Red-S" in codes and "TEE-Blue-L" in codes
    assert str(product.display_price) == "39.00"
    # The change page shows the specs and the SKU matrix.
    page = console.get(f"/console/catalog/product/{product.pk}/change/").content.decode()
    assert 'name="specs-0-name" value="Colour"' in page and "TEE-Blue-M" in page
    assert 'name="specs-1-values" value="L"' in page


def test_bulk_on_and_off_shelf(console: Client, tenant: Any) -> None:
    with_sku = SkuFactory(product=ProductFactory(tenant=tenant, status="draft")).product
    with_sku.display_price = Decimal("1.00")
    with_sku.save()
    without_sku = ProductFactory(tenant=tenant, status="draft")
    response = console.post(
        "/console/catalog/product/",
        {"action": "put_on_sale", "_selected_action": [with_sku.pk, without_sku.pk]},
    )
    assert response.status_code == 302
    statuses = dict(Product.objects.values_list("pk", "status"))
    assert statuses == {with_sku.pk: "on_sale", without_sku.pk: "draft"}
    console.post(
        "/console/catalog/product/",
        {"action": "take_off_shelf", "_selected_action": [with_sku.pk]},
    )
    assert Product.objects.get(pk=with_sku.pk).status == "off_shelf"


def test_stock_adjustment_goes_through_inventory(console: Client, tenant: Any) -> None:
    sku = SkuFactory(product=ProductFactory(tenant=tenant), stock=5)
    url = f"/console/catalog/sku/{sku.pk}/adjust/"
    assert console.get(url).status_code == 200

    response = console.post(url, {"delta": "-2", "reason": "broken in store"})
    assert response.status_code == 302
    movement = StockMovement.objects.get(sku=sku)
    assert (movement.reason, movement.quantity, movement.stock_after) == ("adjust", -2, 3)
    assert movement.note.startswith("broken in store")

    too_much = console.post(url, {"delta": "-9", "reason": "x"})
    assert too_much.status_code == 200 and b"Not enough stock" in too_much.content
    assert Sku.objects.get(pk=sku.pk).stock == 3


def test_low_stock_list(console: Client, tenant: Any) -> None:
    product = ProductFactory(tenant=tenant)
    SkuFactory(product=product, code="LOW-1", stock=2, low_stock_threshold=5)
    SkuFactory(product=product, code="FINE-1", stock=20, low_stock_threshold=5)
    page = console.get("/console/catalog/sku/?stock_state=low").content.decode()
    assert "LOW-1" in page and "FINE-1" not in page


def test_other_tenants_products_and_skus_are_404(console: Client, other_tenant: Any) -> None:
    sku = SkuFactory(product=ProductFactory(tenant=other_tenant))
    assert console.get(f"/console/catalog/product/{sku.product_id}/change/").status_code == 404
    assert console.get(f"/console/catalog/sku/{sku.pk}/adjust/").status_code == 404
    assert (
        console.post(
            f"/console/catalog/sku/{sku.pk}/adjust/", {"delta": "-1", "reason": "x"}
        ).status_code
        == 404
    )
    assert Sku.objects.get(pk=sku.pk).stock == 10


def test_service_role_cannot_adjust_stock(tenant: Any) -> None:
    sku = SkuFactory(product=ProductFactory(tenant=tenant), stock=5)
    client = _client(tenant, Staff.Role.SERVICE)
    response = client.post(f"/console/catalog/sku/{sku.pk}/adjust/", {"delta": "1", "reason": "x"})
    assert response.status_code == 403
    assert Sku.objects.get(pk=sku.pk).stock == 5


def test_console_import_reports_bad_rows(console: Client, tenant: Any) -> None:
    data = b"product_ref,title,sku_code,price\nP1,Mug,M-1,abc\n"
    response = console.post(
        "/console/catalog/product/import/",
        {"file": SimpleUploadedFile("p.csv", data, content_type="text/csv")},
    )
    assert response.status_code == 200
    assert b"an amount &gt;= 0 with at most 2 decimals" in response.content
    assert not Product.objects.filter(tenant=tenant).exists()

    good = b"product_ref,title,sku_code,price\nP1,Mug,M-1,9.90\n"
    response = console.post(
        "/console/catalog/product/import/",
        {"file": SimpleUploadedFile("p.csv", good, content_type="text/csv")},
    )
    assert response.status_code == 302
    assert Product.objects.get(tenant=tenant, ref="P1").title == "Mug"


def test_sku_edit_refreshes_list_price(console: Client, tenant: Any) -> None:
    product = product_create(
        tenant=tenant, title="Cup", status="on_sale",
        skus=[{"code": "CUP", "price": Decimal("10.00"), "stock": 1}],
    )  # fmt: skip
    sku = product.skus.get()
    response = console.post(
        f"/console/catalog/sku/{sku.pk}/change/",
        {"code": "CUP", "barcode": "", "price": "7.50", "market_price": "", "cost_price": "",
         "weight_grams": 0, "low_stock_threshold": 0, "is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 302, response.content[:2000]
    assert str(Product.objects.get(pk=product.pk).display_price) == "7.50"


def _product_form(product: Product, **extra: Any) -> dict[str, Any]:
    return {
        "ref": product.ref, "title": product.title, "subtitle": "", "description": "",
        "status": product.status, "sort_weight": 0, "supplier_ref": "", "on_wechat": "on",
        "skus-TOTAL_FORMS": "0", "skus-INITIAL_FORMS": "0",
        "images-TOTAL_FORMS": "0", "images-INITIAL_FORMS": "0", **extra,
    }  # fmt: skip


def test_console_uploads_a_product_image_with_thumbnails(console: Client, tenant: Any) -> None:
    import io

    from PIL import Image

    from catalog.models import ProductImage

    product = ProductFactory(tenant=tenant, ref="MUG")
    buf = io.BytesIO()
    Image.new("RGB", (640, 480), "red").save(buf, "PNG")
    upload = SimpleUploadedFile("mug.png", buf.getvalue(), content_type="image/png")

    response = console.post(
        f"/console/catalog/product/{product.pk}/change/", _product_form(product, new_images=upload)
    )

    assert response.status_code == 302, response.content[:2000]
    image = ProductImage.objects.get(product=product)
    assert (image.width, image.height) == (640, 480)
    assert image.thumb_small and image.thumb_medium
    product.refresh_from_db()
    assert product.main_image == image.thumb_medium
    page = console.get(f"/console/catalog/product/{product.pk}/change/").content.decode()
    assert image.thumb_small in page


def test_console_refuses_a_file_that_is_not_an_image(console: Client, tenant: Any) -> None:
    from catalog.models import ProductImage

    product = ProductFactory(tenant=tenant, ref="CUP")
    fake = SimpleUploadedFile("cup.jpg", b"just text, not a jpeg", content_type="image/jpeg")

    response = console.post(
        f"/console/catalog/product/{product.pk}/change/", _product_form(product, new_images=fake)
    )

    assert response.status_code == 200  # the form comes back with the error
    assert "errorlist" in response.content.decode()
    assert not ProductImage.objects.filter(product=product).exists()
