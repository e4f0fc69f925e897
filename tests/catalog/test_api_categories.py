from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Category
from tests.conftest import shopper_client


@pytest.fixture
def tree(tenant: Any) -> dict[str, Category]:
    clothes = Category.objects.create(tenant=tenant, name="Clothes", sort_order=1)
    food = Category.objects.create(tenant=tenant, name="Food", sort_order=0)
    shirts = Category.objects.create(tenant=tenant, name="Shirts", parent=clothes)
    hidden = Category.objects.create(tenant=tenant, name="Hidden", parent=clothes, is_visible=False)
    below_hidden = Category.objects.create(tenant=tenant, name="Below hidden", parent=hidden)
    return {
        "clothes": clothes,
        "food": food,
        "shirts": shirts,
        "hidden": hidden,
        "below_hidden": below_hidden,
    }


def test_tree_is_nested_sorted_and_hides_invisible_subtrees(api: Any, tree: Any) -> None:
    response = api.get("/api/v1/categories")

    assert response.status_code == 200
    body = response.json()
    assert [n["name"] for n in body["results"]] == ["Food", "Clothes"]
    clothes = body["results"][1]
    assert [c["name"] for c in clothes["children"]] == ["Shirts"]
    assert body["count"] == 2 and body["next"] is None


def test_tree_is_cached_and_invalidated_on_change(api: Any, tree: Any, tenant: Any) -> None:
    api.get("/api/v1/categories")
    with CaptureQueriesContext(connection) as ctx:
        api.get("/api/v1/categories")
    category_queries = [q for q in ctx.captured_queries if "catalog_category" in q["sql"]]
    assert category_queries == []

    Category.objects.create(tenant=tenant, name="Toys", sort_order=5)
    names = [n["name"] for n in api.get("/api/v1/categories").json()["results"]]
    assert names == ["Food", "Clothes", "Toys"]


def test_tree_query_count_is_constant(api: Any, tenant: Any) -> None:
    root = Category.objects.create(tenant=tenant, name="Root")
    for i in range(30):
        Category.objects.create(tenant=tenant, name=f"child {i}", parent=root)
    with CaptureQueriesContext(connection) as ctx:
        assert api.get("/api/v1/categories").status_code == 200
    assert len([q for q in ctx.captured_queries if "catalog_category" in q["sql"]]) == 1


def test_other_tenants_categories_are_not_shown(tree: Any, other_channel: Any) -> None:
    body = shopper_client(other_channel.app_id).get("/api/v1/categories").json()
    assert body["results"] == []
