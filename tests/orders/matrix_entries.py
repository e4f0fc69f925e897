"""Cross-tenant matrix entries of the orders app, ready for tests/security to merge:

    from tests.orders import matrix_entries as orders_matrix
    MODEL_FACTORIES.update(orders_matrix.MODEL_FACTORIES)   # tests/security/factories.py
    ROUTES.update(orders_matrix.ROUTES)
    NOT_IN_CONSOLE.update(orders_matrix.NOT_IN_CONSOLE)

(tests/security is not the orders engineer's to edit.)
"""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Any

from mall.tenancy.models import Tenant
from orders.models import (
    AfterSale,
    AfterSaleEvent,
    AfterSaleLine,
    Cart,
    CartItem,
    Order,
    OrderEvent,
    OrderLine,
    PointsUse,
    Shipment,
    ShipmentLine,
    Store,
)
from tests.security.matrix import MARKER, ListRoute, ObjectRoute


def _order(t: Tenant) -> Order:
    from tests.security.factories import make_member

    return Order.objects.create(
        tenant=t, member=make_member(t), number=f"20260101{secrets.randbelow(10**10):010d}",
        status=Order.Status.PAID, subtotal=Decimal("10.00"), payable=Decimal("10.00"),
        paid_amount=Decimal("10.00"), remark=MARKER, address={"name": MARKER},
    )  # fmt: skip


def _line(t: Tenant) -> OrderLine:
    from tests.security.factories import MODEL_FACTORIES

    sku = MODEL_FACTORIES["catalog.Sku"](t)
    return OrderLine.objects.create(
        tenant=t, order=_order(t), sku=sku, title=MARKER, quantity=1,
        unit_price=Decimal("10.00"), subtotal=Decimal("10.00"), payable=Decimal("10.00"),
    )  # fmt: skip


def _cart_item(t: Tenant) -> CartItem:
    from tests.security.factories import MODEL_FACTORIES, make_member

    cart = Cart.objects.create(tenant=t, member=make_member(t))
    return CartItem.objects.create(
        tenant=t, cart=cart, sku=MODEL_FACTORIES["catalog.Sku"](t), quantity=1
    )


def _after_sale(t: Tenant) -> AfterSale:
    line = _line(t)
    after_sale = AfterSale.objects.create(
        tenant=t, order=line.order, member=line.order.member, type=AfterSale.Type.REFUND,
        reason=MARKER, amount=Decimal("10.00"),
    )  # fmt: skip
    AfterSaleLine.objects.create(
        tenant=t, after_sale=after_sale, order_line=line, quantity=1, amount=Decimal("10.00")
    )
    return after_sale


def _shipment(t: Tenant) -> Shipment:
    return Shipment.objects.create(tenant=t, order=_order(t), carrier="sf", tracking_no=MARKER)


MODEL_FACTORIES: dict[str, Any] = {
    "orders.Store": lambda t: Store.objects.create(
        tenant=t, name=MARKER, address=MARKER, latitude=Decimal("22.5"),
        longitude=Decimal("114.0"),
    ),
    "orders.Cart": lambda t: _cart_item(t).cart,
    "orders.CartItem": _cart_item,
    "orders.Order": _order,
    "orders.OrderLine": _line,
    "orders.OrderEvent": lambda t: OrderEvent.objects.create(
        tenant=t, order=_order(t), kind="status", note=MARKER
    ),
    "orders.PointsUse": lambda t: PointsUse.objects.create(
        tenant=t, order=(o := _order(t)), member=o.member, points=1
    ),
    "orders.Shipment": _shipment,
    "orders.ShipmentLine": lambda t: ShipmentLine.objects.create(
        tenant=t, shipment=_shipment(t), order_line=_line(t), quantity=1
    ),
    "orders.AfterSale": _after_sale,
    "orders.AfterSaleLine": lambda t: _after_sale(t).lines.get(),
    "orders.AfterSaleEvent": lambda t: AfterSaleEvent.objects.create(
        tenant=t, after_sale=_after_sale(t), note=MARKER
    ),
}  # fmt: skip

NOT_IN_CONSOLE: dict[str, str] = {
    "orders.Cart": "a member's cart; shoppers only (api/v1/cart)",
    "orders.CartItem": "a member's cart lines; shoppers only (api/v1/cart)",
    "orders.OrderLine": "shown read-only inside the order page",
    "orders.OrderEvent": "the order's timeline, shown read-only inside the order page",
    "orders.PointsUse": "points taken by an order; internal until a points ledger exists",
    "orders.Shipment": "shown read-only inside the order page",
    "orders.ShipmentLine": "part of a shipment",
    "orders.AfterSaleLine": "shown read-only inside the after-sale page",
    "orders.AfterSaleEvent": "the after-sale's timeline",
}


def _number(order: Order) -> str:
    return order.number


_AFTER_SALE_POST = ObjectRoute("orders.AfterSale", methods=("post",), body={"reason": "x"})

ROUTES: dict[str, Any] = {
    "api/v1/cart": ListRoute("orders.CartItem"),
    "api/v1/cart/items": ObjectRoute(
        "catalog.Sku", methods=("post",), body=lambda sku, _m: {"sku_id": sku.pk, "quantity": 1}
    ),
    "api/v1/cart/items/<int:item_id>": ObjectRoute(
        "orders.CartItem", methods=("patch", "delete"), body={"quantity": 2}
    ),
    "api/v1/orders": ListRoute("orders.Order"),
    "api/v1/orders/<str:number>": ObjectRoute("orders.Order", lookup=_number),
    "api/v1/orders/<str:number>/cancel": ObjectRoute(
        "orders.Order", methods=("post",), lookup=_number
    ),
    "api/v1/orders/<str:number>/confirm-receipt": ObjectRoute(
        "orders.Order", methods=("post",), lookup=_number
    ),
    "api/v1/orders/<str:number>/after-sales": ObjectRoute(
        "orders.Order", methods=("post",), lookup=_number,
        body={"type": "refund", "reason": "x"},
    ),
    "api/v1/after-sales/<int:after_sale_id>": ObjectRoute("orders.AfterSale"),
    "api/v1/after-sales/<int:after_sale_id>/return": ObjectRoute(
        "orders.AfterSale", methods=("post",), body={"carrier": "sf", "tracking_no": "1"}
    ),
    "api/v1/after-sales/<int:after_sale_id>/cancel": ObjectRoute(
        "orders.AfterSale", methods=("post",)
    ),
    "api/v1/stores": ListRoute("orders.Store"),
    "api/merchant/v1/orders": ListRoute("orders.Order"),
    "api/merchant/v1/orders/<str:number>": ObjectRoute("orders.Order", lookup=_number),
    "api/merchant/v1/orders/<str:number>/ship": ObjectRoute(
        "orders.Order", methods=("post",), lookup=_number,
        body={"carrier": "sf", "tracking_no": "1"},
    ),
    "api/merchant/v1/after-sales/<int:after_sale_id>/approve": _AFTER_SALE_POST,
    "api/merchant/v1/after-sales/<int:after_sale_id>/reject": _AFTER_SALE_POST,
    "api/merchant/v1/after-sales/<int:after_sale_id>/receive": _AFTER_SALE_POST,
    "api/merchant/v1/after-sales/<int:after_sale_id>/refund": _AFTER_SALE_POST,
    "api/merchant/v1/after-sales/<int:after_sale_id>/abort-refund": _AFTER_SALE_POST,
}  # fmt: skip
