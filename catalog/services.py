"""Write use cases of the catalog: products with specs and SKUs, status changes.

Stock never changes here except the initial stock of a new SKU (recorded as a movement);
everything else goes through catalog.inventory.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from catalog import lock_objects
from catalog.errors import CatalogErrorCode
from catalog.models import (
    PLATFORM_FIELDS,
    PRODUCT_TRANSITIONS,
    Category,
    FreightTemplate,
    Product,
    Sku,
    SpecName,
    SpecValue,
    StockMovement,
)
from catalog.richtext import description_sanitize
from catalog.selectors import catalog_cache_changed
from mall.errors import ApplicationError, ConflictError, InvalidInputError
from mall.tenancy.models import Tenant
from mall.transitions import transition_apply, transition_update

PRODUCT_FIELDS = (
    "ref", "title", "subtitle", "description", "status", "sort_weight", "supplier_ref",
    "on_wechat", "on_alipay", "on_h5",
)  # fmt: skip
SKU_FIELDS = (
    "barcode", "price", "market_price", "cost_price", "weight_grams", "low_stock_threshold",
    "is_active",
)  # fmt: skip
NULLABLE_SKU_FIELDS = ("market_price", "cost_price")


def _invalid(error_code: str, message: str | Promise, **details: Any) -> ApplicationError:
    return InvalidInputError(error_code, message, details=details)


def _category(tenant: Tenant, category_id: int | None) -> Category | None:
    if category_id is None:
        return None
    category = Category.objects.for_tenant(tenant).filter(pk=category_id).first()
    if category is None:
        raise _invalid(
            CatalogErrorCode.INVALID_CATEGORY, _("Unknown category."), category=category_id
        )
    return category


def _freight_template(tenant: Tenant, template_id: int | None) -> FreightTemplate | None:
    if template_id is None:
        return None
    template = FreightTemplate.objects.for_tenant(tenant).filter(pk=template_id).first()
    if template is None:
        raise _invalid(
            CatalogErrorCode.INVALID_FREIGHT_TEMPLATE,
            _("Unknown freight template."),
            freight_template=template_id,
        )
    return template


def product_transition(product: Product, to: str) -> bool:
    """The one status change of a product, checked against ``PRODUCT_TRANSITIONS`` (409 when
    not allowed; ``False`` when already there). The caller saves."""
    return transition_apply(product, PRODUCT_TRANSITIONS, to, entity="product")


def _apply_fields(product: Product, data: dict[str, Any]) -> None:
    status = data.pop("status", None)
    if status:
        product_transition(product, status)
    platforms = data.pop("platforms", None)
    if platforms is not None:
        for platform, field_name in PLATFORM_FIELDS.items():
            setattr(product, field_name, platform in platforms)
    for name in PRODUCT_FIELDS:
        if name in data:
            value = data[name]
            if name == "description":
                value = description_sanitize(value or "")
            setattr(product, name, value if value is not None else "")


def _ensure_specs(
    *, tenant: Tenant, product: Product, specs: Sequence[dict[str, Any]]
) -> dict[str, tuple[SpecName, dict[str, SpecValue]]]:
    """Create the spec names/values that are missing; return name -> (SpecName, values)."""
    existing = {s.name: s for s in SpecName.objects.for_tenant(tenant).filter(product=product)}
    for position, spec in enumerate(specs):
        name = str(spec["name"]).strip()
        if not name:
            raise _invalid(CatalogErrorCode.INVALID_SPECS, _("A spec needs a name."))
        if name not in existing:
            existing[name] = SpecName.objects.create(
                tenant=tenant, product=product, name=name, position=position
            )
    values = SpecValue.objects.for_tenant(tenant).filter(spec_name__product=product)
    by_name: dict[str, tuple[SpecName, dict[str, SpecValue]]] = {
        name: (spec_name, {}) for name, spec_name in existing.items()
    }
    by_id = {s.pk: s.name for s in existing.values()}
    for value in values:
        by_name[by_id[value.spec_name_id]][1][value.value] = value
    for spec in specs:
        spec_name, known = by_name[str(spec["name"]).strip()]
        for position, raw in enumerate(spec.get("values", [])):
            text = str(raw).strip()
            if text and text not in known:
                known[text] = SpecValue.objects.create(
                    tenant=tenant, spec_name=spec_name, value=text, position=position
                )
    return by_name


def _resolve_combination(
    specs_map: dict[str, tuple[SpecName, dict[str, SpecValue]]],
    chosen: dict[str, str],
    code: str,
) -> tuple[list[SpecValue], list[dict[str, str]], str]:
    if set(chosen) != set(specs_map):
        raise _invalid(
            CatalogErrorCode.INVALID_SPECS,
            _("Each SKU must pick exactly one value of every spec."),
            sku_code=code,
            expected=sorted(specs_map),
            given=sorted(chosen),
        )
    ordered = sorted(specs_map.values(), key=lambda item: (item[0].position, item[0].pk))
    picked: list[SpecValue] = []
    for spec_name, values in ordered:
        value = values.get(str(chosen[spec_name.name]).strip())
        if value is None:
            raise _invalid(
                CatalogErrorCode.INVALID_SPECS,
                _("Unknown value for spec %(spec)s.") % {"spec": spec_name.name},
                sku_code=code,
                spec=spec_name.name,
                value=chosen[spec_name.name],
            )
        picked.append(value)
    specs_json = [
        {"name": spec_name.name, "value": v.value}
        for (spec_name, _), v in zip(ordered, picked, strict=True)
    ]
    return picked, specs_json, "-".join(str(v.pk) for v in picked)


def _check_codes(tenant: Tenant, codes: Iterable[str], exclude_ids: Iterable[int] = ()) -> None:
    codes = list(codes)
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    taken = (
        Sku.objects.for_tenant(tenant)
        .filter(code__in=codes)
        .exclude(pk__in=list(exclude_ids))
        .values_list("code", flat=True)
    )
    clash = sorted(set(duplicates) | set(taken))
    if clash:
        raise ConflictError(
            CatalogErrorCode.DUPLICATE_SKU_CODE,
            _("SKU codes must be unique in the shop."),
            details={"codes": clash},
        )


def _write_skus(
    *, tenant: Tenant, product: Product, specs_map: Any, skus: Sequence[dict[str, Any]]
) -> None:
    current = {s.code: s for s in Sku.objects.for_tenant(tenant).filter(product=product)}
    by_id = {s.pk: s for s in current.values()}
    incoming_existing: list[int] = []
    for data in skus:
        sku = by_id.get(data["id"]) if data.get("id") else current.get(data["code"])
        if data.get("id") and sku is None:
            raise _invalid(CatalogErrorCode.SKU_NOT_FOUND, _("Unknown SKU."), sku_id=data["id"])
        if sku is not None:
            incoming_existing.append(sku.pk)
    _check_codes(tenant, [d["code"] for d in skus], exclude_ids=incoming_existing)
    resolved = []
    # Spec combinations already taken by SKUs this call does not touch.
    seen: dict[str, str] = {
        s.spec_key: code for code, s in current.items() if s.pk not in incoming_existing
    }
    for data in skus:
        sku = by_id.get(data["id"]) if data.get("id") else current.get(data["code"])
        picked, specs_json, key = _resolve_combination(
            specs_map, dict(data.get("specs") or {}), data["code"]
        )
        if key in seen:
            raise _invalid(
                CatalogErrorCode.INVALID_SPECS,
                _("Two SKUs of a product cannot have the same spec combination."),
                sku_code=data["code"],
                other_sku_code=seen[key],
            )
        seen[key] = data["code"]
        resolved.append((data, sku, picked, specs_json, key))
    for data, sku, picked, specs_json, key in resolved:
        if sku is None:
            stock = int(data.get("stock") or 0)
            sku = Sku(tenant=tenant, product=product, stock=stock)
        sku.code = data["code"]
        sku.specs = specs_json
        sku.spec_key = key
        for name in SKU_FIELDS:
            if name not in data:
                continue
            if data[name] is None and name not in NULLABLE_SKU_FIELDS:
                continue
            setattr(sku, name, data[name])
        is_new = sku.pk is None
        try:
            with transaction.atomic():
                sku.save()
        except IntegrityError as exc:  # a concurrent writer took the code meanwhile
            raise ConflictError(
                CatalogErrorCode.DUPLICATE_SKU_CODE,
                _("SKU codes must be unique in the shop."),
                details={"codes": [sku.code]},
            ) from exc
        sku.spec_values.set(picked)
        if is_new and sku.stock:
            StockMovement.objects.create(
                tenant=tenant, sku=sku, reason=StockMovement.Reason.SYNC,
                quantity=sku.stock, stock_after=sku.stock, note="initial stock",
            )  # fmt: skip


def product_refresh_display_price(*, product: Product) -> None:
    """Keep the list's price (lowest active SKU) and its market price in step with the SKUs."""
    cheapest = (
        Sku.objects.for_tenant(product.tenant_id)
        .filter(product=product, is_active=True)
        .order_by("price", "id")
        .values("price", "market_price")
        .first()
    )
    product.display_price = cheapest["price"] if cheapest else None
    product.display_market_price = cheapest["market_price"] if cheapest else None
    Product.objects.for_tenant(product.tenant_id).filter(pk=product.pk).update(
        display_price=product.display_price, display_market_price=product.display_market_price
    )
    catalog_cache_changed(tenant_id=product.tenant_id, product_ids=[product.pk], listing=True)


