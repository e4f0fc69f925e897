"""Error codes of promotions (raised with the kinds of ``mall.errors``)."""

from __future__ import annotations

from enum import StrEnum


class PromotionErrorCode(StrEnum):
    COUPON_TEMPLATE_NOT_FOUND = "coupon_template_not_found"
    COUPON_NOT_FOUND = "coupon_not_found"
    COUPON_NOT_CLAIMABLE = "coupon_not_claimable"
    COUPON_SOLD_OUT = "coupon_sold_out"
    COUPON_LIMIT_REACHED = "coupon_limit_reached"
    COUPON_UNAVAILABLE = "coupon_unavailable"
    CAMPAIGN_NOT_FOUND = "campaign_not_found"
    CAMPAIGN_BUDGET_EXHAUSTED = "campaign_budget_exhausted"
    FLASH_SALE_SOLD_OUT = "flash_sale_sold_out"
    INVALID_TRANSITION = "invalid_transition"
    INVALID_LINES = "invalid_lines"
    SKU_NOT_FOUND = "sku_not_found"
    ADDRESS_NOT_FOUND = "address_not_found"
