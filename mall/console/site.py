"""The merchant console: a tenant-scoped admin site at /console/ (see mall/console/admin.py)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest


class ConsoleSite(admin.AdminSite):
    site_header = "Merchant console"
    site_title = "Merchant console"
    index_title = "Dashboard"

    def has_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and getattr(request, "staff", None) is not None)


console_site = ConsoleSite(name="console")
