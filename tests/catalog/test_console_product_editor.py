"""The console's product editor: spec dimensions, the SKU table with stock through the ledger
(stale edits refused), the sanitised rich-text description, images and their order."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from PIL import Image

from catalog import inventory
from catalog.models import Product, ProductImage, Sku, SpecValue, StockMovement
from mall.tenancy.models import Staff
from tests.catalog.factories import CategoryFactory, ProductFactory
from tests.mall.factories import StaffFactory, UserFactory

ADD_URL = "/console/catalog/product/add/"


def _client(tenant: Any, role: str = Staff.Role.OWNER) -> Client:
    staff = StaffFactory(tenant=tenant, user=UserFactory(), role=role)
    client = Client()
    client.force_login(staff.user)
    return client


@pytest.fixture
def console(tenant: Any) -> Client:
    return _client(tenant)


def _change_url(product: Product) -> str:
    return f"/console/catalog/product/{product.pk}/change/"


def _put(data: dict[str, Any], name: str, value: Any) -> None:
    if value is True:
        data[name] = "on"
    elif value is False:
        return
    elif value is None:
        data[name] = ""
    else:
        data[name] = str(value)


def _page_data(response: Any) -> dict[str, Any]:
    """What the browser would post back from the rendered change form, untouched."""
    data: dict[str, Any] = {}
    for bf in response.context["adminform"].form:
        if bf.name == "new_images":
            continue
        if bf.name == "specs":
            for index, spec in enumerate(bf.value() or []):
                data[f"specs-{index}-name"] = spec["name"]
                data[f"specs-{index}-values"] = list(spec["values"])
            continue
        _put(data, bf.html_name, bf.value())
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for bf in formset.management_form:
            _put(data, bf.html_name, bf.value())
        for form in formset.forms:
            for bf in form:
                _put(data, bf.html_name, bf.value())
    return data


def _sku_rows(data: dict[str, Any]) -> dict[str, str]:
    """SKU code -> its row prefix in the posted data (``skus-<n>``)."""
    return {
        value: key[: -len("-code")]
        for key, value in data.items()
        if key.startswith("skus-") and key.endswith("-code")
    }


def _create_tee(console: Client, **extra: Any) -> Product:
    response = console.post(
        ADD_URL,
        {
            "ref": "TEE", "title": "T-shirt", "subtitle": "", "description": "",
            "status": "draft", "sort_weight": 0, "supplier_ref": "", "on_wechat": "on",
            "specs-0-name": "颜色", "specs-0-values": ["红", "蓝"],
            "specs-1-name": "尺码", "specs-1-values": ["S", "M"],
            "new_sku_price": "39.00",
            "skus-TOTAL_FORMS": "0", "skus-INITIAL_FORMS": "0",
            "images-TOTAL_FORMS": "0", "images-INITIAL_FORMS": "0", **extra,
        },
    )  # fmt: skip
    assert response.status_code == 302, response.content[:3000]
    product = Product.objects.get(ref="TEE")
    assert response["Location"] == _change_url(product)  # straight to the SKU table
    return product


@pytest.mark.parametrize("role", [Staff.Role.OWNER, Staff.Role.OPERATOR])
def test_two_by_two_specs_make_four_skus_priced_and_stocked_in_the_table(
    tenant: Any, role: str
) -> None:
    console = _client(tenant, role)
    product = _create_tee(console)
    skus = {s.code: s for s in Sku.objects.filter(product=product)}
    assert set(skus) == {"TEE-红-S", "TEE-红-M", "TEE-蓝-S", "TEE-蓝-M"}
    assert {s.price for s in skus.values()} == {Decimal("39.00")}
    assert skus["TEE-蓝-M"].specs == [
        {"name": "颜色", "value": "蓝"},
        {"name": "尺码", "value": "M"},
    ]

    page = console.get(_change_url(product))
    data = _page_data(page)
    rows = _sku_rows(data)
    wanted = {
        "TEE-红-S": ("29.00", "49.00", 5),
        "TEE-红-M": ("31.00", "", 7),
        "TEE-蓝-S": ("33.00", "", 0),
        "TEE-蓝-M": ("35.50", "59.00", 12),
    }
    for code, (price, market, stock) in wanted.items():
        data[f"{rows[code]}-price"] = price
        data[f"{rows[code]}-market_price"] = market
        data[f"{rows[code]}-new_stock"] = str(stock)
    data["status"] = "on_sale"
    response = console.post(_change_url(product), data)
    assert response.status_code == 302, response.content[:3000]

    for code, (price, market, stock) in wanted.items():
        sku = Sku.objects.get(code=code)
        assert (sku.price, sku.market_price, sku.stock) == (
            Decimal(price),
            Decimal(market) if market else None,
            stock,
        )
    ledger = StockMovement.objects.filter(sku__product=product).order_by("sku__code")
    assert [(m.sku.code, m.reason, m.quantity, m.stock_after) for m in ledger] == [
        ("TEE-红-M", "console", 7, 7),
        ("TEE-红-S", "console", 5, 5),
        ("TEE-蓝-M", "console", 12, 12),
    ]  # no row for the SKU whose stock stayed 0
    assert all(m.get_reason_display() == "Console edit" for m in ledger)
    product.refresh_from_db()
    assert product.status == "on_sale"
    assert product.display_price == Decimal("29.00")  # the cheapest active SKU
    assert product.display_market_price == Decimal("49.00")


def test_a_stale_stock_edit_is_refused_and_the_stock_kept(console: Client, tenant: Any) -> None:
    product = _create_tee(console)
    sku = Sku.objects.get(code="TEE-红-S")
    inventory.stock_set(tenant=tenant, sku_id=sku.pk, stock=10)
    page = console.get(_change_url(product))  # the merchant sees 10
    # Meanwhile a shopper orders 2.
    inventory.stock_reserve(tenant=tenant, lines={sku.pk: 2}, reference="ORDER-1")

    data = _page_data(page)
    row = _sku_rows(data)["TEE-红-S"]
    data[f"{row}-new_stock"] = "50"
    response = console.post(_change_url(product), data)

    assert response.status_code == 200  # the form comes back
    body = response.content.decode()
    assert "SKU TEE-红-S: the stock changed to 8 while you were editing" in body
    assert Sku.objects.get(pk=sku.pk).stock == 8
    assert not StockMovement.objects.filter(sku=sku, reason="console").exists()

    # Saving again from the refreshed form is a deliberate choice: applied, with its ledger row.
    again = _page_data(response)
    assert again[f"{row}-seen_stock"] == "8"
    response = console.post(_change_url(product), again)
    assert response.status_code == 302, response.content[:3000]
    assert Sku.objects.get(pk=sku.pk).stock == 50
    movement = StockMovement.objects.get(sku=sku, reason="console")
    assert (movement.quantity, movement.stock_after) == (42, 50)


def test_a_stock_change_after_validation_is_not_overwritten(
    console: Client, tenant: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The guarded write (expected version) refuses even when the order lands after the form
    was checked; the other fields of the row are saved."""
    from catalog.console_forms import SkuConsoleForm

    product = _create_tee(console)
    sku = Sku.objects.get(code="TEE-红-S")
    data = _page_data(console.get(_change_url(product)))
    row = _sku_rows(data)["TEE-红-S"]
    data[f"{row}-new_stock"] = "30"
    data[f"{row}-price"] = "45.00"
    checked = SkuConsoleForm.clean

    def clean_then_sell(form: SkuConsoleForm) -> Any:
        result = checked(form)
        if form.instance.pk == sku.pk:
            inventory.stock_restock(tenant=tenant, lines={sku.pk: 3}, reference="RETURN-1")
        return result

    monkeypatch.setattr(SkuConsoleForm, "clean", clean_then_sell)
    response = console.post(_change_url(product), data, follow=True)

    assert "SKU TEE-红-S: the stock changed to 3 while you were editing" in (
        response.content.decode()
    )
    sku.refresh_from_db()
    assert (sku.stock, sku.price) == (3, Decimal("45.00"))
    assert not StockMovement.objects.filter(sku=sku, reason="console").exists()


