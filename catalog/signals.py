"""Cache invalidation only (no business flow in signals)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from catalog.models import Category
from catalog.selectors import category_tree_invalidate


@receiver([post_save, post_delete], sender=Category, dispatch_uid="catalog_category_tree_cache")
def _category_changed(sender: type[Category], instance: Category, **kwargs: Any) -> None:
    category_tree_invalidate(tenant_id=instance.tenant_id)
