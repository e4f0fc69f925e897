"""What the console exposes, for audits and the cross-tenant test matrix.

- ``console_url_names()``: every named console route, as ``"console:<name>"``.
- ``console_registered_models()`` / ``console_tenant_owned_models()``: registered models.
- ``console_object_urls(obj)``: the change/delete/history URLs of one object, which must
  answer 404 to another tenant's staff.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.contrib.admin.utils import quote
from django.db import models
from django.urls import URLPattern, URLResolver, reverse

from mall.console.admin import is_tenant_owned
from mall.console.site import console_site

OBJECT_VIEWS = ("change", "delete", "history")


def _walk(patterns: list[Any]) -> Iterator[URLPattern]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            yield pattern


def console_url_names() -> list[str]:
    """Every named console route: ``console:index``, ``console:members_member_change``..."""
    names = {f"{console_site.name}:{p.name}" for p in _walk(console_site.get_urls()) if p.name}
    return sorted(names)


def console_registered_models() -> list[type[models.Model]]:
    return sorted(console_site._registry, key=lambda m: m._meta.label)


def console_tenant_owned_models() -> list[type[models.Model]]:
    return [m for m in console_registered_models() if is_tenant_owned(m)]


def console_object_urls(obj: models.Model) -> dict[str, str]:
    """``{"change": url, "delete": url, "history": url}`` of ``obj`` in the console."""
    opts = obj._meta
    return {
        view: reverse(
            f"{console_site.name}:{opts.app_label}_{opts.model_name}_{view}",
            args=[quote(obj.pk)],
            current_app=console_site.name,
        )
        for view in OBJECT_VIEWS
    }


def console_changelist_url(model: type[models.Model]) -> str:
    opts = model._meta
    return reverse(
        f"{console_site.name}:{opts.app_label}_{opts.model_name}_changelist",
        current_app=console_site.name,
    )
