"""Read paths of the catalog."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q, QuerySet

from catalog.models import (
    PLATFORM_FIELDS,
    Category,
    Product,
    ProductImage,
    Sku,
    SpecValue,
)
from catalog.sql import PricingProduct, PricingSku, skus_for_pricing
from mall.cache import LocalCache
from mall.tenancy.models import Tenant
from mall.tenancy.scoping import access_by_id
from mall.versions import cache_version, version_bump

CATEGORY_TREE_CACHE_TTL = 600


def _tree_version_key(tenant_id: int) -> str:
    return f"catalog:category-tree-version:{tenant_id}"


def category_tree_version_key(tenant_id: int) -> str:
    """The cache key of the tenant's category tree version (bumped by any category change)."""
    return _tree_version_key(tenant_id)


def category_tree_invalidate(*, tenant_id: int) -> None:
    """Bump the tenant's tree version so the next read rebuilds it."""
    version_bump(_tree_version_key(tenant_id))


def category_tree_visible(*, tenant: Tenant) -> list[dict[str, Any]]:
    """The tenant's visible category tree, nested; one query on a miss, none on a hit.

    A hidden category hides its whole subtree.
    """
    version = cache_version(_tree_version_key(tenant.pk))
    cache_key = f"catalog:category-tree:{tenant.pk}:{version}"
    tree = cache.get(cache_key)
    if tree is not None:
        return tree
    rows = (
        Category.objects.for_tenant(tenant)
        .order_by("tree_id", "lft")
        .values("id", "parent_id", "name", "icon", "sort_order", "is_visible", "level")
    )
    nodes: dict[int, dict[str, Any]] = {}
    roots: list[dict[str, Any]] = []
    hidden: set[int] = set()
    for row in rows:
        if not row["is_visible"] or row["parent_id"] in hidden:
            hidden.add(row["id"])
            continue
        node = {
            "id": row["id"],
            "name": row["name"],
            "icon": row["icon"],
            "sort_order": row["sort_order"],
            "level": row["level"],
            "children": [],
        }
        nodes[row["id"]] = node
        parent = nodes.get(row["parent_id"]) if row["parent_id"] else None
        if parent is not None:
            parent["children"].append(node)
        else:
            roots.append(node)
    _sort(roots)
    cache.set(cache_key, roots, CATEGORY_TREE_CACHE_TTL)
    return roots


CATEGORY_PARENTS_CACHE_TTL = 120  # bounds a read racing a category move
_parents_local: LocalCache[int, dict[int, int | None]] = LocalCache("category-parents")


def _category_parents(tenant_id: int, version: int) -> dict[int, int | None]:
    """The tenant's ``{id: parent_id}`` at tree ``version``: from this process's copy, else
    the cache, else one query."""
    local = _parents_local.get(tenant_id, version=version)
    if local is not None:
        return local
    key = f"catalog:category-parents:{tenant_id}:{version}"
    parents = cache.get(key)
    if parents is None:
        parents = dict(
            Category.objects.for_tenant(tenant_id).values_list("id", "parent_id").order_by()
        )
        cache.set(key, parents, CATEGORY_PARENTS_CACHE_TTL)
    return _parents_local.set(tenant_id, parents, version=version, ttl=CATEGORY_PARENTS_CACHE_TTL)


def category_ancestors(
    *, tenant_id: int, category_ids: Iterable[int], version: int | None = None
) -> dict[int, frozenset[int]]:
    """Category id -> itself and its ancestors, for each of ``category_ids`` (the tenant's).

    Walks the tenant's ``{id: parent_id}`` map kept under the category tree ``version`` (read
    from the cache when not given): no query on a warm cache, one on a miss.
    """
    wanted = [pk for pk in category_ids if pk]
    if not wanted:
        return {}
    if version is None:
        version = cache_version(_tree_version_key(tenant_id))
    parents = _category_parents(tenant_id, version)
    result: dict[int, frozenset[int]] = {}
    for pk in wanted:
        if pk not in parents:
            continue
        chain: list[int] = []
        node: int | None = pk
        while node is not None and node not in chain:
            chain.append(node)
            node = parents.get(node)
        result[pk] = frozenset(chain)
    return result


