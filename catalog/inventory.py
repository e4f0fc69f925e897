"""Inventory: every stock change is one guarded atomic UPDATE plus one StockMovement row.

``Sku.stock`` is the *sellable* quantity. Checkout reserves (stock goes down when the order is
placed), cancellation/expiry releases that reservation, payment does not touch stock; ``deduct``
is a sale without a prior reservation (offline sale, confirmed seckill), ``restock`` puts goods
back (returns, deliveries), ``adjust`` is a manual +/- and ``stock_set`` the absolute value an
ERP/WMS sends. See docs/catalog.md.

Rules:
- decrements are ``UPDATE ... SET stock = stock - n WHERE id = .. AND stock >= n``; 0 rows means
  out of stock (409 ``out_of_stock``) and the database's ``CHECK (stock >= 0)`` backs it;
- multi-SKU operations touch rows in primary-key order (no deadlocks) in one transaction: all
  lines move or none;
- a movement with a ``reference`` is unique per (reason, reference, SKU): repeating the same call
  returns the first movement and moves nothing again;
- crossing ``low_stock_threshold`` downwards records one ``product.stock_low`` event.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F

from catalog.errors import CatalogErrorCode
from catalog.models import Sku, StockMovement
from catalog.selectors import catalog_cache_changed
from mall.api.errors import ApplicationError
from mall.events.services import EventName, event_record
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
        raise ApplicationError(
            CatalogErrorCode.INVALID_QUANTITY, "No lines to move.", status_code=400
        )
    return [StockLine(sku_id, qty) for sku_id, qty in sorted(merged.items())]


def _check_quantity(quantity: int) -> None:
    if (
        not isinstance(quantity, int)
        or isinstance(quantity, bool)
        or not 0 < quantity <= MAX_QUANTITY
    ):
        raise ApplicationError(
            CatalogErrorCode.INVALID_QUANTITY,
            f"Quantity must be a whole number between 1 and {MAX_QUANTITY}.",
            details={"quantity": quantity},
            status_code=400,
        )


def _sku_missing(sku_id: int) -> ApplicationError:
    return ApplicationError(
        CatalogErrorCode.SKU_NOT_FOUND,
        "SKU not found.",
        details={"sku_id": sku_id},
        status_code=404,
    )


def _existing(*, tenant_id: int, sku_id: int, reason: str, reference: str) -> StockMovement | None:
    if not reference:
        return None
    return (
        StockMovement.objects.for_tenant(tenant_id)
        .filter(reason=reason, reference=reference, sku_id=sku_id)
        .first()
    )


def _after_move(*, tenant_id: int, row: dict[str, Any], delta: int) -> None:
    """Drop cached reads of the product; record ``product.stock_low`` when this move crossed
    the threshold downwards."""
    threshold = row["low_stock_threshold"]
    after = row["stock"]
    before = after - delta
    # The list shows in/out of stock: only reaching or leaving zero changes it.
    catalog_cache_changed(
        tenant_id=tenant_id, product_ids=[row["product_id"]], listing=(before == 0) != (after == 0)
    )
    if delta < 0 and threshold > 0 and before > threshold >= after:
        event_record(
            tenant=tenant_id,
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


_ROW_FIELDS = ("id", "code", "product_id", "stock", "low_stock_threshold", "version")


def _move(
    *, tenant_id: int, sku_id: int, delta: int, reason: str, reference: str, note: str
) -> StockMovement:
    """One guarded move of one SKU, inside the caller's transaction (savepoint for repeats)."""
    existing = _existing(tenant_id=tenant_id, sku_id=sku_id, reason=reason, reference=reference)
    if existing is not None:
        existing.replayed = True  # type: ignore[attr-defined]
        return existing
    try:
        with transaction.atomic():
            scoped = Sku.objects.for_tenant(tenant_id).filter(pk=sku_id)
            guarded = scoped.filter(stock__gte=-delta) if delta < 0 else scoped
            updated = guarded.update(stock=F("stock") + delta, version=F("version") + 1)
            if not updated:
                available = scoped.values_list("stock", flat=True).first()
                if available is None:
                    raise _sku_missing(sku_id)
                raise ApplicationError(
                    CatalogErrorCode.OUT_OF_STOCK,
                    "Not enough stock.",
                    details={"sku_id": sku_id, "requested": -delta, "available": available},
                    status_code=409,
                )
            # Read back inside the transaction: our UPDATE holds the row lock.
            row = scoped.values(*_ROW_FIELDS).get()
            movement = StockMovement.objects.create(
                tenant_id=tenant_id,
                sku_id=sku_id,
                reason=reason,
                reference=reference,
                quantity=delta,
                stock_after=row["stock"],
                note=note[:255],
            )
    except IntegrityError:
        # A concurrent call with the same (reason, reference, sku) committed first.
        existing = _existing(tenant_id=tenant_id, sku_id=sku_id, reason=reason, reference=reference)
        if existing is None:
            raise
        existing.replayed = True  # type: ignore[attr-defined]
        return existing
    _after_move(tenant_id=tenant_id, row=row, delta=delta)
    movement.replayed = False  # type: ignore[attr-defined]
    return movement


