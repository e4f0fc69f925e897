"""Console registrations of promotions: campaigns (with flash-sale SKUs and platform displays),
coupon templates (issue to a member segment), the tenant's promotion settings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from mall.console.admin import (
    ALL_ROLES,
    TenantScopedModelAdmin,
    TenantScopedTabularInline,
)
from mall.console.site import console_site
from mall.errors import ApplicationError
from mall.tenancy.models import Staff
from members.models import Segment
from members.segments.admin import action_page
from promotions.console_forms import (
    KIND_DESCRIPTIONS,
    KIND_FIELDS,
    KIND_SECTIONS,
    CampaignConsoleForm,
)
from promotions.models import (
    Campaign,
    CampaignDisplay,
    Coupon,
    CouponTemplate,
    FlashSaleSku,
    PromotionSettings,
)
from promotions.pricing.types import CampaignKind
from promotions.services import (
    campaign_cancel,
    campaign_schedule,
    coupon_issue_to_members,
    coupon_issue_to_segment,
)

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
            raise ValidationError(gettext("Only flash-sale campaigns have flash-sale SKUs."))
        if not (campaign.starts_at and campaign.ends_at) or campaign.status in ENDED:
            return
        for row in rows:
            sku = row.get("sku")
            if sku is None:
                continue
            if row.get("price") is not None and row["price"] >= sku.price:
                raise ValidationError(
                    gettext("The flash-sale price of %(sku)s must be below %(price)s.")
                    % {"sku": sku, "price": sku.price}
                )
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
                    gettext("%(sku)s is already in the flash sale '%(campaign)s' at that time.")
                    % {"sku": sku, "campaign": overlapping.campaign}
                )


class FlashSaleSkuInline(TenantScopedTabularInline):
    model = FlashSaleSku
    formset = FlashSaleSkuFormSet
    fields = ("sku", "price", "quota", "per_member_limit", "sold")
    readonly_fields = ("sold",)
    autocomplete_fields = ("sku",)  # the SKU console page's search: this tenant's SKUs only
    extra = 1
    verbose_name = _("flash-sale SKU")
    verbose_name_plural = _("flash-sale SKUs (price, quota, limit per member)")
    view_roles = ALL_ROLES
    edit_roles = MARKETING_ROLES


class CampaignDisplayInline(TenantScopedTabularInline):
    model = CampaignDisplay
    fields = ("platform", "title", "banner")
    extra = 0
    view_roles = ALL_ROLES
    edit_roles = MARKETING_ROLES


def _kind_fieldset(kind: str) -> tuple[Any, dict[str, Any]]:
    return (
        KIND_SECTIONS[kind],
        {
            "fields": tuple(
                (["fr_mode"] if kind == CampaignKind.FULL_REDUCTION else [])
                + list(KIND_FIELDS[kind].values())
            ),
            "description": KIND_DESCRIPTIONS[kind],
            "classes": (f"kind-{kind}",),
        },
    )


@admin.register(Campaign, site=console_site)
class CampaignConsoleAdmin(TenantScopedModelAdmin):
    """Campaigns with typed rules (``CampaignConsoleForm``): the raw ``rules`` and
    ``stacks_with`` JSON are written by the form, never shown."""

    form = CampaignConsoleForm
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
    autocomplete_fields = ("products", "categories", "skus", "excluded_products")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Sequence[str]:
        fields = tuple(super().get_readonly_fields(request, obj))
        # A campaign keeps its kind (its rules, flash-sale rows and orders depend on it).
        return (*fields, "kind") if obj is not None and "kind" not in fields else fields

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        kinds = [obj.kind] if obj is not None and obj.kind in KIND_FIELDS else list(KIND_FIELDS)
        return [
            (None, {"fields": ("name", "kind", "status", "starts_at", "ends_at", "priority")}),
            *(_kind_fieldset(kind) for kind in kinds),
            (
                _("Scope"),
                {
                    "fields": ("all_items", "products", "categories", "skus", "excluded_products"),
                    "description": _(
                        "Which items the campaign counts: all, or the products, categories "
                        "and SKUs picked here (minus the excluded products)."
                    ),
                },
            ),
            (_("Display"), {"fields": ("on_wechat", "on_alipay", "on_h5", "title", "banner")}),
            (
                _("Stacking and budget"),
                {"fields": ("stacking_default", "stacking", "budget", "discount_given")},
            ),
        ]

    def get_inline_instances(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        inlines = super().get_inline_instances(request, obj)
        if obj is not None and obj.kind != CampaignKind.FLASH_SALE:
            inlines = [i for i in inlines if not isinstance(i, FlashSaleSkuInline)]
        return inlines

    @admin.display(description=_("budget used"))
    def budget_used(self, obj: Campaign) -> str:
        if not obj.budget:
            return "-"
        return f"{obj.discount_given / obj.budget:.0%}"

    @admin.action(description=_("Schedule the selected draft campaigns"))
    def schedule(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._transition(request, queryset, campaign_schedule)

    @admin.action(description=_("Cancel the selected campaigns"))
    def cancel(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._transition(request, queryset, campaign_cancel)

    def _transition(self, request: HttpRequest, queryset: QuerySet[Campaign], service: Any) -> None:
        done = 0
        for campaign in queryset.order_by("pk"):
            try:
                service(tenant=request.tenant, campaign=campaign)  # type: ignore[attr-defined]
                done += 1
            except ApplicationError as exc:
                self.message_user(
                    request,
                    gettext("%(campaign)s: %(error)s")
                    % {"campaign": campaign, "error": exc.message},
                    messages.WARNING,
                )
        self.message_user(
            request,
            ngettext("%(n)d campaign updated.", "%(n)d campaigns updated.", done) % {"n": done},
        )


class IssueActionForm(ActionForm):
    member_ids = forms.CharField(
        required=False,
        label=_("Member ids"),
        help_text=_("For 'Issue to members': comma-separated member ids."),
    )


@admin.register(CouponTemplate, site=console_site)
class CouponTemplateConsoleAdmin(TenantScopedModelAdmin):
    view_roles = ALL_ROLES
    edit_roles = MARKETING_ROLES
    action_form = IssueActionForm
    actions = ["issue_to_members", "issue_to_segment"]
    edit_actions = ("issue_to_segment",)
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
    autocomplete_fields = ("categories", "products", "excluded_products")
    fieldsets = (
        (None, {"fields": ("name", "description", "kind", "is_active")}),
        (
            _("Value"),
            {
                "fields": ("amount", "percent_off", "max_discount", "threshold"),
                "description": _(
                    "Amount off: the amount. Over X, amount off: the threshold and the amount. "
                    "Percent off: the percent and, if any, the most it takes off. Shipping: "
                    "the amount off the fee, empty for free shipping."
                ),
            },
        ),
        (
            _("Scope"),
            {"fields": ("scope_type", "categories", "products", "excluded_products")},
        ),
        (_("Quantity"), {"fields": ("total_quantity", "issued_count", "per_member_limit")}),
        (
            _("Validity"),
            {
                "fields": ("validity_type", "valid_from", "valid_until", "valid_days"),
                "description": _(
                    "A fixed window (from, until) or a number of days after the claim."
                ),
            },
        ),
        (_("Claiming"), {"fields": ("claim_channel", "claim_starts_at", "claim_ends_at")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[CouponTemplate]:
        return (
            super()
            .get_queryset(request)
            .annotate(used_total=Count("coupons", filter=Q(coupons__status="used")))
        )

    @admin.display(description=_("used"), ordering="used_total")
    def used(self, obj: Any) -> int:
        return getattr(obj, "used_total", 0)

    @admin.action(description=_("Issue to a segment"))
    def issue_to_segment(
        self, request: HttpRequest, queryset: QuerySet[CouponTemplate]
    ) -> HttpResponse | None:
        return _issue_to_segment(self, request, queryset)

    @admin.action(description=_("Issue to members (ids below)"))
    def issue_to_members(self, request: HttpRequest, queryset: QuerySet[CouponTemplate]) -> None:
        raw = request.POST.get("member_ids", "")
        try:
            ids = [int(part) for part in raw.replace(" ", "").split(",") if part]
        except ValueError:
            self.message_user(request, gettext("Member ids must be numbers."), messages.ERROR)
            return
        if not ids:
            self.message_user(request, gettext("Give at least one member id."), messages.ERROR)
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
                (
                    gettext("%(template)s: issued %(issued)d; skipped %(skipped)s")
                    if skipped
                    else gettext("%(template)s: issued %(issued)d")
                )
                % {"template": template, "issued": len(result.issued), "skipped": skipped},
                level,
            )


class SegmentPickForm(forms.Form):
    segment = forms.ModelChoiceField(queryset=Segment.objects.none(), label=_("Segment"))

    def __init__(self, *args: Any, tenant: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["segment"].queryset = Segment.objects.for_tenant(tenant)  # type: ignore[attr-defined]


def _issue_to_segment(
    model_admin: Any, request: HttpRequest, queryset: QuerySet[CouponTemplate]
) -> HttpResponse | None:
    tenant = request.tenant  # type: ignore[attr-defined]
    form = SegmentPickForm(request.POST if "apply" in request.POST else None, tenant=tenant)
    if form.is_bound and form.is_valid():
        segment = form.cleaned_data["segment"]
        for template in queryset.order_by("pk"):
            result = coupon_issue_to_segment(tenant=tenant, template=template, segment=segment)
            skipped = len(result.skipped)
            model_admin.message_user(
                request,
                gettext("%(template)s to %(segment)s: issued %(issued)d, skipped %(skipped)d")
                % {
                    "template": template,
                    "segment": segment.name,
                    "issued": len(result.issued),
                    "skipped": skipped,
                },
                messages.WARNING if skipped else messages.SUCCESS,
            )
        return None
    return action_page(
        model_admin,
        request,
        queryset,
        form=form,
        title=gettext("Issue to a segment"),
        intro=gettext(
            "Each member of the segment as it is now gets one coupon of each selected "
            "template, within the templates' limits."
        ),
        submit_label=gettext("Issue"),
        action="issue_to_segment",
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