def _sort(nodes: list[dict[str, Any]]) -> None:
    nodes.sort(key=lambda n: (n["sort_order"], n["name"], n["id"]))
    for node in nodes:
        _sort(node["children"])


# --- Products (shopper) ------------------------------------------------------------------

PRODUCT_LIST_CACHE_TTL = 300  # counts: exact until products change (versioned key)
PRODUCT_PAGE_CACHE_TTL = 60  # pages: bounded staleness of sales counts and ordering
PRODUCT_DETAIL_CACHE_TTL = 30
PRODUCT_ORDERINGS: dict[str, tuple[str, ...]] = {
    "default": ("-sort_weight", "-id"),
    "sales": ("sales_count", "id"),
    "-sales": ("-sales_count", "-id"),
    "price": ("display_price", "id"),
    "-price": ("-display_price", "-id"),
    "newest": ("-created_at", "-id"),
}
LIST_FIELDS = (
    "id", "title", "subtitle", "main_image", "display_price", "display_market_price",
    "sales_count",
)  # fmt: skip


def _listing_version_key(tenant_id: int) -> str:
    return f"catalog:listing-version:{tenant_id}"


def product_listing_invalidate(*, tenant_id: int) -> None:
    """Products changed (status, price, category, visibility): cached list counts are stale."""
    key = _listing_version_key(tenant_id)
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 2, None)


def product_detail_invalidate(*, tenant_id: int, product_id: int) -> None:
    """The product, its SKUs, stock, specs or images changed: drop its cached detail."""
    cache.delete(_detail_key(tenant_id, product_id))


def catalog_cache_changed(
    *, tenant_id: int, product_ids: Iterable[int] = (), listing: bool = False
) -> None:
    """Drop cached reads now and again after commit (so a read racing the transaction cannot
    keep the old state for long)."""
    ids = list(product_ids)

    def drop() -> None:
        if listing:
            product_listing_invalidate(tenant_id=tenant_id)
        if ids:
            cache.delete_many([_detail_key(tenant_id, pk) for pk in ids])

    drop()
    transaction.on_commit(drop)


def _detail_key(tenant_id: int, product_id: int) -> str:
    return f"catalog:product-detail:{tenant_id}:{product_id}"


def _image_url(name: str) -> str:
    return default_storage.url(name) if name else ""


def product_filter_for_shopper(
    *,
    tenant: Tenant,
    platform: str,
    category_id: int | None = None,
    q: str = "",
    min_price: Decimal | None = None,
    max_price: Decimal | None = None,
) -> QuerySet[Product] | None:
    """On-sale products visible on ``platform``; None when the category is not the shop's."""
    qs = Product.objects.for_tenant(tenant).on_sale().visible_on(platform)
    if category_id is not None:
        category = (
            Category.objects.for_tenant(tenant)
            .filter(pk=category_id)
            .values("tree_id", "lft", "rght")
            .first()
        )
        if category is None:
            return None
        # The category and its descendants (mptt nested set), without loading them.
        qs = qs.filter(
            category__tree_id=category["tree_id"],
            category__lft__gte=category["lft"],
            category__rght__lte=category["rght"],
        )
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(subtitle__icontains=q))
    if min_price is not None:
        qs = qs.filter(display_price__gte=min_price)
    if max_price is not None:
        qs = qs.filter(display_price__lte=max_price)
    return qs


def product_count_cached(*, tenant: Tenant, qs: QuerySet[Product], cache_parts: str) -> int:
    """COUNT(*) of a listing, cached until the tenant's products change."""
    version = cache.get_or_set(_listing_version_key(tenant.pk), 1, None)
    key = f"catalog:listing-count:{tenant.pk}:{version}:{cache_parts}"
    count = cache.get(key)
    if count is None:
        count = qs.count()
        cache.set(key, count, PRODUCT_LIST_CACHE_TTL)
    return count


