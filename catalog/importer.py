"""Bulk product import from CSV or XLSX: one row per SKU, all rows validated before any write.

Used by ``manage.py import_products`` and the console upload. Columns (header row, any order;
see docs/catalog.md): product_ref*, title*, subtitle, description, category ("Clothes/Shirts",
missing levels are created), status (draft|on_sale|off_shelf), platforms ("wechat,alipay,h5"),
sort_weight, supplier_ref, spec:<Name> (one column per spec, e.g. spec:Colour), sku_code*,
barcode, price*, market_price, cost_price, weight_grams, stock, low_stock_threshold.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

from django.db import transaction
from django.utils.translation import gettext

from catalog.errors import CatalogErrorCode
from catalog.models import PLATFORM_FIELDS, Category, Product, Sku
from catalog.services import product_create, product_update
from mall.errors import InvalidInputError
from mall.tenancy.models import Tenant

REQUIRED = ("product_ref", "title", "sku_code", "price")
KNOWN = {
    *REQUIRED, "subtitle", "description", "category", "status", "platforms", "sort_weight",
    "supplier_ref", "barcode", "market_price", "cost_price", "weight_grams", "stock",
    "low_stock_threshold",
}  # fmt: skip
SPEC_PREFIX = "spec:"
MAX_ROWS = 50_000


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "reason": self.reason}


@dataclass
class ImportResult:
    products_created: int = 0
    products_updated: int = 0
    skus: int = 0
    categories_created: int = 0
    errors: list[RowError] = field(default_factory=list)


class ImportInvalid(InvalidInputError):
    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(
            CatalogErrorCode.IMPORT_INVALID,
            f"{len(errors)} problem(s) found; nothing was imported.",
            details={"errors": [e.as_dict() for e in errors]},
        )
        self.errors = errors


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def read_rows(*, name: str, stream: IO[bytes]) -> list[tuple[int, dict[str, str]]]:
    """(row number, {column: text}) for each non-empty data row; header is row 1."""
    suffix = Path(name).suffix.lower()
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        try:
            sheet = load_workbook(stream, read_only=True, data_only=True).worksheets[0]
        except Exception as exc:  # openpyxl raises many kinds on a broken file
            raise ImportInvalid([RowError(0, "", f"Not a readable XLSX file: {exc}")]) from exc
        raw_rows: Iterator[list[str]] = (
            [_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)
        )
    elif suffix == ".csv":
        try:
            text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
            raw_rows = ([_cell(v) for v in row] for row in csv.reader(text))
            raw_rows = iter(list(raw_rows))
        except (UnicodeDecodeError, csv.Error) as exc:
            raise ImportInvalid([RowError(0, "", f"Not a readable UTF-8 CSV: {exc}")]) from exc
    else:
        raise ImportInvalid([RowError(0, "", gettext("Use a .csv or .xlsx file."))])
    header = [_header(h) for h in next(raw_rows, [])]
    missing = [c for c in REQUIRED if c not in header]
    unknown = [h for h in header if h and h not in KNOWN and not h.startswith(SPEC_PREFIX)]
    problems = [RowError(1, c, "required column is missing") for c in missing]
    problems += [RowError(1, c, "unknown column") for c in unknown]
    if problems:
        raise ImportInvalid(problems)
    rows = []
    for number, values in enumerate(raw_rows, start=2):
        if not any(values):
            continue
        rows.append(
            (number, {h: (values[i] if i < len(values) else "") for i, h in enumerate(header) if h})
        )
        if len(rows) > MAX_ROWS:
            raise ImportInvalid([RowError(number, "", f"more than {MAX_ROWS} rows")])
    return rows


def _header(cell: str) -> str:
    cell = cell.strip()
    if cell.lower().startswith(SPEC_PREFIX):
        return SPEC_PREFIX + cell[len(SPEC_PREFIX) :].strip()
    return cell.lower()


def _decimal(value: str) -> Decimal:
    amount = Decimal(value)
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e10"):
        raise InvalidOperation
    if amount != amount.quantize(Decimal("0.01")):
        raise InvalidOperation
    return amount.quantize(Decimal("0.01"))


def _int(value: str, maximum: int = 1_000_000) -> int:
    number = int(value)
    if not 0 <= number <= maximum:
        raise ValueError
    return number


def _validate(
    tenant: Tenant, rows: list[tuple[int, dict[str, str]]]
) -> tuple[dict, list[RowError]]:
    errors: list[RowError] = []
    products: dict[str, dict[str, Any]] = {}
    codes_seen: dict[str, int] = {}
    for number, row in rows:

        def err(column: str, reason: str, number: int = number) -> None:
            errors.append(RowError(number, column, reason))

        ref = row.get("product_ref", "")
        if not ref:
            err("product_ref", "required")
            continue
        if len(ref) > 64:
            err("product_ref", "at most 64 characters")
            continue
        product = products.setdefault(ref, {"row": number, "fields": {}, "skus": [], "specs": {}})
        fields = product["fields"]
        for column, limit in (("title", 120), ("subtitle", 200), ("supplier_ref", 64)):
            value = row.get(column, "")
            if len(value) > limit:
                err(column, f"at most {limit} characters")
            elif value:
                if column in fields and fields[column] != value:
                    err(column, f"differs from row {product['row']} of product {ref}")
                fields[column] = value
        if row.get("description"):
            fields["description"] = row["description"]
        if row.get("category"):
            parts = [p.strip() for p in row["category"].split("/")]
            if any(not p or len(p) > 64 for p in parts):
                err("category", "use a path like Clothes/Shirts (names of 1-64 characters)")
            else:
                fields["category"] = tuple(parts)
        if row.get("status"):
            if row["status"] not in Product.Status.values:
                err("status", f"one of {', '.join(Product.Status.values)}")
            else:
                fields["status"] = row["status"]
        if row.get("platforms"):
            platforms = [p.strip().lower() for p in row["platforms"].split(",") if p.strip()]
            if any(p not in PLATFORM_FIELDS for p in platforms):
                err("platforms", "comma-separated wechat, alipay, h5")
            else:
                fields["platforms"] = platforms
        if row.get("sort_weight"):
            try:
                fields["sort_weight"] = int(row["sort_weight"])
            except ValueError:
                err("sort_weight", "a whole number")
        sku: dict[str, Any] = {"row": number}
        code = row.get("sku_code", "")
        if not code or len(code) > 64:
            err("sku_code", "required, at most 64 characters")
        elif code in codes_seen:
            err("sku_code", f"duplicate of row {codes_seen[code]}")
        else:
            codes_seen[code] = number
            sku["code"] = code
        for column in ("price", "market_price", "cost_price"):
            if not row.get(column):
                if column == "price":
                    err(column, "required")
                continue
            try:
                sku[column] = _decimal(row[column])
            except (InvalidOperation, ValueError):
                err(column, "an amount >= 0 with at most 2 decimals")
        for column in ("weight_grams", "stock", "low_stock_threshold"):
            if row.get(column):
                try:
                    sku[column] = _int(row[column], 10_000_000)
                except ValueError:
                    err(column, "a whole number >= 0")
        if row.get("barcode"):
            sku["barcode"] = row["barcode"][:64]
        specs = {
            k[len(SPEC_PREFIX) :]: v for k, v in row.items() if k.startswith(SPEC_PREFIX) and v
        }
        for name, value in specs.items():
            if len(name) > 32 or len(value) > 64:
                err(SPEC_PREFIX + name, "spec names at most 32, values at most 64 characters")
        sku["specs"] = specs
        if product["skus"]:
            first = product["skus"][0]
            if set(first["specs"]) != set(specs):
                err("spec", f"rows of product {ref} must fill the same spec columns")
            elif any(s["specs"] == specs for s in product["skus"]):
                err("spec", f"the same spec combination appears twice in product {ref}")
        for name, value in specs.items():
            values = product["specs"].setdefault(name, [])
            if value not in values:
                values.append(value)
        product["skus"].append(sku)
    for ref, product in products.items():
        if "title" not in product["fields"]:
            errors.append(RowError(product["row"], "title", f"required for product {ref}"))
    # SKU codes already used by another product of the shop.
    existing = dict(
        Sku.objects.for_tenant(tenant)
        .filter(code__in=list(codes_seen))
        .values_list("code", "product__ref")
    )
    for ref, product in products.items():
        for sku in product["skus"]:
            owner = existing.get(sku.get("code"))
            if owner is not None and owner != ref:
                errors.append(RowError(sku["row"], "sku_code", "already used by another product"))
    return products, sorted(errors, key=lambda e: (e.row, e.column))


def _category_for(tenant: Tenant, path: tuple[str, ...], result: ImportResult) -> Category:
    parent = None
    for name in path:
        node = Category.objects.for_tenant(tenant).filter(parent=parent, name=name).first()
        if node is None:
            node = Category.objects.create(tenant=tenant, parent=parent, name=name)
            result.categories_created += 1
        parent = node
    assert parent is not None
    return parent


def products_import(
    *, tenant: Tenant, name: str, stream: IO[bytes], dry_run: bool = False
) -> ImportResult:
    """Validate every row, then write everything in one transaction (or nothing)."""
    rows = read_rows(name=name, stream=stream)
    products, errors = _validate(tenant, rows)
    if errors:
        raise ImportInvalid(errors)
    result = ImportResult()
    if dry_run:
        result.skus = sum(len(p["skus"]) for p in products.values())
        return result
    with transaction.atomic():
        categories: dict[tuple[str, ...], Category] = {}
        existing = {
            p.ref: p for p in Product.objects.for_tenant(tenant).filter(ref__in=list(products))
        }
        for ref, product in products.items():
            fields = dict(product["fields"])
            path = fields.pop("category", None)
            if path is not None:
                if path not in categories:
                    categories[path] = _category_for(tenant, path, result)
                fields["category_id"] = categories[path].pk
            specs = [{"name": n, "values": v} for n, v in product["specs"].items()]
            skus = [{k: v for k, v in s.items() if k != "row"} for s in product["skus"]]
            if ref in existing:
                product_update(
                    tenant=tenant, product=existing[ref], specs=specs, skus=skus, **fields
                )
                result.products_updated += 1
            else:
                product_create(tenant=tenant, ref=ref, specs=specs, skus=skus, **fields)
                result.products_created += 1
            result.skus += len(skus)
    return result
