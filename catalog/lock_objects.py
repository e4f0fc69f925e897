"""Row locks of the catalog (call inside a transaction): every one of the app is here.

The bulk stock moves lock their SKU rows in raw SQL (id-ordered ``SELECT ... FOR UPDATE``,
kept with the app's other SQL in ``catalog.sql.sku_stock_lock``): ``skus_stock_for_update``.
"""

from __future__ import annotations

from django.db.models import QuerySet

from catalog.models import Product, Sku
from catalog.sql import sku_stock_lock
from mall.tenancy.models import Tenant


def product_qs_for_update(*, tenant: Tenant | int, pk: int) -> QuerySet[Product]:
    return Product.objects.for_tenant(tenant).select_for_update().filter(pk=pk)


def sku_qs_for_update(*, tenant: Tenant | int, pk: int) -> QuerySet[Sku]:
    return Sku.objects.for_tenant(tenant).select_for_update().filter(pk=pk)


def skus_stock_for_update(*, tenant_id: int, sku_ids: list[int]) -> dict[int, int]:
    """Lock the tenant's SKU rows in id order (no deadlocks between multi-SKU stock moves);
    their stock by id. Raw SQL on the hot path: ``catalog.sql.sku_stock_lock``."""
    return sku_stock_lock(tenant_id=tenant_id, sku_ids=sku_ids)
