"""Resolve the tenant once per request.

- ``/api/v1/payments/notify/...``: gateway callbacks; the tenant is in the path (views).
- ``/api/v1/...``: the ``X-App-Id`` header names a registered Channel -> tenant and platform.
- ``/api/merchant/...``: the open API key (``Authorization: Bearer <key>``) -> tenant.
- ``/console/...``: the logged-in staff user's membership (session picks one if several).

Never from a request body or a query parameter.

The rest of the request runs in ``tenant_context(request.tenant)`` (on PostgreSQL the session
setting that row-level security reads; nothing tenant-owned is visible without a tenant), and
platform operators on ``/admin/`` (superusers) in ``all_tenants()``.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from mall.api.errors import error_json_response
from mall.errors import ErrorCode
from mall.tenancy import selectors
from mall.tenancy.sandbox import sandbox_allowed
from mall.tenancy.scoping import all_tenants, tenant_context

SHOPPER_PREFIX = "/api/v1/"
CALLBACK_PREFIX = "/api/v1/payments/notify/"
MERCHANT_PREFIX = "/api/merchant/"
CONSOLE_PREFIX = "/console/"
PLATFORM_ADMIN_PREFIX = "/admin/"


class TenantMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.tenant = None  # type: ignore[attr-defined]
        request.channel = None  # type: ignore[attr-defined]
        request.api_key = None  # type: ignore[attr-defined]
        request.staff = None  # type: ignore[attr-defined]
        path = request.path_info

        if path.startswith(CALLBACK_PREFIX):
            # The views resolve the tenant from the slug themselves (and answer the gateway in
            # its own format); the scope of the database session follows the same slug.
            with tenant_context(self._callback_tenant_id(path)):
                return self.get_response(request)
        elif path.startswith(SHOPPER_PREFIX):
            refused = self._resolve_shopper(request)
            if refused is not None:
                return refused
        elif path.startswith(MERCHANT_PREFIX):
            refused = self._resolve_merchant(request)
            if refused is not None:
                return refused
        elif path.startswith(CONSOLE_PREFIX):
            self._resolve_console(request)
        elif path.startswith(PLATFORM_ADMIN_PREFIX) and self._is_platform_operator(request):
            with all_tenants():
                return self.get_response(request)
        with tenant_context(request.tenant):  # type: ignore[attr-defined]
            return self.get_response(request)

    @staticmethod
    def _callback_tenant_id(path: str) -> int | None:
        parts = path[len(CALLBACK_PREFIX) :].split("/")
        if len(parts) < 2 or not parts[1]:
            return None
        return selectors.tenant_id_by_slug(slug=parts[1])

    @staticmethod
    def _is_platform_operator(request: HttpRequest) -> bool:
        user = getattr(request, "user", None)
        return bool(user is not None and user.is_active and user.is_superuser)

    @staticmethod
    def _resolve_shopper(request: HttpRequest) -> HttpResponse | None:
        app_id = request.headers.get("X-App-Id", "").strip()
        if not app_id:
            return error_json_response(
                ErrorCode.APP_ID_REQUIRED, _("The X-App-Id header is required."), 400
            )
        channel = selectors.channel_get_by_app_id(app_id=app_id)
        if channel is None:
            return error_json_response(
                ErrorCode.UNKNOWN_APP_ID,
                _("No mini program is registered with this X-App-Id."),
                400,
            )
        if not channel.tenant.is_active:
            return error_json_response(
                ErrorCode.TENANT_SUSPENDED,
                _("This shop is suspended and cannot serve requests."),
                403,
            )
        if channel.is_sandbox and not sandbox_allowed():
            return error_json_response(
                ErrorCode.SANDBOX_DISABLED,
                _("Sandbox channels are disabled on this server (set MALL_ALLOW_SANDBOX=1)."),
                403,
            )
        request.channel = channel  # type: ignore[attr-defined]
        request.tenant = channel.tenant  # type: ignore[attr-defined]
        return None

    @staticmethod
    def _resolve_merchant(request: HttpRequest) -> HttpResponse | None:
        auth = request.headers.get("Authorization", "")
        scheme, _sep, raw_key = auth.partition(" ")
        if scheme.lower() != "bearer" or not raw_key.strip():
            return error_json_response(
                ErrorCode.NOT_AUTHENTICATED,
                _("An API key is required: Authorization: Bearer <key>."),
                401,
            )
        api_key = selectors.api_key_get_by_raw(raw_key=raw_key.strip())
        if api_key is None:
            return error_json_response(
                ErrorCode.AUTHENTICATION_FAILED, _("Invalid or revoked API key."), 401
            )
        if not api_key.tenant.is_active:
            return error_json_response(
                ErrorCode.TENANT_SUSPENDED,
                _("This shop is suspended and cannot serve requests."),
                403,
            )
        request.api_key = api_key  # type: ignore[attr-defined]
        request.tenant = api_key.tenant  # type: ignore[attr-defined]
        return None

    @staticmethod
    def _resolve_console(request: HttpRequest) -> None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return
        staff = selectors.staff_for_user(
            user=user, preferred_tenant_id=request.session.get("console_tenant_id")
        )
        if staff is not None:
            request.staff = staff  # type: ignore[attr-defined]
            request.tenant = staff.tenant  # type: ignore[attr-defined]