def _save_product(product: Product) -> None:
    """Save; a ref another product of the shop uses is 409 ``duplicate_product_ref``."""
    try:
        with transaction.atomic():
            product.save()
    except IntegrityError as exc:
        raise ConflictError(
            "duplicate_product_ref",
            _("Another product already uses this ref."),
            details={"ref": product.ref},
        ) from exc


def product_create(
    *,
    tenant: Tenant,
    title: str,
    category_id: int | None = None,
    freight_template_id: int | None = None,
    specs: Sequence[dict[str, Any]] = (),
    skus: Sequence[dict[str, Any]] = (),
    **fields: Any,
) -> Product:
    """Create a product with its specs and SKUs (initial stock recorded as movements)."""
    with transaction.atomic():
        product = Product(tenant=tenant, title=title)
        _apply_fields(product, dict(fields))
        product.category = _category(tenant, category_id)
        product.freight_template = _freight_template(tenant, freight_template_id)
        _save_product(product)
        specs_map = _ensure_specs(tenant=tenant, product=product, specs=specs)
        _write_skus(tenant=tenant, product=product, specs_map=specs_map, skus=skus)
        product_refresh_display_price(product=product)
    return product


_MISSING = object()


def product_update(
    *,
    tenant: Tenant,
    product: Product,
    specs: Sequence[dict[str, Any]] | None = None,
    skus: Sequence[dict[str, Any]] | None = None,
    **fields: Any,
) -> Product:
    """Update fields; ``specs`` add names/values, ``skus`` upsert by id or code (stock untouched
    for existing SKUs: use the inventory endpoints)."""
    with transaction.atomic():
        product = lock_objects.product_qs_for_update(tenant=tenant, pk=product.pk).get()
        category_id = fields.pop("category_id", _MISSING)
        template_id = fields.pop("freight_template_id", _MISSING)
        _apply_fields(product, fields)
        if category_id is not _MISSING:
            product.category = _category(tenant, category_id)
        if template_id is not _MISSING:
            product.freight_template = _freight_template(tenant, template_id)
        _save_product(product)
        if specs is not None or skus is not None:
            specs_map = _ensure_specs(tenant=tenant, product=product, specs=specs or ())
            if skus is not None:
                for data in skus:
                    if data.get("id"):
                        data.pop("stock", None)
                _write_skus(tenant=tenant, product=product, specs_map=specs_map, skus=skus)
        product_refresh_display_price(product=product)
    return product


