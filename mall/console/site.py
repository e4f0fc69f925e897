"""The merchant console: a tenant-scoped admin site at /console/ (see mall/console/admin.py).

- Who may enter: an active user with an active ``Staff`` membership (``request.staff`` is set
  by ``TenantMiddleware``). Merchant owners are not Django ``is_staff``; ``/admin/`` stays for
  platform operators.
- Which tenant: the membership chosen by the tenant switcher (``session["console_tenant_id"]``),
  else the user's first membership.
- The index page is the dashboard (``mall/console/dashboard.py``).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, path
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from mall.console.dashboard import chart_js_url, dashboard_data
from mall.console.forms import ConsoleAuthenticationForm
from mall.tenancy.models import Staff

# Admin-site URLs the console does not serve: the generic "view on site" redirect would
# look up any object by content type and id, whatever its tenant.
EXCLUDED_SITE_URL_NAMES = frozenset({"view_on_site"})


class ConsoleSite(admin.AdminSite):
    site_header = "Merchant console"
    site_title = "Merchant console"
    index_title = "Dashboard"
    index_template = "console/index.html"
    login_form = ConsoleAuthenticationForm
    enable_nav_sidebar = True
    site_url = None  # no "View site" link: the shops are mini programs

    def has_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and getattr(request, "staff", None) is not None)

    def each_context(self, request: HttpRequest) -> dict[str, Any]:
        context = super().each_context(request)
        staff: Staff | None = getattr(request, "staff", None)
        context["is_console"] = True
        context["console_staff"] = staff
        context["console_tenant"] = staff.tenant if staff is not None else None
        context["console_memberships"] = (
            [
                {"tenant_id": m.tenant_id, "name": m.tenant.name, "role": m.get_role_display()}
                for m in Staff.objects.select_related("tenant")
                .filter(user=request.user, is_active=True)
                .order_by("tenant__name", "id")
            ]
            if staff is not None
            else []
        )
        return context

    def get_urls(self) -> list[URLPattern | URLResolver]:
        from mall.console import views

        def site_view(view: Any) -> Any:
            def bound(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
                return view(self, request, *args, **kwargs)

            bound.__name__ = view.__name__
            bound.__doc__ = view.__doc__
            return self.admin_view(bound)

        def public_view(view: Any) -> Any:
            def bound(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
                return view(self, request, *args, **kwargs)

            bound.__name__ = view.__name__
            guarded = sensitive_post_parameters("password", "new_password1", "new_password2")
            return csrf_protect(never_cache(guarded(bound)))

        extra = [
            path(
                "invitation/<str:token>/",
                public_view(views.staff_invitation_accept_view),
                name="staff_invitation_accept",
            ),
            path("switch-tenant/", site_view(views.tenant_switch_view), name="tenant_switch"),
            path("settings/", site_view(views.tenant_settings_view), name="tenant_settings"),
        ]
        base = [
            p for p in super().get_urls() if getattr(p, "name", None) not in EXCLUDED_SITE_URL_NAMES
        ]
        return [*extra, *base]

    def can_view_model(self, request: HttpRequest, model: type[Model]) -> bool:
        """Whether the request's staff member may open ``model``'s console list."""
        model_admin = self._registry.get(model)
        return model_admin is not None and model_admin.has_view_permission(request)

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None):
        staff: Staff = request.staff  # type: ignore[attr-defined]
        context = {
            "dashboard": dashboard_data(
                tenant=staff.tenant,
                role=staff.role,
                can_view=lambda model: self.can_view_model(request, model),
            ),
            "chart_js_url": chart_js_url(),
        }
        context.update(extra_context or {})
        return super().index(request, extra_context=context)


console_site = ConsoleSite(name="console")