def test_editing_prices_does_not_write_back_a_stock_read_before_an_order(
    console: Client, tenant: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The row was read for this request, then an order took stock: saving the price must not
    write the stock read before it back."""
    from catalog.console_forms import SkuConsoleForm

    product = _create_tee(console)
    sku = Sku.objects.get(code="TEE-蓝-S")
    inventory.stock_set(tenant=tenant, sku_id=sku.pk, stock=10)
    data = _page_data(console.get(_change_url(product)))
    data[f"{_sku_rows(data)['TEE-蓝-S']}-price"] = "20.00"
    checked = SkuConsoleForm.clean

    def clean_then_sell(form: SkuConsoleForm) -> Any:
        result = checked(form)
        if form.instance.pk == sku.pk:
            inventory.stock_reserve(tenant=tenant, lines={sku.pk: 4}, reference="ORDER-2")
        return result

    monkeypatch.setattr(SkuConsoleForm, "clean", clean_then_sell)
    response = console.post(_change_url(product), data)

    assert response.status_code == 302, response.content[:3000]
    sku.refresh_from_db()
    assert (sku.price, sku.stock) == (Decimal("20.00"), 6)


def test_sku_page_edit_does_not_write_back_a_stale_stock(
    console: Client, tenant: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from catalog.admin import SkuConsoleAdmin

    _create_tee(console)
    sku = Sku.objects.get(code="TEE-蓝-S")
    inventory.stock_set(tenant=tenant, sku_id=sku.pk, stock=10)
    saved = SkuConsoleAdmin.save_model

    def sell_then_save(self: Any, request: Any, obj: Sku, form: Any, change: bool) -> None:
        inventory.stock_reserve(tenant=tenant, lines={sku.pk: 4}, reference="ORDER-3")
        saved(self, request, obj, form, change)

    monkeypatch.setattr(SkuConsoleAdmin, "save_model", sell_then_save)
    response = console.post(
        f"/console/catalog/sku/{sku.pk}/change/",
        {"code": sku.code, "barcode": "", "price": "21.00", "market_price": "", "cost_price": "",
         "weight_grams": 0, "low_stock_threshold": 0, "is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 302, response.content[:3000]
    sku.refresh_from_db()
    assert (sku.price, sku.stock) == (Decimal("21.00"), 6)


def test_specs_values_are_added_and_removed_in_the_page(console: Client, tenant: Any) -> None:
    product = _create_tee(console)
    data = _page_data(console.get(_change_url(product)))
    data["specs-1-values"] = ["S", "M", "L"]
    response = console.post(_change_url(product), data)
    assert response.status_code == 200  # two new combinations: their price is asked for
    assert "Give the price of the 2 new SKU(s)" in response.content.decode()
    data["new_sku_price"] = "41.00"
    response = console.post(_change_url(product), data)
    assert response.status_code == 302, response.content[:3000]
    assert Sku.objects.filter(product=product).count() == 6  # 红-L and 蓝-L made

    # A value no SKU uses can go; one that SKUs use cannot.
    SpecValue.objects.create(
        tenant=tenant,
        spec_name=product.spec_names.get(name="尺码"),
        value="XL",
        position=9,
    )
    data = _page_data(console.get(_change_url(product)))
    assert data["specs-1-values"] == ["S", "M", "L", "XL"]
    data["specs-1-values"] = ["S", "M", "L"]
    assert console.post(_change_url(product), data).status_code == 302
    assert not SpecValue.objects.filter(value="XL").exists()

    data = _page_data(console.get(_change_url(product)))
    data["specs-0-values"] = ["红"]
    response = console.post(_change_url(product), data)
    assert response.status_code == 200
    assert "颜色: 蓝 is used by SKU(s) TEE-蓝-L, TEE-蓝-M, TEE-蓝-S" in response.content.decode()
    assert SpecValue.objects.filter(value="蓝").exists()

    # A new dimension for a product whose SKUs exist is refused with a message.
    data = _page_data(console.get(_change_url(product)))
    data["specs-2-name"] = "材质"
    data["specs-2-values"] = ["棉"]
    response = console.post(_change_url(product), data)
    assert response.status_code == 200
    assert "The spec 材质 cannot be added" in response.content.decode()


def test_new_combinations_need_a_price(console: Client, tenant: Any) -> None:
    response = console.post(
        ADD_URL,
        {
            "title": "Cap", "status": "draft", "sort_weight": 0,
            "specs-0-name": "Colour", "specs-0-values": ["Red", "Blue"],
            "skus-TOTAL_FORMS": "0", "skus-INITIAL_FORMS": "0",
            "images-TOTAL_FORMS": "0", "images-INITIAL_FORMS": "0",
        },
    )  # fmt: skip
    assert response.status_code == 200
    assert "Give the price of the 2 new SKU(s) this save creates." in response.content.decode()
    assert not Product.objects.filter(title="Cap").exists()


def test_description_is_sanitised_and_uses_the_rich_text_editor(
    console: Client, tenant: Any
) -> None:
    dirty = (
        '<h2 onclick="x()">Fabric</h2><p>Soft <strong>cotton</strong> <em>and</em> <u>more</u>'
        "<script>alert(1)</script></p>"
        '<ul><li>one</li></ul><img src="https://cdn.example.com/a.png" alt="a" onerror="alert(2)">'
        '<a href="javascript:alert(3)">bad</a> <a href="https://example.com/x">good</a>'
        "<iframe src='https://evil.example'></iframe>"
    )
    product = _create_tee(console, description=dirty)
    product.refresh_from_db()
    html = product.description
    for kept in ("<h2>Fabric</h2>", "<strong>cotton</strong>", "<em>and</em>", "<u>more</u>",
                 "<li>one</li>", 'src="https://cdn.example.com/a.png"', 'alt="a"',
                 'href="https://example.com/x"'):  # fmt: skip
        assert kept in html, html
    for dropped in ("script", "alert", "onerror", "onclick", "javascript:", "iframe"):
        assert dropped not in html, html

    page = console.get(_change_url(product)).content.decode()
    assert "<trix-editor" in page  # unfold's WYSIWYG widget
    assert "unfold/forms/js/trix/trix.js" in page


def _png(colour: str) -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", (120, 90), colour).save(buf, "PNG")
    return SimpleUploadedFile(f"{colour}.png", buf.getvalue(), content_type="image/png")


def test_images_uploaded_together_and_reordered_the_first_is_the_cover(
    console: Client, tenant: Any
) -> None:
    product = _create_tee(console)
    data = _page_data(console.get(_change_url(product)))
    data["new_images"] = [_png("red"), _png("blue")]
    response = console.post(_change_url(product), data)
    assert response.status_code == 302, response.content[:3000]
    red, blue = ProductImage.objects.filter(product=product).order_by("position")
    product.refresh_from_db()
    assert product.main_image == red.thumb_medium

    page = console.get(_change_url(product))
    html = page.content.decode()
    assert blue.thumb_small in html  # the preview
    # The rows are dragged into order (unfold's sortable inline); the position column is the
    # hidden input the drag writes (0, 1, ... from the top), posted like any field.
    assert 'id="images-data"' in html and 'data-ordering-field="position"' in html
    assert "x-sort.ghost" in html and "drag_indicator" in html
    data = _page_data(page)
    rows = {
        data[key]: key[: -len("-id")]
        for key in data
        if key.startswith("images-") and key.endswith("-id")
    }
    data[f"{rows[str(red.pk)]}-position"] = "1"  # as the drag writes them: blue on top
    data[f"{rows[str(blue.pk)]}-position"] = "0"
    response = console.post(_change_url(product), data)
    assert response.status_code == 302, response.content[:3000]

    order = list(ProductImage.objects.filter(product=product).values_list("pk", flat=True))
    assert order == [blue.pk, red.pk]
    product.refresh_from_db()
    assert product.main_image == blue.thumb_medium  # the new first image is the cover


def test_a_product_without_active_skus_does_not_go_on_sale(console: Client, tenant: Any) -> None:
    response = console.post(
        ADD_URL,
        {
            "title": "Nothing to sell", "status": "on_sale", "sort_weight": 0,
            "skus-TOTAL_FORMS": "0", "skus-INITIAL_FORMS": "0",
            "images-TOTAL_FORMS": "0", "images-INITIAL_FORMS": "0",
        },
    )  # fmt: skip
    assert response.status_code == 302, response.content[:3000]
    assert Product.objects.get(title="Nothing to sell").status == "draft"


def test_service_role_sees_the_product_but_cannot_change_stock(
    console: Client, tenant: Any
) -> None:
    product = _create_tee(console)
    service = _client(tenant, Staff.Role.SERVICE)
    assert service.get(_change_url(product)).status_code == 200
    data = _page_data(console.get(_change_url(product)))
    data[f"{_sku_rows(data)['TEE-红-S']}-new_stock"] = "9"
    assert service.post(_change_url(product), data).status_code == 403
    assert Sku.objects.get(code="TEE-红-S").stock == 0


def test_product_changelist_queries_do_not_grow_with_rows(console: Client, tenant: Any) -> None:
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = console.get("/console/catalog/product/")
        assert response.status_code == 200
        return len(queries)

    category = CategoryFactory(tenant=tenant)
    ProductFactory(tenant=tenant, category=category, main_image="catalog/x.png")
    few = count()
    for _ in range(6):
        ProductFactory(tenant=tenant, category=CategoryFactory(tenant=tenant))
    assert count() == few
