"""Row-locking querysets of the catalog (select_for_update; call inside a transaction).

The bulk stock moves lock their SKU rows in raw SQL (``catalog.inventory``, id-ordered
``SELECT ... FOR UPDATE``); every ORM lock of the app is here.
"""

from __future__ import annotations

from django.db.models import QuerySet

from catalog.models import Product, Sku
from mall.tenancy.models import Tenant


def product_qs_for_update(*, tenant: Tenant | int, pk: int) -> QuerySet[Product]:
    return Product.objects.for_tenant(tenant).select_for_update().filter(pk=pk)


def sku_qs_for_update(*, tenant: Tenant | int, pk: int) -> QuerySet[Sku]:
    return Sku.objects.for_tenant(tenant).select_for_update().filter(pk=pk)
