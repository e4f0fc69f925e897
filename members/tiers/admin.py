"""Console pages of tiers (会员 Members): tiers with their monthly coupons, the tier settings,
and the growth ledger and tier history (read-only). Owner and administrator edit (the default
``MANAGER_ROLES``); every role views."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mall.console.admin import TenantScopedModelAdmin, TenantScopedTabularInline
from mall.console.site import console_site
from members.models import (
    GrowthEntry,
    MemberTier,
    Tier,
    TierChange,
    TierCoupon,
    TierSettings,
)


class _ReadOnly:
    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TierCouponInline(TenantScopedTabularInline):
    model = TierCoupon
    extra = 0
    fields = ("template", "quantity")
    verbose_name = _("monthly coupon")
    verbose_name_plural = _("Monthly coupon pack")


@admin.register(Tier, site=console_site)
class TierConsoleAdmin(TenantScopedModelAdmin):
    list_display = (
        "level",
        "name",
        "growth_threshold",
        "keep_threshold",
        "discount_rate",
        "free_shipping",
        "points_multiplier",
    )
    list_display_links = ("level", "name")
    ordering = ("level", "id")
    search_fields = ("name",)
    inlines = [TierCouponInline]
    fieldsets = (
        (None, {"fields": ("name", "level", "growth_threshold", "keep_threshold")}),
        (
            _("Benefits"),
            {
                "fields": (
                    "discount_rate",
                    "free_shipping",
                    "points_multiplier",
                    "birthday_points",
                    "birthday_coupon",
                )
            },
        ),
    )

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        form = super().get_form(request, obj, change, **kwargs)
        tenant = getattr(request, "tenant", None)
        editing = obj

        class TierForm(form):  # type: ignore[misc, valid-type]
            def clean(self) -> dict[str, Any]:
                data = super().clean()
                level, threshold = data.get("level"), data.get("growth_threshold")
                if tenant is None or level is None or threshold is None:
                    return data
                others = Tier.objects.for_tenant(tenant)
                if editing is not None:
                    others = others.exclude(pk=editing.pk)
                for other in others:
                    if other.level < level and other.growth_threshold >= threshold:
                        raise ValidationError(
                            gettext(
                                "The growth threshold must be above %(name)s's (%(threshold)d), "
                                "a lower tier."
                            )
                            % {"name": other.name, "threshold": other.growth_threshold}
                        )
                    if other.level > level and other.growth_threshold <= threshold:
                        raise ValidationError(
                            gettext(
                                "The growth threshold must be below %(name)s's (%(threshold)d), "
                                "a higher tier."
                            )
                            % {"name": other.name, "threshold": other.growth_threshold}
                        )
                return data

        return TierForm

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A tier members hold stays (change it instead); history rows keep its name empty.
        if (
            obj is not None
            and MemberTier.objects.for_tenant(obj.tenant_id).filter(tier_id=obj.pk).exists()
        ):
            return False
        return super().has_delete_permission(request, obj)


@admin.register(TierSettings, site=console_site)
class TierSettingsConsoleAdmin(TenantScopedModelAdmin):
    list_display = ("__str__", "growth_per_yuan", "review_months", "updated_at")
    fields = ("growth_per_yuan", "review_months")

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        tenant = getattr(request, "tenant", None)
        if tenant is not None and TierSettings.objects.for_tenant(tenant).exists():
            return False  # one row per tenant
        return super().has_add_permission(request, *args)


@admin.register(GrowthEntry, site=console_site)
class GrowthEntryConsoleAdmin(_ReadOnly, TenantScopedModelAdmin):
    list_display = ("created_at", "member", "delta", "balance_after", "reason", "ref")
    list_select_related = ("member",)
    list_filter = ("reason",)
    search_fields = ("ref", "member__nickname", "member__phone")
    fields = ("member", "delta", "balance_after", "reason", "ref", "note", "created_at")
    readonly_fields = fields


@admin.register(TierChange, site=console_site)
class TierChangeConsoleAdmin(_ReadOnly, TenantScopedModelAdmin):
    list_display = (
        "created_at",
        "member",
        "from_tier",
        "to_tier",
        "reason",
        "growth",
        "window_growth",
    )
    list_select_related = ("member", "from_tier", "to_tier")
    list_filter = ("reason",)
    search_fields = ("member__nickname", "member__phone")
    fields = (
        "member",
        "from_tier",
        "to_tier",
        "reason",
        "growth",
        "window_growth",
        "created_at",
    )
    readonly_fields = fields
