"""Orders app models: cart, stores, orders and lines, shipments, after-sales."""

from orders.models.after_sale import AfterSale, AfterSaleEvent, AfterSaleLine
from orders.models.cart import Cart, CartItem
from orders.models.fulfillment import Shipment, ShipmentLine
from orders.models.order import Fulfillment, Order, OrderEvent, OrderLine, PointsUse
from orders.models.store import Store

__all__ = [
    "AfterSale",
    "AfterSaleEvent",
    "AfterSaleLine",
    "Cart",
    "CartItem",
    "Fulfillment",
    "Order",
    "OrderEvent",
    "OrderLine",
    "PointsUse",
    "Shipment",
    "ShipmentLine",
    "Store",
]
