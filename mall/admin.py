"""Admin registrations of the tenancy core.

- ``admin.site`` (/admin/): platform operators (superusers) across tenants.
- ``console_site`` (/console/): a tenant's staff, scoped to their tenant. Channels, staff
  and API keys are managed by owners and administrators only.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from mall.console.admin import MANAGER_ROLES, TenantScopedModelAdmin, request_role
from mall.console.forms import ApiKeyCreateForm, ChannelForm, StaffAddForm, StaffChangeForm
from mall.console.services import staff_last_active_owner
from mall.console.site import console_site
from mall.tenancy.crypto import mask_secret
from mall.tenancy.models import ApiKey, Channel, Staff, Tenant
from mall.tenancy.services import api_key_create, api_key_revoke, tenant_set_status

CHANNEL_FIELDS = (
    "platform",
    "name",
    "app_id",
    "app_secret",
    "alipay_app_private_key",
    "alipay_public_key",
    "is_sandbox",
    "is_active",
)


@admin.display(description=_("App secret"))
def _channel_secret_mask(obj: Channel) -> str:
    return mask_secret(obj.app_secret) or "—"


@admin.display(description=_("Scopes"))
def _api_key_scopes(obj: ApiKey) -> str:
    return ", ".join(obj.scopes or [])


# =========================================================================================
# Merchant console (/console/)
# =========================================================================================


@admin.register(Channel, site=console_site)
class ChannelConsoleAdmin(TenantScopedModelAdmin):
    view_roles = MANAGER_ROLES
    edit_roles = MANAGER_ROLES
    form = ChannelForm
    fields = CHANNEL_FIELDS
    list_display = (
        "app_id",
        "platform",
        "name",
        "is_sandbox",
        "is_active",
        _channel_secret_mask,
        "created_at",
    )
    list_filter = ("platform", "is_sandbox", "is_active")
    search_fields = ("app_id", "name")


@admin.register(Staff, site=console_site)
class StaffConsoleAdmin(TenantScopedModelAdmin):
    """Staff of the shop. Only an owner grants the owner role or edits an owner's membership;
    the last active owner cannot be demoted, deactivated or removed."""

    view_roles = MANAGER_ROLES
    edit_roles = MANAGER_ROLES
    list_display = ("user_email", "role", "is_active", "created_at")
    list_filter = ("role", "is_active")
    search_fields = ("user__email", "user__username")
    list_select_related = ("user",)

    @admin.display(description=_("Email"), ordering="user__email")
    def user_email(self, obj: Staff) -> str:
        return obj.user.email or obj.user.get_username()

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return ["email", "password", "role", "is_active"]
        return ["user_email", "role", "is_active", "created_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("user_email", "created_at") if obj is not None else ()

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        kwargs["form"] = StaffChangeForm if obj is not None else StaffAddForm
        form = super().get_form(request, obj, change, **kwargs)
        form.actor_role = request_role(request)  # a fresh class per call
        return form

    def _may_touch(self, request: HttpRequest, obj: Staff | None) -> bool:
        if obj is None:
            return True
        return obj.role != Staff.Role.OWNER or request_role(request) == Staff.Role.OWNER

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and self._may_touch(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not super().has_delete_permission(request, obj) or not self._may_touch(request, obj):
            return False
        # Nobody removes their own membership or the shop's last active owner.
        return obj is None or not (
            obj.user_id == request.user.pk or staff_last_active_owner(staff=obj)
        )

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # one at a time, through the owner checks above
        return actions

    def save_model(self, request: HttpRequest, obj: Staff, form: Any, change: bool) -> None:
        if not change:
            obj.user = form.resolve_user()
        super().save_model(request, obj, form, change)


@admin.register(ApiKey, site=console_site)
class ApiKeyConsoleAdmin(TenantScopedModelAdmin):
    """Open API keys: listed and revoked here; a new key is shown once, on creation."""

    view_roles = MANAGER_ROLES
    edit_roles = MANAGER_ROLES
    list_display = ("name", "prefix", _api_key_scopes, "is_active", "last_used_at", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "prefix")
    fields = ("name", "prefix", "scopes", "is_active", "last_used_at", "created_at")
    readonly_fields = fields
    actions = ["revoke_selected"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # keys are immutable; revoke instead

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoked keys stay for the audit trail

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return self._role_in(request, self.edit_roles)

    @admin.action(description=_("Revoke selected API keys"), permissions=["revoke"])
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        keys = list(queryset.filter(is_active=True))
        for key in keys:
            api_key_revoke(tenant=request.tenant, key_id=key.pk)  # type: ignore[attr-defined]
            self.log_change(request, key, gettext("Revoked."))
        self.message_user(
            request,
            ngettext("Revoked %(n)d API key.", "Revoked %(n)d API keys.", len(keys))
            % {"n": len(keys)},
            messages.SUCCESS,
        )

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Create API key",
            **(extra_context or {}),
        }
        if request.method == "POST":
            form = ApiKeyCreateForm(request.POST)
            if form.is_valid():
                key, raw = api_key_create(
                    tenant=request.tenant,  # type: ignore[attr-defined]
                    scopes=form.cleaned_data["scopes"],
                    name=form.cleaned_data["name"],
                )
                self.log_addition(request, key, [{"added": {}}])
                # Shown once, in this response only: never in a message, session or log.
                response = TemplateResponse(
                    request,
                    "console/apikey_created.html",
                    {**context, "title": "API key created", "api_key": key, "raw_key": raw},
                )
                add_never_cache_headers(response)
                patch_cache_control(response, no_store=True)
                return response
        else:
            form = ApiKeyCreateForm()
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "console/apikey_add.html", {**context, "form": form})


# =========================================================================================
# Platform operators (/admin/)
# =========================================================================================


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "status", "business_model", "timezone", "created_at")
    list_filter = ("status", "business_model")
    search_fields = ("name", "slug")
    readonly_fields = ("created_at", "updated_at")
    actions = ["suspend_selected", "activate_selected"]

    def _set_status(self, request: HttpRequest, queryset: QuerySet[Tenant], status: str) -> None:
        tenants = list(queryset)
        for tenant in tenants:
            tenant_set_status(tenant=tenant, status=status)
            self.log_change(request, tenant, f"Status set to {status}.")
        self.message_user(request, f"{len(tenants)} tenant(s) now {status}.", messages.SUCCESS)

    @admin.action(description="Suspend selected tenants", permissions=["change"])
    def suspend_selected(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        self._set_status(request, queryset, Tenant.Status.SUSPENDED)

    @admin.action(description="Activate selected tenants", permissions=["change"])
    def activate_selected(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        self._set_status(request, queryset, Tenant.Status.ACTIVE)


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    form = ChannelForm
    fields = ("tenant", *CHANNEL_FIELDS)
    list_display = (
        "app_id",
        "tenant",
        "platform",
        "name",
        "is_sandbox",
        "is_active",
        _channel_secret_mask,
    )
    list_filter = ("tenant", "platform", "is_sandbox", "is_active")
    list_select_related = ("tenant",)
    search_fields = ("app_id", "name", "tenant__slug")
    autocomplete_fields = ("tenant",)


@admin.register(Staff)
class StaffAdmin(admin.ModelAdmin):
    list_display = ("user", "tenant", "role", "is_active", "created_at")
    list_filter = ("tenant", "role", "is_active")
    list_select_related = ("user", "tenant")
    search_fields = ("user__email", "user__username", "tenant__slug")
    raw_id_fields = ("user",)
    autocomplete_fields = ("tenant",)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "tenant", "prefix", _api_key_scopes, "is_active", "last_used_at")
    list_filter = ("tenant", "is_active")
    list_select_related = ("tenant",)
    search_fields = ("name", "prefix", "tenant__slug")
    fields = ("tenant", "name", "prefix", "scopes", "is_active", "last_used_at", "created_at")
    readonly_fields = ("tenant", "name", "prefix", "scopes", "last_used_at", "created_at")
    actions = ["revoke_selected"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # keys are created by the shop (console) or `manage.py` with the raw key

    @admin.action(description="Revoke selected API keys", permissions=["change"])
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        updated = queryset.filter(is_active=True).update(is_active=False)
        self.message_user(request, f"Revoked {updated} API key(s).", messages.SUCCESS)


# Follow-ups page (mall.followups): registered here so the console site has it.
import mall.followups.admin  # noqa: E402, F401
