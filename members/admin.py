"""Admin registrations of members: the tenant console (/console/) and platform admin (/admin/).

Address writes go through ``members.services.addresses`` (at most ``MAX_PER_MEMBER``
addresses, exactly one default, member rows locked), also from the console.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mall.console.admin import (
    ALL_ROLES,
    FORMFIELD_OVERRIDES,
    TenantScopedModelAdmin,
    TenantScopedStackedInline,
    TenantScopedTabularInline,
)
from mall.console.dashboard import register_dashboard_counter
from mall.console.site import console_site
from mall.tenancy.models import Staff, Tenant
from members.automation.models import AutomationExecution
from members.automation.services import execution_log
from members.models import Address, Member, MemberIdentity, MemberMerge
from members.segments.admin import MemberTagFilter, add_tag, remove_tag
from members.segments.selectors import member_tag_names
from members.services.addresses import (
    ADDRESS_FIELDS,
    address_create,
    address_delete,
    address_update,
)

Role = Staff.Role
MEMBER_EDIT_ROLES = frozenset({Role.OWNER, Role.ADMIN, Role.SERVICE})


# --- Dashboard counters -------------------------------------------------------------------


def members_new_today(tenant: Tenant, day_start: datetime, day_end: datetime) -> int:
    return (
        Member.objects.for_tenant(tenant)
        .filter(merged_into__isnull=True, created_at__gte=day_start, created_at__lt=day_end)
        .count()
    )


def members_total(tenant: Tenant, day_start: datetime, day_end: datetime) -> int:
    return Member.objects.for_tenant(tenant).filter(merged_into__isnull=True).count()


register_dashboard_counter("members_new_today", _("New members today"), members_new_today, order=10)
register_dashboard_counter("members_total", _("Members in total"), members_total, order=11)


# --- Addresses through the services ---------------------------------------------------------


class AddressForm(forms.ModelForm):
    """The single-default constraint is kept by the services (they swap the default), so it is
    not validated per form; the other checks stay."""

    def _get_validation_exclusions(self) -> set[str]:
        exclude = super()._get_validation_exclusions()  # type: ignore[misc]  # Django's private hook
        exclude.add("member")  # only uniq_default_address_per_member uses it
        return exclude


class AddressConsoleForm(AddressForm):
    """The stand-alone address page: the same limits the services enforce, as form errors."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        assert cleaned is not None  # a ModelForm's clean() returns cleaned_data
        if self.instance.pk is None:
            member = cleaned.get("member")
            count = (
                Address.objects.for_tenant(member.tenant_id).filter(member=member).count()
                if member is not None
                else 0
            )
            if count >= Address.MAX_PER_MEMBER:
                raise ValidationError(
                    gettext("A member can keep at most %(max)d addresses.")
                    % {"max": Address.MAX_PER_MEMBER}
                )
        elif self.initial.get("is_default") and not cleaned.get("is_default"):
            raise ValidationError(
                gettext("Make another address the default instead of unsetting this one.")
            )
        return cleaned


def _address_data(address: Address) -> dict[str, Any]:
    return {name: getattr(address, name) for name in ADDRESS_FIELDS}


def address_save_from_console(address: Address) -> Address:
    """Create or update ``address`` (an unsaved form instance) through the services."""
    if address.pk is None:
        return address_create(
            member=address.member, is_default=address.is_default, **_address_data(address)
        )
    return address_update(
        address=address, is_default=True if address.is_default else None, **_address_data(address)
    )


class AddressInlineFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        live = [
            f
            for f in self.forms
            if f.has_changed() or f.instance.pk is not None
            if not self._should_delete_form(f) and getattr(f, "cleaned_data", None)  # type: ignore[attr-defined]  # Django's
        ]
        if len(live) > Address.MAX_PER_MEMBER:
            raise ValidationError(
                gettext("A member can keep at most %(max)d addresses.")
                % {"max": Address.MAX_PER_MEMBER}
            )
        defaults = [f for f in live if f.cleaned_data.get("is_default")]
        if len(defaults) > 1:
            raise ValidationError(gettext("Only one address can be the default."))
        unset = [
            f
            for f in live
            if f.instance.pk is not None
            and f.initial.get("is_default")
            and not f.cleaned_data.get("is_default")
        ]
        if unset and not defaults:
            raise ValidationError(
                gettext("Make another address the default instead of unsetting it.")
            )


class AddressInline(TenantScopedStackedInline):
    model = Address
    form = AddressForm
    formset = AddressInlineFormSet
    extra = 0
    edit_roles = MEMBER_EDIT_ROLES
    fields = (
        ("name", "phone"),
        ("province", "city", "district"),
        "detail",
        ("province_code", "city_code", "district_code", "postal_code"),
        "is_default",
    )


class MemberIdentityInline(TenantScopedTabularInline):
    model = MemberIdentity
    extra = 0
    can_delete = False
    fields = ("platform", "app_id", "openid", "unionid", "created_at", "last_login_at")
    readonly_fields = fields
    edit_roles = frozenset()  # identities come from mini program logins only


