"""Inventory: every stock change is one guarded atomic UPDATE plus one StockMovement row.

``Sku.stock`` is the *sellable* quantity. Checkout reserves (stock goes down when the order is
placed), cancellation/expiry releases that reservation, payment does not touch stock; ``deduct``
is a sale without a prior reservation (offline sale, confirmed seckill), ``restock`` puts goods
back (returns, deliveries), ``adjust`` is a manual +/- and ``stock_set`` the absolute value an
ERP/WMS sends. See docs/catalog.md.

Rules:
- one call moves all its SKUs in a constant number of statements, whatever the line count:
  ``SELECT ... ORDER BY id FOR UPDATE`` (lock order = primary key: no deadlocks between
  concurrent multi-SKU calls), one guarded ``UPDATE ... FROM (VALUES ...) ... WHERE stock +
  delta >= 0 RETURNING ...`` and one bulk ledger INSERT. A line that does not fit is 409
  ``out_of_stock`` naming every short SKU (``details.skus`` when several), raised before
  anything is written: all lines move or none. The database's ``CHECK (stock >= 0)`` backs
  the guard;
- a movement with a ``reference`` is unique per (reason, reference, SKU): repeating the same call
  returns the first movement (``replayed=True``) and moves nothing again;
- crossing ``low_stock_threshold`` downwards records one ``product.stock_low`` event.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from catalog import lock_objects
from catalog.errors import CatalogErrorCode
from catalog.lock_objects import skus_stock_for_update
from catalog.models import Sku, StockMovement
from catalog.selectors import catalog_cache_changed
from catalog.sql import stock_move_and_record
from mall.errors import ApplicationError, ConflictError, InvalidInputError, NotFoundError
from mall.events.models import OutboxEvent
from mall.events.services import EventName
from mall.tenancy.models import Tenant

Reason = StockMovement.Reason
MAX_QUANTITY = 1_000_000


@dataclass(frozen=True)
class StockLine:
    sku_id: int
    quantity: int


def _lines(lines: Iterable[StockLine | tuple[int, int]] | Mapping[int, int]) -> list[StockLine]:
    """Merge duplicate SKUs and sort by id (the lock order)."""
    pairs = lines.items() if isinstance(lines, Mapping) else lines
    merged: dict[int, int] = {}
    for item in pairs:
        sku_id, quantity = (
            (item.sku_id, item.quantity) if isinstance(item, StockLine) else (item[0], item[1])
        )
        _check_quantity(quantity)
        merged[int(sku_id)] = merged.get(int(sku_id), 0) + quantity
    if not merged:
        raise InvalidInputError(CatalogErrorCode.INVALID_QUANTITY, _("No lines to move."))
    return [StockLine(sku_id, qty) for sku_id, qty in sorted(merged.items())]


def _check_quantity(quantity: int) -> None:
    if (
        not isinstance(quantity, int)
        or isinstance(quantity, bool)
        or not 0 < quantity <= MAX_QUANTITY
    ):
        raise InvalidInputError(
            CatalogErrorCode.INVALID_QUANTITY,
            _("Quantity must be a whole number between 1 and %(max)d.") % {"max": MAX_QUANTITY},
            details={"quantity": quantity},
        )


def _sku_missing(sku_id: int) -> ApplicationError:
    return NotFoundError(
        _("SKU not found."), code=CatalogErrorCode.SKU_NOT_FOUND, details={"sku_id": sku_id}
    )


def _existing(
    *, tenant_id: int, reason: str, reference: str, sku_ids: Iterable[int]
) -> dict[int, StockMovement]:
    """The movements already recorded under ``(reason, reference)`` for these SKUs."""
    if not reference:
        return {}
    found = StockMovement.objects.for_tenant(tenant_id).filter(
        reason=reason, reference=reference, sku_id__in=sorted(sku_ids)
    )
    result = {m.sku_id: m for m in found}
    for movement in result.values():
        movement.replayed = True
    return result


_ROW_FIELDS = ("id", "code", "product_id", "stock", "low_stock_threshold", "version")


def _out_of_stock(short: list[tuple[int, int, int]]) -> ApplicationError:
    """``short``: (sku_id, requested, available) of every line that does not fit. ``details``
    is the first one's ``{sku_id, requested, available}``; with several, ``skus`` lists all."""
    skus = [
        {"sku_id": sku_id, "requested": requested, "available": available}
        for sku_id, requested, available in short
    ]
    return ConflictError(
        CatalogErrorCode.OUT_OF_STOCK,
        _("Not enough stock."),
        details={**skus[0], "skus": skus} if len(skus) > 1 else skus[0],
    )


