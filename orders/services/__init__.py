"""Write paths of orders: cart, checkout, transitions, fulfillment, after-sales, jobs."""

from orders.services.after_sales import (
    AfterSaleLineInput,
    after_sale_approve,
    after_sale_cancel,
    after_sale_mark_refunded,
    after_sale_refund,
    after_sale_reject,
    after_sale_request,
    after_sale_return_receive,
    after_sale_return_ship,
    refundable_lines,
)
from orders.services.cart import (
    cart_get_or_create,
    cart_item_add,
    cart_item_remove,
    cart_item_update,
    cart_select_all,
)
from orders.services.checkout import CheckoutLine, order_number_new, order_place, same_city_fee
from orders.services.fulfillment import (
    BatchShipRow,
    ShipLine,
    order_pickup_code_reset,
    order_pickup_verify,
    order_ship,
    orders_ship_batch,
    shipment_tracking_refresh,
)
from orders.services.jobs import orders_auto_receive, orders_cancel_expired, orders_complete_due
from orders.services.transitions import (
    TRANSITIONS,
    order_cancel,
    order_complete,
    order_confirm_receipt,
    order_mark_paid,
    order_transition,
)

__all__ = [
    "TRANSITIONS",
    "AfterSaleLineInput",
    "BatchShipRow",
    "CheckoutLine",
    "ShipLine",
    "after_sale_approve",
    "after_sale_cancel",
    "after_sale_mark_refunded",
    "after_sale_refund",
    "after_sale_reject",
    "after_sale_request",
    "after_sale_return_receive",
    "after_sale_return_ship",
    "cart_get_or_create",
    "cart_item_add",
    "cart_item_remove",
    "cart_item_update",
    "cart_select_all",
    "order_cancel",
    "order_complete",
    "order_confirm_receipt",
    "order_mark_paid",
    "order_number_new",
    "order_pickup_code_reset",
    "order_pickup_verify",
    "order_place",
    "order_ship",
    "order_transition",
    "orders_auto_receive",
    "orders_cancel_expired",
    "orders_complete_due",
    "orders_ship_batch",
    "refundable_lines",
    "same_city_fee",
    "shipment_tracking_refresh",
]
