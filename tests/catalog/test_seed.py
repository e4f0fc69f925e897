from __future__ import annotations

import io
from typing import Any

from catalog.models import Category, Product, ProductImage, Sku
from catalog.seed import seed


def test_seed_builds_a_catalog_and_is_idempotent(tenant: Any) -> None:
    seed(tenant=tenant, stdout=io.StringIO())
    counts = (
        Category.objects.filter(tenant=tenant).count(),
        Product.objects.filter(tenant=tenant).count(),
        Sku.objects.filter(tenant=tenant).count(),
        ProductImage.objects.filter(tenant=tenant).count(),
    )
    assert counts[1] >= 50 and counts[2] > counts[1] and counts[3] == counts[1]
    assert Product.objects.filter(tenant=tenant, status="on_sale", main_image="").count() == 0

    out = io.StringIO()
    seed(tenant=tenant, stdout=out)
    assert "products: 0 new" in out.getvalue()
    assert counts == (
        Category.objects.filter(tenant=tenant).count(),
        Product.objects.filter(tenant=tenant).count(),
        Sku.objects.filter(tenant=tenant).count(),
        ProductImage.objects.filter(tenant=tenant).count(),
    )