def _record_side_effects(
    *, tenant_id: int, rows: list[dict[str, Any]], deltas: dict[int, int]
) -> None:
    """Drop cached reads of the moved products (one cache call) and record one
    ``product.stock_low`` event per SKU this move took across its threshold (one INSERT)."""
    listing = False
    events = []
    for row in rows:
        delta = deltas[row["id"]]
        threshold = row["low_stock_threshold"]
        after = row["stock"]
        before = after - delta
        # The list shows in/out of stock: only reaching or leaving zero changes it.
        listing = listing or (before == 0) != (after == 0)
        if delta < 0 and threshold > 0 and before > threshold >= after:
            events.append(
                OutboxEvent(
                    tenant_id=tenant_id,
                    name=EventName.PRODUCT_STOCK_LOW,
                    subject=f"sku:{row['id']}",
                    payload={
                        "sku_id": row["id"],
                        "sku_code": row["code"],
                        "product_id": row["product_id"],
                        "stock": after,
                        "low_stock_threshold": threshold,
                    },
                )
            )
    if events:
        OutboxEvent.objects.bulk_create(events)
    catalog_cache_changed(
        tenant_id=tenant_id,
        product_ids=sorted({row["product_id"] for row in rows}),
        listing=listing,
    )


@contextmanager
def _in_transaction() -> Iterator[None]:
    """The caller's transaction if there is one (no savepoint: nothing is written before every
    check passed), else a new one."""
    if connection.in_atomic_block:
        yield
    else:
        with transaction.atomic():
            yield


def _move_many(
    *, tenant_id: int, deltas: dict[int, int], reason: str, reference: str, note: str
) -> list[StockMovement]:
    """Move every SKU of ``deltas`` (id -> signed change, ids ascending) or none.

    Statements: lock the rows in id order (``SELECT ... ORDER BY id FOR UPDATE``: the stock
    read is exact while we hold them), then one guarded ``UPDATE ... FROM (VALUES ...)`` with
    the ledger rows (on PostgreSQL in the same statement; elsewhere one more INSERT) and one
    INSERT of ``product.stock_low`` events when a threshold is crossed. Repeats of
    ``(reason, reference, sku)`` are skipped by the UPDATE itself and returned as the first
    movement (``replayed=True``); only then is the ledger read.
    """
    with _in_transaction():
        locked = skus_stock_for_update(tenant_id=tenant_id, sku_ids=list(deltas))
        for sku_id in deltas:
            if sku_id not in locked:
                raise _sku_missing(sku_id)
        replayed: dict[int, StockMovement] = {}
        short = [pk for pk, delta in deltas.items() if locked[pk] + delta < 0]
        if short:
            # A line that cannot move may still be a repeat of one that did.
            replayed = _existing(
                tenant_id=tenant_id, reason=reason, reference=reference, sku_ids=short
            )
            short = [pk for pk in short if pk not in replayed]
            if short:
                raise _out_of_stock([(pk, -deltas[pk], locked[pk]) for pk in short])
        wanted = {pk: delta for pk, delta in deltas.items() if pk not in replayed}
        try:
            moved = (
                stock_move_and_record(
                    tenant_id=tenant_id,
                    deltas=wanted,
                    reason=reason,
                    reference=reference,
                    note=note,
                )
                if wanted
                else []
            )
            if len(moved) < len(wanted):
                # Not moved although the stock was there: moved before under this reference.
                done = {row["id"] for row, _m in moved}
                missed = [pk for pk in wanted if pk not in done]
                found = _existing(
                    tenant_id=tenant_id, reason=reason, reference=reference, sku_ids=missed
                )
                lost = [pk for pk in missed if pk not in found]
                if lost:  # cannot happen while we hold the rows; never commit half a move
                    raise _out_of_stock([(pk, -deltas[pk], locked[pk]) for pk in lost])
                replayed.update(found)
            if moved:
                _record_side_effects(
                    tenant_id=tenant_id, rows=[row for row, _m in moved], deltas=wanted
                )
        except BaseException:
            # Rows may have moved: the whole transaction must roll back, not commit half.
            transaction.set_rollback(True)
            raise
    by_sku = dict(replayed)
    for _row, movement in moved:
        movement.replayed = False  # type: ignore[attr-defined]
        by_sku[movement.sku_id] = movement
    return [by_sku[pk] for pk in deltas]


def _move_lines(
    *,
    tenant: Tenant,
    lines: Iterable[StockLine | tuple[int, int]] | Mapping[int, int],
    sign: int,
    reason: str,
    reference: str,
    note: str = "",
) -> list[StockMovement]:
    return _move_many(
        tenant_id=tenant.pk,
        deltas={line.sku_id: sign * line.quantity for line in _lines(lines)},
        reason=reason,
        reference=reference,
        note=note,
    )


