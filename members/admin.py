"""Admin registrations of members: the tenant console (/console/) and platform admin (/admin/).

Address writes go through ``members.services.addresses`` (at most ``MAX_PER_MEMBER``
addresses, exactly one default, member rows locked), also from the console.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
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
from mall.errors import ApplicationError
from mall.tenancy.models import Staff, Tenant
from members.automation.models import AutomationExecution
from members.automation.services import execution_log
from members.models import (
    Address,
    CheckInReward,
    Member,
    MemberIdentity,
    MemberMerge,
    PointsLedger,
    PointsSettings,
)
from members.points.services import points_adjust
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


class PointsAdjustForm(forms.Form):
    """A manual points adjustment: a whole number other than zero and a reason."""

    delta = forms.IntegerField(
        label=_("Change"),
        min_value=-10_000_000,
        max_value=10_000_000,
        help_text=_("Positive adds points (expiring by the shop's rule); negative takes them."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=200)

    def clean_delta(self) -> int:
        delta: int = self.cleaned_data["delta"]
        if delta == 0:
            raise ValidationError(_("Enter a change other than zero."))
        return delta


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
        "points_debt",
        "points_actions",
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
        "points_debt",
        "points_actions",
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

    @admin.display(description=_("points adjustment"))
    def points_actions(self, obj: Member) -> str:
        if obj.pk is None:
            return ""
        url = reverse("console:members_member_points", args=[obj.pk])
        return format_html('<a class="button" href="{}">{}</a>', url, gettext("Adjust points"))

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path(
                "<int:member_id>/points/",
                view(self.points_adjust_view),
                name="members_member_points",
            ),
            *super().get_urls(),
        ]

    def points_adjust_view(self, request: HttpRequest, member_id: int) -> HttpResponse:
        """Add or take points with a reason (members.points.services.points_adjust)."""
        member = self.get_object(request, str(member_id))
        if member is None:
            raise Http404
        if not self.has_change_permission(request, member):
            raise PermissionDenied
        form = PointsAdjustForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                entry = points_adjust(
                    tenant=request.tenant,  # type: ignore[attr-defined]
                    member_id=member.pk,
                    delta=form.cleaned_data["delta"],
                    note=form.cleaned_data["reason"],
                    actor=f"staff:{request.user.pk}",
                )
            except ApplicationError as exc:
                form.add_error("delta", str(exc.message))
            else:
                self.message_user(
                    request,
                    gettext("Points of %(member)s changed by %(delta)+d; balance %(balance)d.")
                    % {"member": member, "delta": entry.delta, "balance": entry.balance_after},
                )
                return redirect("console:members_member_change", member.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Adjust points of %(member)s") % {"member": member},
            "opts": self.model._meta,
            "member": member,
            "form": form,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "console/members/points_adjust.html", context)

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


@admin.register(PointsSettings, site=console_site)
class PointsSettingsConsoleAdmin(TenantScopedModelAdmin):
    """The shop's points rules (one row): earning rate, first-order bonus, expiry."""

    view_roles = ALL_ROLES
    edit_roles = frozenset({Role.OWNER, Role.ADMIN})
    list_display = ("earn_per_yuan", "first_order_bonus", "expiry", "expiry_days", "updated_at")
    fields = ("earn_per_yuan", "first_order_bonus", "expiry", "expiry_days")

    def has_add_permission(self, request: HttpRequest) -> bool:
        tenant = getattr(request, "tenant", None)
        if tenant is not None and PointsSettings.objects.for_tenant(tenant).exists():
            return False  # one row per shop
        return super().has_add_permission(request)


@admin.register(CheckInReward, site=console_site)
class CheckInRewardConsoleAdmin(TenantScopedModelAdmin):
    """Check-in rewards for day N of a streak (day 0: every check-in)."""

    view_roles = ALL_ROLES
    edit_roles = frozenset({Role.OWNER, Role.ADMIN, Role.OPERATOR})
    list_display = ("day", "points", "coupon_template_id", "growth", "is_active")
    list_filter = ("is_active",)
    fields = ("day", "points", "coupon_template_id", "growth", "is_active")


@admin.register(PointsLedger, site=console_site)
class PointsLedgerConsoleAdmin(TenantScopedModelAdmin):
    """Every change of every member's points, read-only (adjust from the member's page)."""

    view_roles = ALL_ROLES
    edit_roles = frozenset()
    delete_roles = frozenset()
    list_display = (
        "id",
        "member",
        "delta",
        "reason",
        "order_number",
        "note",
        "balance_after",
        "debt_after",
        "actor",
        "created_at",
    )
    list_select_related = ("member",)
    list_filter = ("reason",)
    search_fields = ("order_number", "member__nickname", "member__phone", "note")
    date_hierarchy = "created_at"
    fields = list_display[1:]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


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