def product_set_status(*, tenant: Tenant, product_ids: Sequence[int], status: str) -> int:
    """Bulk on/off shelf; products without an active SKU cannot go on sale. Returns the count."""
    if status not in Product.Status.values:
        raise _invalid("invalid_status", _("Unknown status."), status=status)
    qs = Product.objects.for_tenant(tenant).filter(pk__in=list(product_ids))
    if status == Product.Status.ON_SALE:
        qs = qs.filter(display_price__isnull=False)
    # A guarded UPDATE from the statuses ``PRODUCT_TRANSITIONS`` allows; rows already there
    # count as set (as before).
    already = qs.filter(status=status).count()
    changed = already + transition_update(
        qs, PRODUCT_TRANSITIONS, status, updated_at=timezone.now()
    )
    catalog_cache_changed(tenant_id=tenant.pk, product_ids=product_ids, listing=True)
    return changed


def product_sales_add(*, tenant: Tenant, product_id: int, quantity: int) -> None:
    """Counter for the list's ``sales`` (see ``product_sales_change``)."""
    product_sales_change(tenant=tenant, quantities={product_id: quantity})


def product_sales_change(*, tenant: Tenant, quantities: Mapping[int, int]) -> None:
    """Add (paid) or take back (negative: refunded) sold quantities per product id, in the
    caller's transaction; never below 0 (sales before counting began are unknown). Rows are
    updated in id order (no deadlock between two orders of the same products). Cached list
    pages are not invalidated: a count shows there up to ``PRODUCT_PAGE_CACHE_TTL`` late."""
    for product_id in sorted(quantities):
        quantity = quantities[product_id]
        if quantity:
            Product.objects.for_tenant(tenant).filter(pk=product_id).update(
                sales_count=Greatest(F("sales_count") + quantity, 0)
            )


