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
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from mall.console.admin import MANAGER_ROLES, TenantScopedModelAdmin, request_role
from mall.console.forms import (
    ApiKeyCreateForm,
    ChannelForm,
    PlatformAuthenticationForm,
    StaffChangeForm,
    StaffInviteForm,
)
from mall.console.services import staff_last_active_owner
from mall.console.site import console_site
from mall.errors import ApplicationError
from mall.tenancy.crypto import mask_secret
from mall.tenancy.invitations import staff_invitation_revoke, staff_invite
from mall.tenancy.models import ApiKey, Channel, Staff, StaffInvitation, Tenant
from mall.tenancy.services import api_key_create, api_key_revoke, tenant_set_status

CHANNEL_FIELDS = (
    "platform",
    "name",
    "app_id",
    "app_secret",
    "alipay_app_private_key",
    "alipay_public_key",
    "alipay_aes_key",
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

    fields = ["user_email", "role", "is_active", "created_at"]
    readonly_fields = ("user_email", "created_at")
    form = StaffChangeForm

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False  # staff join by invitation only (StaffInvitationConsoleAdmin)

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        """ "Add staff" leads to the invitation form, for those who may invite."""
        if not self.admin_site._registry[StaffInvitation].has_add_permission(request):
            raise PermissionDenied
        return HttpResponseRedirect(
            reverse("console:mall_staffinvitation_add", current_app=self.admin_site.name)
        )

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
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


@admin.register(StaffInvitation, site=console_site)
class StaffInvitationConsoleAdmin(TenantScopedModelAdmin):
    """Invitations to the shop's staff: sent from the add page, listed, revoked; never edited.

    The add page answers the same for an address with or without an account."""

    view_roles = MANAGER_ROLES
    edit_roles = MANAGER_ROLES
    list_display = ("email", "role", "status", "invited_by_email", "created_at", "expires_at")
    list_filter = ("role",)
    search_fields = ("email",)
    list_select_related = ("invited_by",)
    fields = ("email", "role", "status", "invited_by_email", "created_at", "expires_at")
    readonly_fields = fields
    actions = ["revoke_selected"]

    @admin.display(description=_("Status"))
    def status(self, obj: StaffInvitation) -> str:
        return str(StaffInvitation.Status(obj.status_at(timezone.now())).label)

    @admin.display(description=_("Invited by"))
    def invited_by_email(self, obj: StaffInvitation) -> str:
        user = obj.invited_by
        return (user.email or user.get_username()) if user is not None else "—"

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoke and invite again instead

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # kept for the audit trail

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return self._role_in(request, self.edit_roles)

    @admin.action(description=_("Revoke selected invitations"), permissions=["revoke"])
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[StaffInvitation]) -> None:
        revoked = 0
        for invitation in queryset:
            if staff_invitation_revoke(tenant=request.tenant, invitation_id=invitation.pk):  # type: ignore[attr-defined]
                revoked += 1
                self.log_change(request, invitation, "Revoked.")
        self.message_user(
            request,
            ngettext("Revoked %d invitation.", "Revoked %d invitations.", revoked) % revoked,
            messages.SUCCESS,
        )

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        actor_role = request_role(request)
        if request.method == "POST":
            form = StaffInviteForm(request.POST, actor_role=actor_role)
            if form.is_valid():
                email = form.cleaned_data["email"]
                try:
                    invitation = staff_invite(
                        tenant=request.tenant,  # type: ignore[attr-defined]
                        email=email,
                        role=form.cleaned_data["role"],
                        invited_by=request.user,
                        actor_role=actor_role,
                        accept_url=lambda raw: request.build_absolute_uri(
                            reverse(
                                "console:staff_invitation_accept",
                                args=[raw],
                                current_app=self.admin_site.name,
                            )
                        ),
                    )
                except ApplicationError as exc:
                    form.add_error(None, str(exc.message))
                else:
                    self.log_addition(request, invitation, [{"added": {}}])
                    self.message_user(
                        request,
                        _("An invitation has been sent to %(email)s.")
                        % {"email": invitation.email},
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(
                        reverse(
                            "console:mall_staffinvitation_changelist",
                            current_app=self.admin_site.name,
                        )
                    )
        else:
            form = StaffInviteForm(actor_role=actor_role)
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Invite a staff member"),
            "form": form,
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "console/invitation_add.html", context)


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

admin.site.login_form = PlatformAuthenticationForm  # the console's lockout on /admin/ too


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
        self.message_user(
            request,
            ngettext("%(n)d tenant now %(status)s.", "%(n)d tenants now %(status)s.", len(tenants))
            % {"n": len(tenants), "status": Tenant.Status(status).label},
            messages.SUCCESS,
        )

    @admin.action(description=_("Suspend selected tenants"), permissions=["change"])
    def suspend_selected(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        self._set_status(request, queryset, Tenant.Status.SUSPENDED)

    @admin.action(description=_("Activate selected tenants"), permissions=["change"])
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

    @admin.action(description=_("Revoke selected API keys"), permissions=["change"])
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        updated = queryset.filter(is_active=True).update(is_active=False)
        self.message_user(
            request,
            ngettext("Revoked %(n)d API key.", "Revoked %(n)d API keys.", updated) % {"n": updated},
            messages.SUCCESS,
        )


# Follow-ups page (mall.followups): registered here so the console site has it.
import mall.followups.admin  # noqa: E402, F401