def stock_reserve(
    *,
    tenant: Tenant,
    lines: Iterable[StockLine | tuple[int, int]] | Mapping[int, int],
    reference: str,
) -> list[StockMovement]:
    """Reserve stock for an order (all lines or none); repeat-safe per ``reference``."""
    if not reference:
        raise InvalidInputError(
            CatalogErrorCode.INVALID_QUANTITY, _("A reservation needs a reference.")
        )
    return _move_lines(
        tenant=tenant, lines=lines, sign=-1, reason=Reason.RESERVE, reference=reference
    )


def stock_release(*, tenant: Tenant, reference: str, note: str = "") -> list[StockMovement]:
    """Give back everything reserved under ``reference`` (cancelled/expired order), once."""
    with transaction.atomic():
        reserved = list(
            StockMovement.objects.for_tenant(tenant)
            .filter(reason=Reason.RESERVE, reference=reference)
            .order_by("sku_id")
            .values_list("sku_id", "quantity")
        )
        if not reference or not reserved:
            raise ConflictError(
                CatalogErrorCode.NOTHING_TO_RELEASE,
                _("Nothing is reserved under this reference."),
                details={"reference": reference},
            )
        return _move_many(
            tenant_id=tenant.pk,
            deltas={sku_id: -quantity for sku_id, quantity in reserved},
            reason=Reason.RELEASE,
            reference=reference,
            note=note,
        )


def stock_deduct(
    *,
    tenant: Tenant,
    lines: Iterable[StockLine | tuple[int, int]] | Mapping[int, int],
    reference: str,
    note: str = "",
) -> list[StockMovement]:
    """Take stock for a sale that had no reservation (all lines or none)."""
    return _move_lines(
        tenant=tenant, lines=lines, sign=-1, reason=Reason.DEDUCT, reference=reference, note=note
    )


def stock_restock(
    *,
    tenant: Tenant,
    lines: Iterable[StockLine | tuple[int, int]] | Mapping[int, int],
    reference: str,
    note: str = "",
) -> list[StockMovement]:
    """Put goods back on sale (returned goods, a delivery)."""
    return _move_lines(
        tenant=tenant, lines=lines, sign=1, reason=Reason.RESTOCK, reference=reference, note=note
    )


def stock_adjust(
    *, tenant: Tenant, sku_id: int, delta: int, note: str, reference: str = ""
) -> StockMovement:
    """A manual +/- correction with a reason; never below zero."""
    if not isinstance(delta, int) or isinstance(delta, bool) or delta == 0:
        raise InvalidInputError(
            CatalogErrorCode.INVALID_QUANTITY,
            _("The change must be a non-zero whole number."),
            details={"delta": delta},
        )
    _check_quantity(abs(delta))
    [movement] = _move_many(
        tenant_id=tenant.pk, deltas={int(sku_id): delta}, reason=Reason.ADJUST,
        reference=reference, note=note,
    )  # fmt: skip
    return movement


def stock_set(
    *,
    tenant: Tenant,
    sku_id: int,
    stock: int,
    expected_version: int | None = None,
    reason: str = Reason.SYNC,
    note: str = "",
) -> tuple[dict[str, Any], StockMovement | None]:
    """Set the absolute stock (ERP/WMS sync); with ``expected_version`` a stale writer gets 409.

    Returns the SKU's new ``{id, stock, version}`` and the movement (None if unchanged).
    """
    if not isinstance(stock, int) or isinstance(stock, bool) or not 0 <= stock <= MAX_QUANTITY:
        raise InvalidInputError(
            CatalogErrorCode.INVALID_QUANTITY,
            _("Stock must be a whole number between 0 and %(max)d.") % {"max": MAX_QUANTITY},
            details={"stock": stock},
        )
    with transaction.atomic():
        scoped = Sku.objects.for_tenant(tenant).filter(pk=sku_id)
        row = lock_objects.sku_qs_for_update(tenant=tenant, pk=sku_id).values(*_ROW_FIELDS).first()
        if row is None:
            raise _sku_missing(sku_id)
        if expected_version is not None and row["version"] != expected_version:
            raise ConflictError(
                CatalogErrorCode.VERSION_CONFLICT,
                _("The SKU changed since you read it; read it again and retry."),
                details={
                    "sku_id": sku_id,
                    "expected_version": expected_version,
                    "current_version": row["version"],
                    "stock": row["stock"],
                },
            )
        delta = stock - row["stock"]
        if delta == 0:
            return {"id": sku_id, "stock": stock, "version": row["version"]}, None
        scoped.update(stock=stock, version=F("version") + 1)
        movement = StockMovement.objects.create(
            tenant=tenant,
            sku_id=sku_id,
            reason=reason,
            quantity=delta,
            stock_after=stock,
            note=note[:255],
        )
        after = {**row, "stock": stock, "version": row["version"] + 1}
        _record_side_effects(tenant_id=tenant.pk, rows=[after], deltas={sku_id: delta})
        return {"id": sku_id, "stock": stock, "version": after["version"]}, movement
