"""Product sales counters (``Product.sales_count``, the list's ``sales`` and
``ordering=-sales``): counted in the paid transition, taken back when an after-sale refund
finishes, by refunded quantities. Gifts are not sales."""

from __future__ import annotations

from collections.abc import Iterable

from catalog.services import product_sales_change
from mall.tenancy.models import Tenant
from orders.models import AfterSaleLine, Order, OrderLine


def _by_product(rows: Iterable[tuple[int | None, int]], sign: int) -> dict[int, int]:
    quantities: dict[int, int] = {}
    for product_id, quantity in rows:
        if product_id is not None:
            quantities[product_id] = quantities.get(product_id, 0) + sign * quantity
    return quantities


def order_sales_count(*, tenant: Tenant, order: Order) -> None:
    """The order was paid (inside the paid transition's transaction): its products sold."""
    rows = (
        OrderLine.objects.for_tenant(tenant)
        .filter(order=order, is_gift=False)
        .values_list("product_id", "quantity")
    )
    product_sales_change(tenant=tenant, quantities=_by_product(rows, 1))


def after_sale_sales_take_back(*, tenant: Tenant, lines: Iterable[AfterSaleLine]) -> None:
    """An after-sale refund finished: its refunded quantities are no longer sales."""
    quantities = {line.order_line_id: line.quantity for line in lines}
    products = dict(
        OrderLine.objects.for_tenant(tenant)
        .filter(pk__in=list(quantities), is_gift=False)
        .values_list("pk", "product_id")
    )
    rows = [(products[pk], q) for pk, q in quantities.items() if pk in products]
    product_sales_change(tenant=tenant, quantities=_by_product(rows, -1))
