"""Error codes of the catalog (raised with the kinds of ``mall.errors``)."""

from __future__ import annotations

from enum import StrEnum


class CatalogErrorCode(StrEnum):
    OUT_OF_STOCK = "out_of_stock"
    VERSION_CONFLICT = "version_conflict"
    SKU_NOT_FOUND = "sku_not_found"
    PRODUCT_NOT_FOUND = "product_not_found"
    INVALID_QUANTITY = "invalid_quantity"
    NOTHING_TO_RELEASE = "nothing_to_release"
    INVALID_IMAGE = "invalid_image"
    IMAGE_TOO_LARGE = "image_too_large"
    UNDELIVERABLE = "undeliverable"
    INVALID_CATEGORY = "invalid_category"
    INVALID_FREIGHT_TEMPLATE = "invalid_freight_template"
    DUPLICATE_SKU_CODE = "duplicate_sku_code"
    INVALID_SPECS = "invalid_specs"
    IMPORT_INVALID = "import_invalid"
