"""Console pages of member cards: plans (owner/admin edit), purchases and cards (read-only)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from mall.console.admin import TenantScopedModelAdmin, TenantScopedTabularInline
from mall.console.site import console_site
from members.models import CardPlanCoupon, CardPurchase, MemberCard, MemberCardPlan


class _ReadOnly:
    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CardPlanCouponInline(TenantScopedTabularInline):
    model = CardPlanCoupon
    extra = 0
    fields = ("template", "quantity")
    verbose_name = _("card coupon")
    verbose_name_plural = _("Coupon pack (on purchase and every card month)")


@admin.register(MemberCardPlan, site=console_site)
class MemberCardPlanConsoleAdmin(TenantScopedModelAdmin):
    list_display = (
        "name",
        "price",
        "duration_days",
        "price_rate",
        "free_shipping",
        "points_multiplier",
        "is_active",
        "sort",
        "updated_at",
    )
    list_filter = ("is_active",)
    search_fields = ("name",)
    inlines = [CardPlanCouponInline]
    fieldsets = (
        (None, {"fields": ("name", "price", "duration_days", "is_active", "sort")}),
        (
            _("Benefits"),
            {"fields": ("price_rate", "free_shipping", "points_multiplier", "benefits")},
        ),
    )
    ordering = ("sort", "id")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A plan that was bought stays (purchases keep pointing at it): deactivate it instead.
        if obj is not None and obj.purchases.exists():
            return False
        return super().has_delete_permission(request, obj)


@admin.register(CardPurchase, site=console_site)
class CardPurchaseConsoleAdmin(_ReadOnly, TenantScopedModelAdmin):
    list_display = (
        "reference",
        "member",
        "plan_name",
        "price",
        "duration_days",
        "status",
        "paid_at",
        "created_at",
    )
    list_filter = ("status",)
    search_fields = ("reference", "plan_name", "member__nickname", "member__phone")
    fields = (
        "reference",
        "member",
        "plan",
        "plan_name",
        "price",
        "duration_days",
        "status",
        "expires_at",
        "period_start",
        "period_end",
        "payment_reference",
        "paid_at",
        "cancelled_at",
        "refunded_at",
        "created_at",
    )
    readonly_fields = fields


@admin.register(MemberCard, site=console_site)
class MemberCardConsoleAdmin(_ReadOnly, TenantScopedModelAdmin):
    list_display = ("member", "plan", "starts_at", "ends_at")
    list_select_related = ("member", "plan")
    search_fields = ("member__nickname", "member__phone")
    fields = ("member", "plan", "starts_at", "ends_at", "created_at", "updated_at")
    readonly_fields = fields