@admin.register(Member, site=console_site)
class MemberConsoleAdmin(TenantScopedModelAdmin):
    view_roles = ALL_ROLES
    edit_roles = MEMBER_EDIT_ROLES
    delete_roles = frozenset()  # deactivate instead (orders and ledgers point at members)
    list_display = ("id", "nickname", "phone", "gender", "points", "is_active", "created_at")
    list_display_links = ("id", "nickname")
    list_filter = ("is_active", "gender", MemberTagFilter)
    search_fields = ("nickname", "phone")
    date_hierarchy = "created_at"
    actions = [add_tag, remove_tag]
    edit_actions = ("add_tag", "remove_tag")
    fields = (
        "nickname",
        "avatar",
        "phone",
        "birthday",
        "gender",
        "is_active",
        "points",
        "growth",
        "source_scene",
        "merged_into",
        "created_at",
        "updated_at",
        "tag_names",
        "automation_log",
    )
    # Phone changes go through binding (merges); points and growth through their ledgers.
    readonly_fields = (
        "avatar",
        "phone",
        "points",
        "growth",
        "source_scene",
        "merged_into",
        "created_at",
        "updated_at",
        "tag_names",
        "automation_log",
    )
    inlines = (MemberIdentityInline, AddressInline)

    @admin.display(description=_("tags"))
    def tag_names(self, obj: Member) -> str:
        return ", ".join(member_tag_names(tenant=obj.tenant_id, member_id=obj.pk)) or "-"

    @admin.display(description=_("automation log"))
    def automation_log(self, obj: Member) -> str:
        rows = execution_log(tenant=obj.tenant_id, member_id=obj.pk, limit=20)
        if not rows:
            return "-"
        return format_html_join(
            mark_safe("<br>"),
            "{} · {} · {}",
            (
                (
                    row["rule__name"],
                    row["period_key"],
                    AutomationExecution.Status(row["status"]).label,
                )
                for row in rows
            ),
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # members are created by mini program logins

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not Address:
            super().save_formset(request, form, formset, change)
            return
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            address_delete(address=obj)
        # Defaults last, so the service's swap sees the final state of the others.
        for obj in sorted(instances, key=lambda a: a.is_default):
            obj.tenant = request.tenant  # type: ignore[attr-defined]
            address_save_from_console(obj)


@admin.register(Address, site=console_site)
class AddressConsoleAdmin(TenantScopedModelAdmin):
    view_roles = ALL_ROLES
    edit_roles = MEMBER_EDIT_ROLES
    form = AddressConsoleForm
    list_display = ("name", "member", "phone", "province", "city", "is_default", "created_at")
    list_select_related = ("member",)
    list_filter = ("is_default",)
    search_fields = ("name", "phone", "detail", "member__nickname")
    autocomplete_fields = ("member",)
    fields = (
        "member",
        ("name", "phone"),
        ("province", "city", "district"),
        "detail",
        ("province_code", "city_code", "district_code", "postal_code"),
        ("latitude", "longitude"),
        "is_default",
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("member",) if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: Address, form: Any, change: bool) -> None:
        obj.tenant = request.tenant  # type: ignore[attr-defined]
        saved = address_save_from_console(obj)
        obj.pk = saved.pk
        obj.is_default = saved.is_default
        obj._state.adding = False

    def delete_model(self, request: HttpRequest, obj: Address) -> None:
        address_delete(address=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Address]) -> None:
        for address in queryset:
            address_delete(address=address)


# =========================================================================================
# Platform operators (/admin/)
# =========================================================================================


class MemberIdentityPlatformInline(admin.TabularInline):
    model = MemberIdentity
    extra = 0
    fields = ("platform", "app_id", "openid", "unionid", "created_at", "last_login_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    formfield_overrides = FORMFIELD_OVERRIDES
    list_display = ("id", "nickname", "tenant", "phone", "points", "is_active", "created_at")
    list_filter = ("tenant", "is_active", "gender")
    list_select_related = ("tenant",)
    search_fields = ("nickname", "phone", "tenant__slug")
    raw_id_fields = ("merged_into",)
    readonly_fields = ("points", "growth", "created_at", "updated_at")
    inlines = (MemberIdentityPlatformInline,)


@admin.register(Address)
class AddressAdmin(admin.ModelAdmin):
    list_display = ("name", "member", "tenant", "city", "is_default")
    list_filter = ("tenant", "is_default")
    list_select_related = ("member", "tenant")
    search_fields = ("name", "phone", "member__nickname")
    raw_id_fields = ("member",)


@admin.register(MemberIdentity)
class MemberIdentityAdmin(admin.ModelAdmin):
    list_display = ("openid", "platform", "app_id", "member", "tenant", "last_login_at")
    list_filter = ("tenant", "platform")
    list_select_related = ("member", "tenant")
    search_fields = ("openid", "unionid", "app_id")
    raw_id_fields = ("member",)


@admin.register(MemberMerge)
class MemberMergeAdmin(admin.ModelAdmin):
    list_display = ("id", "tenant", "survivor", "merged", "phone", "created_at")
    list_filter = ("tenant",)
    raw_id_fields = ("survivor", "merged")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
