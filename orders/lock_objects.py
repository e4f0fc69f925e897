"""Row-locking querysets of orders (select_for_update; call inside a transaction)."""

from __future__ import annotations

from django.db.models import QuerySet

from mall.tenancy.models import Tenant
from orders.models import AfterSale, Order


def order_qs_for_update(*, tenant: Tenant | int, pk: int) -> QuerySet[Order]:
    return Order.objects.for_tenant(tenant).select_for_update().filter(pk=pk)


def order_by_number_qs_for_update(*, tenant: Tenant | int, number: str) -> QuerySet[Order]:
    return Order.objects.for_tenant(tenant).select_for_update().filter(number=number)


def after_sale_qs_for_update(*, tenant: Tenant | int, pk: int) -> QuerySet[AfterSale]:
    return AfterSale.objects.for_tenant(tenant).select_for_update().filter(pk=pk)
