"""Catalog models: categories, products (SPU), specs, SKUs, images, freight, stock ledger."""

from catalog.models.category import Category, CategoryManager, CategoryQuerySet
from catalog.models.freight import ChargeBy, FreightRule, FreightTemplate
from catalog.models.inventory import StockMovement
from catalog.models.product import (
    PLATFORM_FIELDS,
    PRODUCT_TRANSITIONS,
    Product,
    ProductImage,
    ProductQuerySet,
    Sku,
    SpecName,
    SpecValue,
    specs_label_of,
)

__all__ = [
    "PLATFORM_FIELDS",
    "PRODUCT_TRANSITIONS",
    "Category",
    "CategoryManager",
    "CategoryQuerySet",
    "ChargeBy",
    "FreightRule",
    "FreightTemplate",
    "Product",
    "ProductImage",
    "ProductQuerySet",
    "Sku",
    "SpecName",
    "SpecValue",
    "StockMovement",
    "specs_label_of",
]