def product_specs_set(*, tenant: Tenant, product: Product, specs: Sequence[dict[str, Any]]) -> None:
    """Add the given spec names/values to the product (existing ones are kept)."""
    with transaction.atomic():
        _ensure_specs(tenant=tenant, product=product, specs=specs)


def product_generate_sku_matrix(*, tenant: Tenant, product: Product, price: Decimal) -> int:
    """Create a SKU (stock 0, ``price``) for every spec combination that has none yet.

    Codes are ``<ref or P<id>>-<value>-<value>``; a taken code gets a numeric suffix.
    Returns the number of SKUs created.
    """
    from itertools import product as cartesian

    with transaction.atomic():
        names = list(
            SpecName.objects.for_tenant(tenant).filter(product=product).order_by("position", "id")
        )
        values = {
            n.pk: list(SpecValue.objects.for_tenant(tenant).filter(spec_name=n)) for n in names
        }
        if any(not v for v in values.values()):
            raise _invalid(
                CatalogErrorCode.INVALID_SPECS, _("Every spec needs at least one value.")
            )
        # Compared as sets of value ids: a spec moved to another position keeps its SKUs.
        existing = {
            frozenset(filter(None, key.split("-")))
            for key in Sku.objects.for_tenant(tenant)
            .filter(product=product)
            .values_list("spec_key", flat=True)
        }
        taken = set(Sku.objects.for_tenant(tenant).values_list("code", flat=True))
        prefix = product.ref or f"P{product.pk}"
        created = 0
        for combo in cartesian(*[values[n.pk] for n in names]):
            key = "-".join(str(v.pk) for v in combo)
            if frozenset(str(v.pk) for v in combo) in existing:
                continue
            base = "-".join([prefix, *(v.value for v in combo)])[:60]
            code, n = base, 1
            while code in taken:
                n += 1
                code = f"{base}-{n}"
            taken.add(code)
            sku = Sku.objects.create(
                tenant=tenant, product=product, code=code, spec_key=key, price=price,
                specs=[{"name": name.name, "value": v.value}
                       for name, v in zip(names, combo, strict=True)],
            )  # fmt: skip
            sku.spec_values.set(combo)
            created += 1
        product_refresh_display_price(product=product)
    return created


# --- Spec dimensions edited as a whole (console product editor) ---------------------------

SPEC_NAME_MAX = 32
SPEC_VALUE_MAX = 64
SPEC_DIMENSIONS_MAX = 3
SPEC_VALUES_MAX = 50


