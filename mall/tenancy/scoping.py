"""The one scoping mechanism for tenant-owned data.

Every tenant-owned model inherits :class:`TenantOwnedModel` (or at least uses
:class:`TenantManager`), so reads start from ``Model.objects.for_tenant(tenant)``, and a view
or service that fetches one object by id calls :func:`access_by_id` (a missing and a foreign
object answer the same not-found error).

Platform-wide work (beat sweeps, operator commands, the follow-up relay, resolving the tenant
of a request) says so explicitly: ``with all_tenants(): ...`` or
``Model.objects.all_tenants()`` (a queryset evaluated inside that context).

The context is process state (a context variable) and, on PostgreSQL, two session settings
that the row-level security policies read (``mall.tenant_id``, ``mall.all_tenants``):
``tenant_context(tenant)`` and ``all_tenants()`` set them and restore the previous values on
exit; the PostgreSQL backend (``mall.db.postgresql``) sends them before the next query, also
after a rollback or a reconnect.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Self, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db import models

from mall.errors import NotFoundError
from mall.tenancy.scope import (  # noqa: F401 - the scoping API is imported from here
    NO_SCOPE,
    TenantScope,
    _tenant_pk,
    _through_relation,
    all_tenants,
    current_scope,
    reached_through_relation,
    tenant_context,
)

if TYPE_CHECKING:
    from mall.tenancy.models import Tenant

M = TypeVar("M", bound=models.Model)


_END: Any = object()


class TenantQuerySet(models.QuerySet[M]):
    _all_tenants = False

    def for_tenant(self, tenant: Tenant | int) -> Self:
        return self.filter(tenant_id=_tenant_pk(tenant))

    def all_tenants(self) -> Self:
        """This queryset across every tenant: evaluated inside :func:`all_tenants`."""
        clone = self._chain()  # type: ignore[attr-defined]  # QuerySet's private copy API
        clone._all_tenants = True
        return clone

    def _clone(self) -> Self:
        clone = super()._clone()  # type: ignore[misc]  # QuerySet's private copy API
        clone._all_tenants = self._all_tenants
        return clone

    @contextmanager
    def _platform_wide(self) -> Iterator[None]:
        # Related managers (``order.lines``, many-to-many) hint the instance they start from.
        hints = self._hints  # type: ignore[attr-defined]  # set by Django on every QuerySet
        token = _through_relation.set(True) if hints.get("instance") else None
        try:
            if self._all_tenants and not current_scope().every:
                with all_tenants():
                    yield
            else:
                yield
        finally:
            if token is not None:
                _through_relation.reset(token)

    def _fetch_all(self) -> None:
        with self._platform_wide():
            super()._fetch_all()

    def iterator(self, *args: Any, **kwargs: Any) -> Iterator[M]:
        # The scope is held around each step only, never while the caller's loop body runs.
        rows = super().iterator(*args, **kwargs)
        while True:
            with self._platform_wide():
                row = next(rows, _END)
            if row is _END:
                return
            yield row

    def count(self) -> int:
        with self._platform_wide():
            return super().count()

    def exists(self) -> bool:
        with self._platform_wide():
            return super().exists()

    def aggregate(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        with self._platform_wide():
            return super().aggregate(*args, **kwargs)

    def update(self, **kwargs: Any) -> int:
        with self._platform_wide():
            return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        with self._platform_wide():
            return super().delete()


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):  # type: ignore[misc]
    pass


class TenantOwnedModel(models.Model):
    """Abstract base: a non-null tenant column and the scoped manager."""

    tenant = models.ForeignKey("mall.Tenant", on_delete=models.PROTECT, related_name="+")

    objects = TenantManager()

    class Meta:
        abstract = True


def access_by_id(
    model: type[M],
    *,
    tenant: Tenant | int,
    id: Any,
    queryset: models.QuerySet[M] | None = None,
    message: Any = None,
) -> M:
    """The object ``id`` of ``tenant``, or the not-found error (also for another tenant's).

    The ``access_<entity>_by_id`` helpers of the apps are this function with the model bound.
    ``queryset`` narrows further (``select_related``, a status filter, ``select_for_update``)."""
    qs = queryset if queryset is not None else model._default_manager.all()
    try:
        return qs.filter(tenant_id=_tenant_pk(tenant)).get(pk=id)
    except (ObjectDoesNotExist, ValueError, TypeError):
        raise NotFoundError(message) from None


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


def tenant_owned_tables() -> frozenset[str]:
    """The database tables of :func:`tenant_owned_models` (guard, RLS migration, tests)."""
    return frozenset(model._meta.db_table for model in tenant_owned_models())