def product_page_for_shopper(
    *, tenant: Tenant, qs: QuerySet[Product], ordering: str, offset: int, limit: int
) -> list[dict[str, Any]]:
    """One page of list items: the page query, then the stock state of just those products.

    (An EXISTS in the page query makes PostgreSQL hash every SKU of the shop before LIMIT.)
    """
    rows = list(
        qs.order_by(*PRODUCT_ORDERINGS[ordering]).values(*LIST_FIELDS)[offset : offset + limit]
    )
    if not rows:
        return []
    in_stock = set(
        Sku.objects.for_tenant(tenant)
        .filter(product_id__in=[row["id"] for row in rows], is_active=True, stock__gt=0)
        .values_list("product_id", flat=True)
        .distinct()
    )
    return [
        {
            "id": row["id"],
            "title": row["title"],
            "subtitle": row["subtitle"],
            "image": _image_url(row["main_image"]),
            "price": _money(row["display_price"]),
            "market_price": _money(row["display_market_price"]),
            "sales": row["sales_count"],
            "in_stock": row["id"] in in_stock,
        }
        for row in rows
    ]


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


@dataclass(frozen=True)
class ProductListPage:
    """One page of the shopper list: ``items`` as cached; ``items_json`` the caller's encoding
    of them (``encode(items)``, computed once when the page is cached and cached with it; None
    without ``encode``); ``versions`` the values of the extra version keys asked for, read in
    the same round trip as the page."""

    count: int
    items: list[dict[str, Any]]
    items_json: bytes | None
    versions: tuple[int, ...] = ()


def product_list_page_for_shopper(
    *,
    tenant: Tenant,
    platform: str,
    category_id: int | None = None,
    q: str = "",
    min_price: Decimal | None = None,
    max_price: Decimal | None = None,
    ordering: str = "default",
    page: int = 1,
    page_size: int = 20,
    version_keys: Sequence[str] = (),
    encode: Callable[[list[dict[str, Any]]], bytes] | None = None,
) -> ProductListPage:
    """The page (count, items, encoded items). Pages are cached under the tenant's listing
    version, which product/category changes and stock reaching or leaving zero bump (see
    catalog.inventory); sales counts and sort order may lag by up to ``PRODUCT_PAGE_CACHE_TTL``
    seconds. ``version_keys`` (e.g. the pricing versions the caller needs next) are read in the
    same ``MGET`` as the page, so a warm list costs one Redis round trip. ``encode`` (the API's
    encoding of the items as it answers them) runs when the page is cached, and its bytes are
    cached with the page, so a warm list does not encode the items again."""
    filters = f"{platform}|{category_id}|{q}|{min_price}|{max_price}"
    digest = hashlib.sha1(filters.encode(), usedforsecurity=False).hexdigest()
    version_key = _listing_version_key(tenant.pk)
    page_key = f"catalog:listing-page:{tenant.pk}:{digest}:{ordering}:{page}:{page_size}"
    found = cache.get_many([version_key, page_key, *version_keys])  # one round trip on Redis
    versions = tuple(
        found[key] if isinstance(found.get(key), int) else cache_version(key)
        for key in version_keys
    )
    version = found.get(version_key)
    if version is None:
        version = cache.get_or_set(version_key, 1, None)
    cached = found.get(page_key)
    if cached is not None and len(cached) == 4 and cached[0] == version:
        encoded = cached[3] if cached[3] is not None or encode is None else encode(cached[2])
        return ProductListPage(
            count=cached[1], items=cached[2], items_json=encoded, versions=versions
        )
    qs = product_filter_for_shopper(
        tenant=tenant,
        platform=platform,
        category_id=category_id,
        q=q,
        min_price=min_price,
        max_price=max_price,
    )
    if qs is None:
        encoded = encode([]) if encode is not None else None
        return ProductListPage(count=0, items=[], items_json=encoded, versions=versions)
    count = product_count_cached(tenant=tenant, qs=qs, cache_parts=digest)
    offset = (page - 1) * page_size
    items = (
        product_page_for_shopper(
            tenant=tenant, qs=qs, ordering=ordering, offset=offset, limit=page_size
        )
        if offset < count
        else []
    )
    items_json = encode(items) if encode is not None else None
    cache.set(page_key, (version, count, items, items_json), PRODUCT_PAGE_CACHE_TTL)
    return ProductListPage(count=count, items=items, items_json=items_json, versions=versions)


def sku_prices_for_products(
    *, tenant: Tenant, product_ids: Iterable[int]
) -> list[tuple[int, int, Decimal, int | None]]:
    """(SKU id, product id, price, product's category id) of the active SKUs of these products,
    in one query (item-level promotions price them for the caller)."""
    ids = sorted(set(product_ids))
    if not ids:
        return []
    return list(
        Sku.objects.for_tenant(tenant)
        .filter(product_id__in=ids, is_active=True)
        .order_by("id")
        .values_list("id", "product_id", "price", "product__category_id")
    )


