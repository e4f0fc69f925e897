"""The catalog's raw SQL: the reads and writes on the hottest paths, written out instead of
compiled by the ORM (see ``mall.rawsql`` for the helpers and why). Only the catalog's own
tables (``catalog_sku``, ``catalog_product``, ``catalog_stockmovement``); fixed SQL text, every
value a parameter. Another app that needs these rows calls a function here (or a selector),
never names the tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils import timezone

from catalog.models import StockMovement, specs_label_of
from mall.rawsql import as_decimal, as_json, fetch_all, placeholders, scalar_values

# --- SKUs for pricing and checkout (runs on every quote) ----------------------------------


class _IdIsPk:
    """``pk`` as on a model instance, for code that takes either."""

    __slots__ = ()
    id: int

    @property
    def pk(self) -> int:
        return self.id


@dataclass(slots=True)
class PricingProduct(_IdIsPk):
    """What pricing and order lines need of a product (built per row of every quote: slotted,
    not frozen, which costs about five times as much to build)."""

    id: int
    title: str
    status: str
    category_id: int | None
    freight_template_id: int | None
    main_image: str
    on_wechat: bool
    on_alipay: bool
    on_h5: bool


@dataclass(slots=True)
class PricingSku(_IdIsPk):
    """What pricing and order lines need of a SKU, with its product (``Sku``'s attribute
    names, so order-line builders take either). ``specs`` is parsed when first read (the quote
    never reads it; order lines do)."""

    id: int
    product_id: int
    code: str
    specs_column: Any  # the column's value: JSON text, or already parsed
    price: Decimal
    weight_grams: int
    stock: int
    is_active: bool
    product: PricingProduct

    @property
    def specs(self) -> list[dict[str, str]]:
        if isinstance(self.specs_column, str | bytes):
            self.specs_column = as_json(self.specs_column)
        return self.specs_column

    @property
    def specs_label(self) -> str:
        return specs_label_of(self.specs)


_PRICING_SKU_SQL = (
    "SELECT s.id, s.product_id, s.code, s.specs, s.price, s.weight_grams, s.stock, s.is_active,"
    " p.title, p.status, p.category_id, p.freight_template_id, p.main_image, p.on_wechat,"
    " p.on_alipay, p.on_h5{extra}"
    " FROM catalog_sku s INNER JOIN catalog_product p ON p.id = s.product_id"
    " WHERE s.tenant_id = %s AND s.id IN ({ids})"
)


def skus_for_pricing(
    *, tenant_id: int, sku_ids: Iterable[int], extra: Sequence[tuple[str, Sequence[Any]]] = ()
) -> tuple[dict[int, PricingSku], tuple[Any, ...] | None]:
    """The tenant's SKUs among ``sku_ids`` with their products, in one statement.

    ``extra`` adds scalar SQL expressions (``(sql, params)``, e.g. another app's counters as
    scalar subqueries) to the same statement, so fresh values come without a round trip of
    their own; their values are answered from the first row, or by a statement of their own
    when no SKU matched (None when there is no ``extra``).
    """
    ids = sorted(set(sku_ids))
    if not ids:
        return {}, scalar_values(extra) if extra else None
    sql = _PRICING_SKU_SQL.format(
        extra="".join(f", ({expression})" for expression, _ in extra),
        ids=placeholders(len(ids)),
    )
    params: list[Any] = [p for _, expression_params in extra for p in expression_params]
    rows = fetch_all(sql, [*params, tenant_id, *ids])
    native = connection.vendor == "postgresql"  # bool and numeric columns arrive typed
    skus: dict[int, PricingSku] = {}
    for row in rows:
        product = PricingProduct(
            row[1], row[8], row[9], row[10], row[11], row[12],
            *((row[13], row[14], row[15]) if native else map(bool, row[13:16])),
        )  # fmt: skip
        skus[row[0]] = PricingSku(
            row[0], row[1], row[2], row[3],
            row[4] if native else as_decimal(row[4]),  # type: ignore[arg-type]  # never NULL
            row[5], row[6],
            row[7] if native else bool(row[7]),
            product,
        )  # fmt: skip
    if not extra:
        return skus, None
    return skus, (tuple(rows[0][16:]) if rows else scalar_values(extra))


# --- stock moves (catalog.inventory; every checkout) --------------------------------------
_LOCK_SQL = "SELECT id, stock FROM catalog_sku WHERE tenant_id = %s AND id IN ({ids}) ORDER BY id"
_MOVE_SQL = (
    "UPDATE catalog_sku SET stock = catalog_sku.stock + v.delta, "
    "version = catalog_sku.version + 1 "
    "FROM v WHERE catalog_sku.id = v.id AND catalog_sku.tenant_id = %s "
    "AND catalog_sku.stock + v.delta >= 0{repeat} "
    "RETURNING catalog_sku.id, catalog_sku.code, catalog_sku.product_id, catalog_sku.stock, "
    "catalog_sku.low_stock_threshold"
)
_NOT_REPEATED_SQL = (
    " AND NOT EXISTS (SELECT 1 FROM catalog_stockmovement m WHERE m.tenant_id = %s"
    " AND m.reason = %s AND m.reference = %s AND m.sku_id = catalog_sku.id)"
)
# PostgreSQL: the ledger rows are written by the same statement (a data-modifying CTE).
_MOVE_AND_RECORD_SQL = (
    "WITH v (id, delta) AS (VALUES {values}), moved AS ({move}), "
    "ledger AS (INSERT INTO catalog_stockmovement "
    "(tenant_id, sku_id, reason, reference, quantity, stock_after, note, created_at) "
    "SELECT %s, moved.id, %s, %s, v.delta, moved.stock, %s, %s "
    "FROM moved JOIN v ON v.id = moved.id ORDER BY moved.id RETURNING id, sku_id) "
    "SELECT moved.id, moved.code, moved.product_id, moved.stock, moved.low_stock_threshold, "
    "ledger.id FROM moved JOIN ledger ON ledger.sku_id = moved.id"
)
_ROW_COLUMNS = ("id", "code", "product_id", "stock", "low_stock_threshold")


def sku_stock_lock(*, tenant_id: int, sku_ids: list[int]) -> dict[int, int]:
    """Lock the tenant's SKU rows in id order (no deadlocks between multi-SKU calls); their
    stock."""
    sql = _LOCK_SQL.replace("{ids}", ", ".join(["%s"] * len(sku_ids)))
    if connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    with connection.cursor() as cursor:
        cursor.execute(sql, [tenant_id, *sku_ids])
        return dict(cursor.fetchall())


def stock_move_and_record(
    *, tenant_id: int, deltas: dict[int, int], reason: str, reference: str, note: str
) -> list[tuple[dict[str, Any], StockMovement]]:
    """One guarded ``UPDATE ... FROM (VALUES ...)`` for every SKU of ``deltas`` whose stock
    stays >= 0 and that has no movement under ``(reason, reference)`` yet, and its ledger rows
    (same statement on PostgreSQL, one bulk INSERT elsewhere). Returns (row, movement) of each
    SKU moved.

    Runs after ``_lock``, so under READ COMMITTED this statement's snapshot sees every movement
    committed by a concurrent call that held the rows before us.
    """
    values = ", ".join(["(CAST(%s AS bigint), CAST(%s AS integer))"] * len(deltas))
    params: list[Any] = [x for pair in deltas.items() for x in pair]
    params.append(tenant_id)
    if reference:
        params += [tenant_id, reason, reference]
    move = _MOVE_SQL.replace("{repeat}", _NOT_REPEATED_SQL if reference else "")
    now = timezone.now()
    note = note[:255]

    def movement(row: dict[str, Any], pk: int | None = None) -> StockMovement:
        built = StockMovement(
            pk=pk,
            tenant_id=tenant_id,
            sku_id=row["id"],
            reason=reason,
            reference=reference,
            quantity=deltas[row["id"]],
            stock_after=row["stock"],
            note=note,
            created_at=now,
        )
        built._state.adding = pk is None  # a row read back from the database
        return built

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            sql = _MOVE_AND_RECORD_SQL.replace("{values}", values).replace("{move}", move)
            cursor.execute(sql, [*params, tenant_id, reason, reference, note, now])
            moved = []
            for *fields, movement_id in cursor.fetchall():
                row = dict(zip(_ROW_COLUMNS, fields, strict=True))
                moved.append((row, movement(row, movement_id)))
            return sorted(moved, key=lambda pair: pair[0]["id"])
        # SQLite: UPDATE ... RETURNING cannot feed an INSERT; write the ledger in one INSERT.
        cursor.execute(f"WITH v (id, delta) AS (VALUES {values}) {move}", params)
        rows = sorted(
            (dict(zip(_ROW_COLUMNS, r, strict=True)) for r in cursor.fetchall()),
            key=lambda row: row["id"],
        )
    created = StockMovement.objects.bulk_create([movement(row) for row in rows]) if rows else []
    return list(zip(rows, created, strict=True))
