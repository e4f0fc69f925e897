"""The console's left menu and header, for ``settings.UNFOLD`` (django-unfold).

Filled in by ``sidebar_navigation``; ``/admin/`` (platform operators) gets no console
menu and unfold's list of all applications instead.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

CONSOLE_NAMESPACE = "console"


def is_console_request(request: HttpRequest) -> bool:
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return CONSOLE_NAMESPACE in match.namespaces
    return request.path_info.startswith("/console/")


def site_title(request: HttpRequest) -> Any:
    return _("Merchant console") if is_console_request(request) else _("Platform administration")


def show_all_applications(request: HttpRequest) -> bool:
    return not is_console_request(request)


def sidebar_navigation(request: HttpRequest) -> list[dict[str, Any]]:
    return []
