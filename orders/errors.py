"""Error codes of orders (raised with the kinds of ``mall.errors``)."""

from __future__ import annotations

from enum import StrEnum


class OrderErrorCode(StrEnum):
    ORDER_NOT_FOUND = "order_not_found"
    AFTER_SALE_NOT_FOUND = "after_sale_not_found"
    CART_ITEM_NOT_FOUND = "cart_item_not_found"
    CART_FULL = "cart_full"
    SKU_NOT_FOUND = "sku_not_found"
    SKU_UNAVAILABLE = "sku_unavailable"
    OUT_OF_STOCK = "out_of_stock"
    INVALID_TRANSITION = "invalid_transition"
    CHECKOUT_FAILED = "checkout_failed"
    PRICE_CHANGED = "price_changed"
    ADDRESS_REQUIRED = "address_required"
    ADDRESS_NOT_FOUND = "address_not_found"
    STORE_REQUIRED = "store_required"
    STORE_NOT_FOUND = "store_not_found"
    OUT_OF_DELIVERY_RANGE = "out_of_delivery_range"
    INSUFFICIENT_POINTS = "insufficient_points"
    INVALID_LINES = "invalid_lines"
    WRONG_PICKUP_CODE = "wrong_pickup_code"
    PICKUP_LOCKED = "pickup_locked"
    REFUND_EXCEEDS_PAID = "refund_exceeds_paid"
    REFUND_INVALID_AMOUNT = "refund_invalid_amount"
    REFUND_UNDER_WAY = "refund_under_way"
    AFTER_SALE_NOT_ALLOWED = "after_sale_not_allowed"
    COURIER_ERROR = "courier_error"