def product_detail_for_shopper(
    *, tenant: Tenant, platform: str, product_id: int
) -> dict[str, Any] | None:
    """The detail (cached per product, dropped on any change of it or its stock); None when
    it is not on sale, not shown on ``platform`` or not the shop's."""
    key = _detail_key(tenant.pk, product_id)
    cached = cache.get(key)
    if cached is None:
        cached = _product_detail(tenant=tenant, product_id=product_id) or {"missing": True}
        cache.set(key, cached, PRODUCT_DETAIL_CACHE_TTL)
    if cached.get("missing") or platform not in cached["platforms"]:
        return None
    return cached["detail"]


def _product_detail(*, tenant: Tenant, product_id: int) -> dict[str, Any] | None:
    """Detail with active SKUs, specs and images in four queries, whatever the SKU count."""
    product = (
        Product.objects.for_tenant(tenant)
        .on_sale()
        .filter(pk=product_id)
        .values(*LIST_FIELDS, "description", "category_id", *PLATFORM_FIELDS.values())
        .first()
    )
    if product is None:
        return None
    skus = list(
        Sku.objects.for_tenant(tenant)
        .filter(product_id=product_id, is_active=True)
        .order_by("id")
        .values("id", "code", "specs", "price", "market_price", "stock", "weight_grams")
    )
    values = (
        SpecValue.objects.for_tenant(tenant)
        .filter(spec_name__product_id=product_id)
        .order_by("spec_name__position", "spec_name_id", "position", "id")
        .values("id", "value", "spec_name_id", "spec_name__name")
    )
    specs: dict[int, dict[str, Any]] = {}
    for value in values:
        spec = specs.setdefault(
            value["spec_name_id"],
            {"id": value["spec_name_id"], "name": value["spec_name__name"], "values": []},
        )
        spec["values"].append({"id": value["id"], "value": value["value"]})
    images = ProductImage.objects.for_tenant(tenant).filter(product_id=product_id)
    image_rows = images.order_by("position", "id").values(
        "id", "file", "thumb_small", "thumb_medium", "width", "height"
    )
    total_stock = sum(s["stock"] for s in skus)
    platforms = [p for p, field in PLATFORM_FIELDS.items() if product[field]]
    return {
        "platforms": platforms,
        "detail": {
            "id": product["id"],
            "title": product["title"],
            "subtitle": product["subtitle"],
            "image": _image_url(product["main_image"]),
            "price": _money(product["display_price"]),
            "market_price": _money(product["display_market_price"]),
            "sales": product["sales_count"],
            "in_stock": total_stock > 0,
            "description": product["description"],
            "category_id": product["category_id"],
            "specs": list(specs.values()),
            "skus": [
                {
                    "id": s["id"],
                    "code": s["code"],
                    "specs": s["specs"],
                    "price": _money(s["price"]),
                    "market_price": _money(s["market_price"]),
                    "stock": s["stock"],
                    "available": s["stock"] > 0,
                    "weight_grams": s["weight_grams"],
                }
                for s in skus
            ],
            "images": [
                {
                    "id": i["id"],
                    "url": _image_url(i["file"]),
                    "thumb_small": _image_url(i["thumb_small"]),
                    "thumb_medium": _image_url(i["thumb_medium"]),
                    "width": i["width"],
                    "height": i["height"],
                }
                for i in image_rows
            ],
        },
    }


__all__ = ["PricingProduct", "PricingSku", "skus_for_pricing"]  # raw reads: catalog.sql


def access_product_by_id(*, tenant: Tenant | int, id: Any, **options: Any) -> Product:
    """The tenant's product ``id``; a missing and another tenant's one: the same not-found."""
    return access_by_id(Product, tenant=tenant, id=id, **options)


def access_sku_by_id(*, tenant: Tenant | int, id: Any, **options: Any) -> Sku:
    """The tenant's SKU ``id``; a missing and another tenant's one: the same not-found."""
    return access_by_id(Sku, tenant=tenant, id=id, **options)
