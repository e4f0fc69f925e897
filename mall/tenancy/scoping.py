"""The one scoping mechanism for tenant-owned data.

Every tenant-owned model inherits :class:`TenantOwnedModel` (or at least uses
:class:`TenantManager`), so reads start from ``Model.objects.for_tenant(tenant)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self, TypeVar

from django.db import models

if TYPE_CHECKING:
    from mall.tenancy.models import Tenant

M = TypeVar("M", bound=models.Model)


class TenantQuerySet(models.QuerySet[M]):
    def for_tenant(self, tenant: Tenant | int) -> Self:
        tenant_id = tenant if isinstance(tenant, int) else tenant.pk
        return self.filter(tenant_id=tenant_id)


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):  # type: ignore[misc]
    pass


class TenantOwnedModel(models.Model):
    """Abstract base: a non-null tenant column and the scoped manager."""

    tenant = models.ForeignKey("mall.Tenant", on_delete=models.PROTECT, related_name="+")

    objects = TenantManager()

    class Meta:
        abstract = True


def tenant_owned_models() -> list[type[models.Model]]:
    """Every installed model that carries a ``tenant`` foreign key (for audits and tests)."""
    from django.apps import apps

    result = []
    for model in apps.get_models():
        field: Any = next((f for f in model._meta.fields if f.name == "tenant"), None)
        related = getattr(field, "related_model", None)
        if related is not None and related._meta.label == "mall.Tenant":
            result.append(model)
    return result
