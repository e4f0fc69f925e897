"""Read paths of the catalog."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache

from catalog.models import Category
from mall.tenancy.models import Tenant

CATEGORY_TREE_CACHE_TTL = 600


def _tree_version_key(tenant_id: int) -> str:
    return f"catalog:category-tree-version:{tenant_id}"


def category_tree_invalidate(*, tenant_id: int) -> None:
    """Bump the tenant's tree version so the next read rebuilds it."""
    key = _tree_version_key(tenant_id)
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 2, None)


def category_tree_visible(*, tenant: Tenant) -> list[dict[str, Any]]:
    """The tenant's visible category tree, nested; one query on a miss, none on a hit.

    A hidden category hides its whole subtree.
    """
    version = cache.get_or_set(_tree_version_key(tenant.pk), 1, None)
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


def _sort(nodes: list[dict[str, Any]]) -> None:
    nodes.sort(key=lambda n: (n["sort_order"], n["name"], n["id"]))
    for node in nodes:
        _sort(node["children"])
