from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from catalog.importer import ImportInvalid, products_import
from catalog.models import Category, Product, Sku, StockMovement

HEADER = ["product_ref", "title", "category", "status", "spec:Colour", "spec:Size", "sku_code",
          "price", "market_price", "stock", "weight_grams"]  # fmt: skip


def _csv(rows: list[list[Any]], header: list[str] = HEADER) -> bytes:
    lines = [",".join(header)] + [",".join(str(c) for c in row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


GOOD = [
    ["P1", "Linen shirt", "Clothes/Shirts", "on_sale", "Red", "M", "LS-R-M", "99.00", "129", 5,
     300],
    ["P1", "Linen shirt", "Clothes/Shirts", "on_sale", "Red", "L", "LS-R-L", "99.00", "", 0, 320],
    ["P2", "Green tea", "Food", "draft", "", "", "GT-1", "15.5", "", 10, 100],
]  # fmt: skip


def test_good_csv_imports_products_skus_categories(tenant: Any) -> None:
    result = products_import(tenant=tenant, name="p.csv", stream=io.BytesIO(_csv(GOOD)))

    assert (result.products_created, result.skus, result.categories_created) == (2, 3, 3)
    shirt = Product.objects.get(tenant=tenant, ref="P1")
    assert shirt.category.name == "Shirts" and shirt.category.parent.name == "Clothes"
    assert shirt.status == "on_sale" and str(shirt.display_price) == "99.00"
    sku = Sku.objects.get(code="LS-R-M")
    assert sku.specs == [{"name": "Colour", "value": "Red"}, {"name": "Size", "value": "M"}]
    assert (sku.stock, sku.weight_grams, str(sku.market_price)) == (5, 300, "129.00")
    assert StockMovement.objects.filter(sku__product__tenant=tenant).count() == 2


def test_one_bad_row_writes_nothing_and_is_reported(tenant: Any) -> None:
    bad = [*GOOD, ["P3", "Mug", "Home", "on_sale", "", "", "MUG-1", "-3", "", "x", 0]]

    with pytest.raises(ImportInvalid) as exc:
        products_import(tenant=tenant, name="p.csv", stream=io.BytesIO(_csv(bad)))

    assert [e.as_dict() for e in exc.value.errors] == [
        {"row": 5, "column": "price", "reason": "an amount >= 0 with at most 2 decimals"},
        {"row": 5, "column": "stock", "reason": "a whole number >= 0"},
    ]
    assert not Product.objects.exists()
    assert not Category.objects.exists()
    assert not Sku.objects.exists()


def test_every_kind_of_bad_row_is_reported(tenant: Any) -> None:
    rows = [
        ["", "No ref", "", "", "", "", "A-1", "1", "", "", ""],
        ["P1", "Shirt", "", "sold", "Red", "", "A-2", "1.999", "", "", ""],
        ["P1", "Shirt", "Bad//Path", "", "Red", "M", "A-2", "1", "", "", ""],
        ["P2", "", "", "", "", "", "", "1", "", "", ""],
    ]  # fmt: skip
    with pytest.raises(ImportInvalid) as exc:
        products_import(tenant=tenant, name="p.csv", stream=io.BytesIO(_csv(rows)))
    got = {(e.row, e.column) for e in exc.value.errors}
    assert {(2, "product_ref"), (3, "status"), (3, "price"), (4, "category"),
            (4, "sku_code"), (4, "spec"), (5, "sku_code"), (5, "title")} <= got  # fmt: skip


def test_missing_and_unknown_columns(tenant: Any) -> None:
    data = _csv([["P1", "x"]], header=["product_ref", "colour"])
    with pytest.raises(ImportInvalid) as exc:
        products_import(tenant=tenant, name="p.csv", stream=io.BytesIO(data))
    assert {(e.column, e.reason) for e in exc.value.errors} >= {
        ("title", "required column is missing"),
        ("colour", "unknown column"),
    }


def test_generated_1000_row_xlsx_imports(tenant: Any, tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(HEADER)
    for i in range(1000):
        product = i // 4
        ws.append([f"P{product}", f"Product {product}", f"Cat {product % 7}/Sub {product % 3}",
                   "on_sale", ["Red", "Blue"][i % 2], ["S", "M"][(i // 2) % 2], f"SKU-{i}",
                   10 + (i % 50), None, i % 20, 250])  # fmt: skip
    path = tmp_path / "products.xlsx"
    wb.save(path)

    out = io.StringIO()
    call_command("import_products", "--tenant", tenant.slug, str(path), stdout=out)

    assert "Imported 1000 SKU(s): 250 product(s) created" in out.getvalue()
    assert Product.objects.filter(tenant=tenant).count() == 250
    assert Sku.objects.filter(tenant=tenant).count() == 1000
    assert Category.objects.filter(tenant=tenant, parent=None).count() == 7


def test_command_reports_bad_rows_and_fails(tenant: Any, tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(_csv([*GOOD, ["P9", "x", "", "", "", "", "LS-R-M", "1", "", "", ""]]))
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_products", "--tenant", tenant.slug, str(path), stderr=err)
    assert "row 5, column sku_code: duplicate of row 2" in err.getvalue()
    assert not Product.objects.exists()


def test_reimport_updates_instead_of_duplicating(tenant: Any) -> None:
    products_import(tenant=tenant, name="p.csv", stream=io.BytesIO(_csv(GOOD)))
    changed = [[*GOOD[0][:7], "89.00", *GOOD[0][8:]], *GOOD[1:]]
    result = products_import(tenant=tenant, name="p.csv", stream=io.BytesIO(_csv(changed)))
    assert (result.products_created, result.products_updated) == (0, 2)
    assert Product.objects.count() == 2 and Sku.objects.count() == 3
    assert str(Sku.objects.get(code="LS-R-M").price) == "89.00"
