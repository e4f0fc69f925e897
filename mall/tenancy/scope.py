"""The tenant scope of the running code (no Django imports: the database backend reads it).

``mall.tenancy.scoping`` sets it (``tenant_context``, ``all_tenants``); the PostgreSQL backend
(``mall.db.postgresql``) sends it to the session before a query; the test-time query guard
(``mall.tenancy.query_guard``) reads it.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TenantScope:
    """What the current unit of work may see: one tenant, or (``every``) all of them."""

    tenant_id: int | None = None
    every: bool = False


NO_SCOPE = TenantScope()
_scope: contextvars.ContextVar[TenantScope] = contextvars.ContextVar(
    "mall_tenant_scope", default=NO_SCOPE
)


_through_relation: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "mall_through_relation", default=False
)


def current_scope() -> TenantScope:
    return _scope.get()


def reached_through_relation() -> bool:
    """True while a reverse related manager's queryset (``order.lines.all()``) is evaluated:
    it starts from an object already loaded (the test-time query guard lets it pass)."""
    return _through_relation.get()


@contextmanager
def _scoped(scope: TenantScope) -> Iterator[TenantScope]:
    # The PostgreSQL connection sends the new scope before its next cursor (mall.db.postgresql),
    # so entering and leaving cost nothing until a query runs, and a query never runs with
    # another scope than the code's.
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


def _tenant_pk(tenant: Any) -> int:
    return tenant if isinstance(tenant, int) else tenant.pk


@contextmanager
def tenant_context(tenant: Any) -> Iterator[TenantScope]:
    """Run the block as ``tenant`` (``None``: no tenant, nothing tenant-owned is visible)."""
    scope = NO_SCOPE if tenant is None else TenantScope(tenant_id=_tenant_pk(tenant))
    with _scoped(scope) as applied:
        yield applied


@contextmanager
def all_tenants() -> Iterator[TenantScope]:
    """Run the block platform-wide: every tenant's rows are visible (and unguarded in tests).

    Only for work that is platform-wide by nature: beat sweeps, operator commands, the
    follow-up relay, finding the tenant of a request (channel, API key, staff membership)."""
    with _scoped(TenantScope(tenant_id=current_scope().tenant_id, every=True)) as applied:
        yield applied