def _move_lines(
    *,
    tenant: Tenant,
    lines: Iterable[StockLine | tuple[int, int]] | Mapping[int, int],
    sign: int,
    reason: str,
    reference: str,
    note: str = "",
) -> list[StockMovement]:
    with transaction.atomic():
        return [
            _move(
                tenant_id=tenant.pk,
                sku_id=line.sku_id,
                delta=sign * line.quantity,
                reason=reason,
                reference=reference,
                note=note,
            )
            for line in _lines(lines)
        ]


def stock_reserve(
    *,
    tenant: Tenant,
    lines: Iterable[StockLine | tuple[int, int]] | Mapping[int, int],
    reference: str,
) -> list[StockMovement]:
    """Reserve stock for an order (all lines or none); repeat-safe per ``reference``."""
    if not reference:
        raise ApplicationError(
            CatalogErrorCode.INVALID_QUANTITY, "A reservation needs a reference.", status_code=400
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
            raise ApplicationError(
                CatalogErrorCode.NOTHING_TO_RELEASE,
                "Nothing is reserved under this reference.",
                details={"reference": reference},
                status_code=409,
            )
        return [
            _move(
                tenant_id=tenant.pk,
                sku_id=sku_id,
                delta=-quantity,
                reason=Reason.RELEASE,
                reference=reference,
                note=note,
            )
            for sku_id, quantity in reserved
        ]


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
        raise ApplicationError(
            CatalogErrorCode.INVALID_QUANTITY, "The change must be a non-zero whole number.",
            details={"delta": delta}, status_code=400,
        )  # fmt: skip
    _check_quantity(abs(delta))
    with transaction.atomic():
        return _move(
            tenant_id=tenant.pk,
            sku_id=sku_id,
            delta=delta,
            reason=Reason.ADJUST,
            reference=reference,
            note=note,
        )


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
        raise ApplicationError(
            CatalogErrorCode.INVALID_QUANTITY,
            f"Stock must be a whole number between 0 and {MAX_QUANTITY}.",
            details={"stock": stock},
            status_code=400,
        )
    with transaction.atomic():
        scoped = Sku.objects.for_tenant(tenant).filter(pk=sku_id)
        row = scoped.select_for_update().values(*_ROW_FIELDS).first()
        if row is None:
            raise _sku_missing(sku_id)
        if expected_version is not None and row["version"] != expected_version:
            raise ApplicationError(
                CatalogErrorCode.VERSION_CONFLICT,
                "The SKU changed since you read it; read it again and retry.",
                details={
                    "sku_id": sku_id,
                    "expected_version": expected_version,
                    "current_version": row["version"],
                    "stock": row["stock"],
                },
                status_code=409,
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
        _after_move(tenant_id=tenant.pk, row=after, delta=delta)
        return {"id": sku_id, "stock": stock, "version": after["version"]}, movement