def specs_normalise(specs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Strip names/values, drop empty values and repeats; refuse unnamed, repeated or too long
    dimensions. Returns ``[{"name": str, "values": [str, ...]}, ...]`` in the given order."""
    clean: list[dict[str, Any]] = []
    seen: set[str] = set()
    for spec in specs:
        name = str(spec.get("name") or "").strip()
        values: list[str] = []
        for raw in spec.get("values") or []:
            text = str(raw).strip()
            if text and text not in values:
                values.append(text)
        if not name and not values:
            continue
        if not name:
            raise _invalid(CatalogErrorCode.INVALID_SPECS, _("Every spec needs a name."))
        if name in seen:
            raise _invalid(
                CatalogErrorCode.INVALID_SPECS,
                _("The spec %(spec)s is listed twice.") % {"spec": name},
                spec=name,
            )
        if not values:
            raise _invalid(
                CatalogErrorCode.INVALID_SPECS,
                _("The spec %(spec)s needs at least one value.") % {"spec": name},
                spec=name,
            )  # fmt: skip
        if len(name) > SPEC_NAME_MAX or any(len(v) > SPEC_VALUE_MAX for v in values):
            raise _invalid(
                CatalogErrorCode.INVALID_SPECS,
                _("Spec names have at most %(name)d characters and values at most %(value)d.")
                % {"name": SPEC_NAME_MAX, "value": SPEC_VALUE_MAX},
                spec=name,
            )
        if len(values) > SPEC_VALUES_MAX:
            raise _invalid(
                CatalogErrorCode.INVALID_SPECS,
                _("A spec has at most %(max)d values.") % {"max": SPEC_VALUES_MAX},
                spec=name,
            )
        seen.add(name)
        clean.append({"name": name, "values": values})
    if len(clean) > SPEC_DIMENSIONS_MAX:
        raise _invalid(
            CatalogErrorCode.INVALID_SPECS,
            _("A product has at most %(max)d specs.") % {"max": SPEC_DIMENSIONS_MAX},
        )
    return clean


def _sku_spec_rows(tenant: Tenant, product: Product | None) -> list[tuple[str, dict[str, str]]]:
    if product is None or product.pk is None:
        return []
    rows = Sku.objects.for_tenant(tenant).filter(product=product).values_list("code", "specs")
    return [(code, {s["name"]: s["value"] for s in specs or []}) for code, specs in rows]


def product_specs_check(
    *, tenant: Tenant, product: Product | None, specs: Sequence[dict[str, Any]]
) -> int:
    """Check that ``specs`` (normalised) may replace the product's specs; return how many spec
    combinations have no SKU yet (what saving will generate).

    Refused (400 ``invalid_specs``): removing a value or a spec that SKUs use (deactivate
    those SKUs instead; their history stays), and adding a spec to a product whose SKUs
    exist (they would have no value of it).
    """
    from itertools import product as cartesian

    rows = _sku_spec_rows(tenant, product)
    wanted = {s["name"]: s["values"] for s in specs}
    used: dict[tuple[str, str], list[str]] = {}
    for code, chosen in rows:
        for name, value in chosen.items():
            used.setdefault((name, value), []).append(code)
    for (name, value), codes in sorted(used.items()):
        if name not in wanted:
            raise _invalid(
                CatalogErrorCode.INVALID_SPECS,
                _(
                    "The spec %(spec)s is used by SKU(s) %(skus)s; "
                    "it cannot be removed (deactivate those SKUs instead)."
                )
                % {"spec": name, "skus": ", ".join(sorted(codes)[:5])},
                spec=name, skus=sorted(codes),
            )  # fmt: skip
        if value not in wanted[name]:
            raise _invalid(
                CatalogErrorCode.INVALID_SPECS,
                _(
                    "%(spec)s: %(value)s is used by SKU(s) %(skus)s; "
                    "it cannot be removed (deactivate those SKUs instead)."
                )
                % {"spec": name, "value": value, "skus": ", ".join(sorted(codes)[:5])},
                spec=name, value=value, skus=sorted(codes),
            )  # fmt: skip
    if rows:
        had = {name for _code, chosen in rows for name in chosen}
        added = [name for name in wanted if name not in had]
        if added:
            raise _invalid(
                CatalogErrorCode.INVALID_SPECS,
                _(
                    "The spec %(spec)s cannot be added: this product's SKUs exist without it. "
                    "Create a new product for the new combinations."
                )
                % {"spec": added[0]},
                spec=added[0],
            )
    existing = {tuple(chosen.get(s["name"]) for s in specs) for _code, chosen in rows}
    return sum(1 for combo in cartesian(*wanted.values()) if combo not in existing)


def product_specs_replace(
    *, tenant: Tenant, product: Product, specs: Sequence[dict[str, Any]]
) -> None:
    """Make the product's specs exactly ``specs`` (order = position): missing names/values are
    created, the ones left out deleted (only if no SKU uses them; see ``product_specs_check``)."""
    specs = specs_normalise(specs)
    with transaction.atomic():
        lock_objects.product_qs_for_update(tenant=tenant, pk=product.pk).first()
        product_specs_check(tenant=tenant, product=product, specs=specs)
        wanted = {s["name"]: s["values"] for s in specs}
        names = {n.name: n for n in SpecName.objects.for_tenant(tenant).filter(product=product)}
        for name, spec_name in names.items():
            if name not in wanted:
                spec_name.delete()
        by_name = _ensure_specs(tenant=tenant, product=product, specs=specs)
        for position, spec in enumerate(specs):
            spec_name, values = by_name[spec["name"]]
            if spec_name.position != position:
                SpecName.objects.filter(pk=spec_name.pk).update(position=position)
            for text, value in values.items():
                if text not in spec["values"]:
                    value.delete()
                elif value.position != spec["values"].index(text):
                    SpecValue.objects.filter(pk=value.pk).update(
                        position=spec["values"].index(text)
                    )
