"""The merchant console: a tenant-scoped admin site at /console/ (see mall/console/admin.py).

- Who may enter: an active user with an active ``Staff`` membership (``request.staff`` is set
  by ``TenantMiddleware``). Merchant owners are not Django ``is_staff``; ``/admin/`` stays for
  platform operators.
- Which tenant: the membership chosen by the tenant switcher (``session["console_tenant_id"]``),
  else the user's first membership.
- The index page is the dashboard (``mall/console/dashboard.py``).
"""

from __future__ import annotations

from functools import wraps
from typing import Any

from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, URLResolver, path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from unfold.sites import UnfoldAdminSite

from mall.console.dashboard import chart_js_url, dashboard_data
from mall.console.forms import ConsoleAuthenticationForm
from mall.console.i18n import language_view
from mall.tenancy.models import Staff

# Admin-site URLs the console does not serve: the generic "view on site" redirect would
# look up any object by content type and id, whatever its tenant; unfold's search box (off in
# the console: its command palette shows only to Django ``is_staff`` users).
EXCLUDED_SITE_URL_NAMES = frozenset({"view_on_site", "search"})


class ConsoleSite(UnfoldAdminSite):
    site_header = _("Merchant console")
    site_title = _("Merchant console")
    index_title = _("Overview")
    index_template = "console/index.html"
    login_form = ConsoleAuthenticationForm
    enable_nav_sidebar = True
    site_url = None  # no "View site" link: the shops are mini programs

    def admin_view(self, view: Any, cacheable: bool = False) -> Any:
        """Also marks the request as the console's, so templates' ``{% url 'admin:...' %}``
        resolve in the console namespace on custom pages too."""
        inner = super().admin_view(view, cacheable)

        @wraps(inner)
        def console_view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            request.current_app = self.name
            return inner(request, *args, **kwargs)

        return console_view

    def has_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and getattr(request, "staff", None) is not None)

    def each_context(self, request: HttpRequest) -> dict[str, Any]:
        context = super().each_context(request)
        # unfold reads the header from settings.UNFOLD (shared with /admin/): the console's own.
        context["site_header"] = self.site_header
        context["site_title"] = self.site_title
        context["site_url"] = None
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
            path("language/", site_view(language_view), name="language"),
        ]
        base = [
            p for p in super().get_urls() if getattr(p, "name", None) not in EXCLUDED_SITE_URL_NAMES
        ]
        return [*extra, *base]

    def can_view_model(self, request: HttpRequest, model: type[Model]) -> bool:
        """Whether the request's staff member may open ``model``'s console list."""
        model_admin = self._registry.get(model)
        return model_admin is not None and model_admin.has_view_permission(request)

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None):
        # unfold's login template has no "next" field: without one in the URL, Django would
        # send the user to settings.LOGIN_REDIRECT_URL (/accounts/profile/, a 404).
        if REDIRECT_FIELD_NAME not in request.GET and REDIRECT_FIELD_NAME not in request.POST:
            query = request.GET.copy()
            query[REDIRECT_FIELD_NAME] = reverse(f"{self.name}:index", current_app=self.name)
            request.GET = query  # type: ignore[assignment]  # a mutable copy, on purpose
        return super().login(request, extra_context)

    def app_index(
        self, request: HttpRequest, app_label: str, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        """A section page: 403 when the role may see none of the section's pages.

        (The stock view answers 404 then, as if the section did not exist.)
        """
        registered = {m._meta.app_label for m in self._registry}
        if app_label in registered and not self._build_app_dict(request, app_label):
            raise PermissionDenied
        return super().app_index(request, app_label, extra_context)

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
