from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import permissions
from rest_framework.request import Request


class IsMember(permissions.BasePermission):
    """A logged-in member of the request's tenant."""

    message = _("Log in first.")

    def has_permission(self, request: Request, view: Any) -> bool:
        return getattr(request._request, "member", None) is not None


class HasApiScope(permissions.BasePermission):
    """The API key carries the scope the view declares as ``required_scope``."""

    message = _("This API key lacks the scope for this endpoint.")

    def has_permission(self, request: Request, view: Any) -> bool:
        api_key = getattr(request, "api_key", None)
        scope = getattr(view, "required_scope", None)
        return api_key is not None and scope is not None and api_key.has_scope(scope)
