"""Console registrations of promotions: campaigns (with flash-sale SKUs and platform displays),
coupon templates (issue to a member segment), the tenant's promotion settings."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest

from mall.api.errors import ApplicationError
from mall.console.admin import (
    ALL_ROLES,
    TenantScopedModelAdmin,
    TenantScopedTabularInline,
)
from mall.console.site import console_site
from mall.tenancy.models import Staff
from promotions.models import (
    Campaign,
    CampaignDisplay,
    Coupon,
    CouponTemplate,
    FlashSaleSku,
    PromotionSettings,
)
from promotions.services import campaign_cancel, campaign_schedule, coupon_issue_to_members

Role = Staff.Role
MARKETING_ROLES = frozenset({Role.OWNER, Role.ADMIN, Role.OPERATOR})
ENDED = (Campaign.Status.CANCELLED, Campaign.Status.ENDED)


class FlashSaleSkuFormSet(forms.BaseInlineFormSet):
    """No SKU in two flash sales whose windows overlap; only flash-sale campaigns have SKUs."""

    def clean(self) -> None:
        super().clean()
        campaign: Campaign = self.instance
        rows = [
            f.cleaned_data
            for f in self.forms
            if getattr(f, "cleaned_data", None) and not f.cleaned_data.get("DELETE")
        ]
        if rows and campaign.kind != "flash_sale":
            raise ValidationError("Only flash-sale campaigns have flash-sale SKUs.")
        if not (campaign.starts_at and campaign.ends_at) or campaign.status in ENDED:
            return
        for row in rows:
            sku = row.get("sku")
            if sku is None:
                continue
            if row.get("price") is not None and row["price"] >= sku.price:
                raise ValidationError(f"The flash-sale price of {sku} must be below {sku.price}.")
            overlapping = (
                FlashSaleSku.objects.for_tenant(campaign.tenant_id)
                .filter(
                    sku=sku,
                    campaign__starts_at__lt=campaign.ends_at,
                    campaign__ends_at__gt=campaign.starts_at,
                )
                .exclude(campaign__status__in=ENDED)
                .exclude(campaign_id=campaign.pk)
                .select_related("campaign")
                .first()
            )
            if overlapping is not None:
                raise ValidationError(
                    f"{sku} is already in the flash sale '{overlapping.campaign}' at that time."
                )


class FlashSaleSkuInline(TenantScopedTabularInline):
    model = FlashSaleSku
    formset = FlashSaleSkuFormSet
    fields = ("sku", "price", "quota", "per_member_limit", "sold")
    readonly_fields = ("sold",)
    raw_id_fields = ("sku",)
    extra = 0
    view_roles = ALL_ROLES
    edit_roles = MARKETING_ROLES


class CampaignDisplayInline(TenantScopedTabularInline):
    model = CampaignDisplay
    fields = ("platform", "title", "banner")
    extra = 0
    view_roles = ALL_ROLES
    edit_roles = MARKETING_ROLES


@admin.register(Campaign, site=console_site)
class CampaignConsoleAdmin(TenantScopedModelAdmin):
    view_roles = ALL_ROLES
    edit_roles = MARKETING_ROLES
    inlines = [FlashSaleSkuInline, CampaignDisplayInline]
    list_display = (
        "name",
        "kind",
        "status",
        "starts_at",
        "ends_at",
        "budget",
        "discount_given",
        "budget_used",
    )
    list_filter = ("kind", "status")
    search_fields = ("name",)
    readonly_fields = ("discount_given",)
    filter_horizontal = ("products", "categories", "excluded_products")
    raw_id_fields = ("skus",)
    fieldsets = (
        (None, {"fields": ("name", "kind", "status", "starts_at", "ends_at", "priority")}),
        (
            "Scope",
            {"fields": ("all_items", "products", "categories", "skus", "excluded_products")},
        ),
        ("Display", {"fields": ("on_wechat", "on_alipay", "on_h5", "title", "banner")}),
        (
            "Rules",
            {
                "fields": ("rules", "stacks_with", "budget", "discount_given"),
                "description": "Rules are JSON per kind, see docs/pricing.md.",
            },
        ),
    )
    actions = ["schedule", "cancel"]

    @admin.display(description="budget used")
    def budget_used(self, obj: Campaign) -> str:
        if not obj.budget:
            return "-"
        return f"{obj.discount_given / obj.budget:.0%}"

    @admin.action(description="Schedule the selected draft campaigns")
    def schedule(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._transition(request, queryset, campaign_schedule)

    @admin.action(description="Cancel the selected campaigns")
    def cancel(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._transition(request, queryset, campaign_cancel)

    def _transition(self, request: HttpRequest, queryset: QuerySet[Campaign], service: Any) -> None:
        done = 0
        for campaign in queryset.order_by("pk"):
            try:
                service(tenant=request.tenant, campaign=campaign)  # type: ignore[attr-defined]
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"{campaign}: {exc.message}", messages.WARNING)
        self.message_user(request, f"{done} campaign(s) updated.")


class IssueActionForm(ActionForm):
    member_ids = forms.CharField(
        required=False,
        label="Member ids",
        help_text="For 'Issue to members': comma-separated member ids.",
    )


@admin.register(CouponTemplate, site=console_site)
class CouponTemplateConsoleAdmin(TenantScopedModelAdmin):
    view_roles = ALL_ROLES
    edit_roles = MARKETING_ROLES
    action_form = IssueActionForm
    actions = ["issue_to_members"]
    list_display = (
        "name",
        "kind",
        "amount",
        "percent_off",
        "threshold",
        "claim_channel",
        "total_quantity",
        "issued_count",
        "used",
        "is_active",
    )
    list_filter = ("kind", "claim_channel", "is_active")
    search_fields = ("name",)
    readonly_fields = ("issued_count",)
    filter_horizontal = ("categories", "products", "excluded_products")

    def get_queryset(self, request: HttpRequest) -> QuerySet[CouponTemplate]:
        return (
            super()
            .get_queryset(request)
            .annotate(used_total=Count("coupons", filter=Q(coupons__status="used")))
        )

    @admin.display(description="used", ordering="used_total")
    def used(self, obj: Any) -> int:
        return getattr(obj, "used_total", 0)

    @admin.action(description="Issue to members (ids below)")
    def issue_to_members(self, request: HttpRequest, queryset: QuerySet[CouponTemplate]) -> None:
        raw = request.POST.get("member_ids", "")
        try:
            ids = [int(part) for part in raw.replace(" ", "").split(",") if part]
        except ValueError:
            self.message_user(request, "Member ids must be numbers.", messages.ERROR)
            return
        if not ids:
            self.message_user(request, "Give at least one member id.", messages.ERROR)
            return
        for template in queryset.order_by("pk"):
            result = coupon_issue_to_members(
                tenant=request.tenant,  # type: ignore[attr-defined]
                template=template,
                member_ids=ids,
            )
            level = messages.SUCCESS if not result.skipped else messages.WARNING
            skipped = ", ".join(f"{k}: {v}" for k, v in sorted(result.skipped.items()))
            self.message_user(
                request,
                f"{template}: issued {len(result.issued)}"
                + (f"; skipped {skipped}" if skipped else ""),
                level,
            )


@admin.register(PromotionSettings, site=console_site)
class PromotionSettingsConsoleAdmin(TenantScopedModelAdmin):
    view_roles = ALL_ROLES
    edit_roles = frozenset({Role.OWNER, Role.ADMIN})
    list_display = (
        "points_per_yuan",
        "points_max_share",
        "max_goods_coupons",
        "coupons_with_campaigns",
        "coupons_on_flash_sale",
    )


@admin.register(Coupon, site=console_site)
class CouponConsoleAdmin(TenantScopedModelAdmin):
    """Issued coupons, read-only: who holds what, in which state, used on which order."""

    view_roles = ALL_ROLES
    edit_roles = frozenset()
    list_display = (
        "id",
        "template",
        "member",
        "status",
        "valid_from",
        "valid_until",
        "order_reference",
        "claimed_at",
        "used_at",
    )
    list_filter = ("status", "channel")
    search_fields = ("order_reference", "template__name", "member__nickname", "member__phone")
    list_select_related = ("template", "member")
    raw_id_fields = ("template", "member")
    date_hierarchy = "claimed_at"
