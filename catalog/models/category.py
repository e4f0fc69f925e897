"""The per-tenant category tree (django-mptt)."""

from __future__ import annotations

from django.db import models
from mptt.managers import TreeManager
from mptt.models import MPTTModel, TreeForeignKey
from mptt.querysets import TreeQuerySet

from mall.tenancy.scoping import TenantQuerySet


class CategoryQuerySet(TreeQuerySet, TenantQuerySet):
    pass


class CategoryManager(TreeManager.from_queryset(CategoryQuerySet)):  # type: ignore[misc]
    """mptt's tree manager plus ``for_tenant`` scoping."""


class Category(MPTTModel):
    """A node of a tenant's category tree (each tenant has its own roots)."""

    tenant = models.ForeignKey("mall.Tenant", on_delete=models.PROTECT, related_name="+")
    parent = TreeForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    name = models.CharField(max_length=64)
    icon = models.URLField(max_length=500, blank=True, default="")
    sort_order = models.IntegerField(default=0)
    is_visible = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CategoryManager()

    class MPTTMeta:
        order_insertion_by = ["sort_order", "name"]

    class Meta:
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "parent", "name"], name="uniq_category_name_per_parent"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.parent_id and self.parent.tenant_id != self.tenant_id:
            raise ValidationError({"parent": "The parent must belong to the same shop."})
