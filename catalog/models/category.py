"""The per-tenant category tree (django-mptt)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
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

    tenant = models.ForeignKey(
        "mall.Tenant", verbose_name=_("tenant"), on_delete=models.PROTECT, related_name="+"
    )
    parent = TreeForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    name = models.CharField(_("name"), max_length=64)
    icon = models.URLField(_("icon"), max_length=500, blank=True, default="")
    sort_order = models.IntegerField(_("sort order"), default=0)
    is_visible = models.BooleanField(_("is visible"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = CategoryManager()

    class MPTTMeta:
        order_insertion_by = ["sort_order", "name"]

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
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
            raise ValidationError({"parent": gettext("The parent must belong to the same shop.")})
