"""Cache invalidation only (no business flow in signals)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from catalog.models import Category, Product, ProductImage, Sku
from catalog.selectors import (
    catalog_cache_changed,
    category_tree_invalidate,
    product_listing_invalidate,
)


@receiver([post_save, post_delete], sender=Category, dispatch_uid="catalog_category_tree_cache")
def _category_changed(sender: type[Category], instance: Category, **kwargs: Any) -> None:
    category_tree_invalidate(tenant_id=instance.tenant_id)
    product_listing_invalidate(tenant_id=instance.tenant_id)


@receiver([post_save, post_delete], sender=Product, dispatch_uid="catalog_product_cache")
def _product_changed(sender: type[Product], instance: Product, **kwargs: Any) -> None:
    catalog_cache_changed(tenant_id=instance.tenant_id, product_ids=[instance.pk], listing=True)


@receiver([post_save, post_delete], sender=Sku, dispatch_uid="catalog_sku_cache")
@receiver([post_save, post_delete], sender=ProductImage, dispatch_uid="catalog_image_cache")
def _product_part_changed(sender: type, instance: Sku | ProductImage, **kwargs: Any) -> None:
    catalog_cache_changed(
        tenant_id=instance.tenant_id, product_ids=[instance.product_id], listing=True
    )
