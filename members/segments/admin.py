"""Console pages of tags, segments (typed condition rows, live count), RFM rows, automation
rules (typed actions, dry run) and their execution log; the member list's tag actions.

Registered into ``console_site`` when ``MembersConfig.ready()`` imports this module."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from mall.console.admin import (
    ALL_ROLES,
    TenantScopedModelAdmin,
    TenantScopedTabularInline,
    request_tenant_id,
)
from mall.console.menu import MenuEntry, add_menu_entry
from mall.console.site import console_site
from mall.errors import ApplicationError
from mall.tenancy.models import Staff
from members.automation.hooks import coupon_issuer
from members.automation.models import AutomationExecution, AutomationRule
from members.automation.services import automation_dry_run
from members.models import Member
from members.segments.models import MemberRfm, Segment, SegmentCondition, Tag
from members.segments.selectors import segment_count
from members.segments.services import tag_apply, tag_get_or_create, tag_remove
from members.tiers.models import Tier

Role = Staff.Role
MARKETING_ROLES = frozenset({Role.OWNER, Role.ADMIN, Role.OPERATOR})
TAG_ROLES = frozenset({Role.OWNER, Role.ADMIN, Role.OPERATOR, Role.SERVICE})


# --- Intermediate pages of list actions -----------------------------------------------------


def action_page(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet[Any],
    *,
    form: forms.Form,
    title: str,
    intro: str,
    submit_label: str,
    action: str,
) -> TemplateResponse:
    opts = model_admin.model._meta
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "intro": intro,
        "submit_label": submit_label,
        "opts": opts,
        "form": form,
        "action": action,
        "selected": list(queryset.values_list("pk", flat=True)),
        "changelist_url": reverse(f"console:{opts.app_label}_{opts.model_name}_changelist"),
    }
    return TemplateResponse(request, "console/members/action_form.html", context)


class TagPickForm(forms.Form):
    tag = forms.ModelChoiceField(queryset=Tag.objects.none(), required=False, label=_("Tag"))
    new_tag = forms.CharField(
        required=False,
        max_length=32,
        label=_("Or a new tag"),
        help_text=_("Created when it does not exist yet."),
    )

    def __init__(self, *args: Any, tenant: Any, allow_new: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        self.fields["tag"].queryset = Tag.objects.for_tenant(tenant)  # type: ignore[attr-defined]
        if not allow_new:
            del self.fields["new_tag"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("tag") and not (cleaned.get("new_tag") or "").strip():
            raise forms.ValidationError(gettext("Choose a tag or name a new one."))
        return cleaned


def member_tag_action(remove: bool) -> Callable[..., Any]:
    def run(
        model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Member]
    ) -> HttpResponse | None:
        tenant = request.tenant  # type: ignore[attr-defined]
        form = TagPickForm(
            request.POST if "apply" in request.POST else None, tenant=tenant, allow_new=not remove
        )
        if form.is_bound and form.is_valid():
            ids = list(queryset.values_list("pk", flat=True))
            try:
                tag = form.cleaned_data["tag"] or tag_get_or_create(
                    tenant=tenant, name=form.cleaned_data["new_tag"]
                )
                if remove:
                    n = tag_remove(tenant=tenant, tag=tag, member_ids=ids)
                    text = ngettext(
                        "Tag %(tag)s removed from %(n)d member.",
                        "Tag %(tag)s removed from %(n)d members.",
                        n,
                    )
                else:
                    n = tag_apply(tenant=tenant, tag=tag, member_ids=ids)
                    text = ngettext(
                        "Tag %(tag)s added to %(n)d member.",
                        "Tag %(tag)s added to %(n)d members.",
                        n,
                    )
            except ApplicationError as exc:
                model_admin.message_user(request, str(exc.message), messages.ERROR)
                return None
            model_admin.message_user(request, text % {"tag": tag.name, "n": n})
            return None
        count = queryset.count()
        return action_page(
            model_admin,
            request,
            queryset,
            form=form,
            title=gettext("Remove a tag") if remove else gettext("Add a tag"),
            intro=ngettext("%(n)d member selected.", "%(n)d members selected.", count)
            % {"n": count},
            submit_label=gettext("Remove the tag") if remove else gettext("Add the tag"),
            action="remove_tag" if remove else "add_tag",
        )

    run.__name__ = "remove_tag" if remove else "add_tag"
    return run


add_tag = admin.action(description=_("Add a tag"))(member_tag_action(remove=False))
remove_tag = admin.action(description=_("Remove a tag"))(member_tag_action(remove=True))


class MemberTagFilter(admin.SimpleListFilter):
    title = _("tag")
    parameter_name = "tag"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        tenant = getattr(request, "tenant", None)
        if tenant is None:
            return []
        return [
            (str(pk), name) for pk, name in Tag.objects.for_tenant(tenant).values_list("pk", "name")
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Member]) -> QuerySet[Member]:
        value = self.value()
        if not value or not value.isdigit():
            return queryset
        from members.segments.models import MemberTag

        tenant = request.tenant  # type: ignore[attr-defined]
        return queryset.filter(
            pk__in=MemberTag.objects.for_tenant(tenant)
            .filter(tag_id=int(value))
            .values("member_id")
        )


# --- Tags -------------------------------------------------------------------------------------


@admin.register(Tag, site=console_site)
class TagConsoleAdmin(TenantScopedModelAdmin):
    view_roles = ALL_ROLES
    edit_roles = TAG_ROLES
    list_display = ("name", "members", "created_at")
    search_fields = ("name",)
    fields = ("name",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tag]:
        return super().get_queryset(request).annotate(member_count=Count("member_tags"))

    @admin.display(description=_("members"), ordering="member_count")
    def members(self, obj: Any) -> int:
        return getattr(obj, "member_count", 0)


# --- Segments ---------------------------------------------------------------------------------


class SegmentConditionInline(TenantScopedTabularInline):
    model = SegmentCondition
    extra = 1
    edit_roles = MARKETING_ROLES

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        """The tier is picked from the shop's tiers (the condition keeps the tier's id)."""
        if db_field.name == "tier_id":
            tiers = Tier.objects.for_tenant(request_tenant_id(request)).order_by("level")
            return forms.TypedChoiceField(
                label=pgettext_lazy("member tier", "tier"),
                choices=[("", "---------"), *((t.pk, t.name) for t in tiers)],
                coerce=int,
                empty_value=None,
                required=False,
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    fields = (
        "kind",
        "negate",
        "tag",
        "platform",
        "city",
        "month",
        "tier_id",
        "comparison",
        "number",
        "amount",
        "window_days",
    )


@admin.register(Segment, site=console_site)
class SegmentConsoleAdmin(TenantScopedModelAdmin):
    view_roles = ALL_ROLES
    edit_roles = MARKETING_ROLES
    list_display = ("name", "match", "description", "updated_at")
    search_fields = ("name",)
    fields = ("name", "description", "match", "live_count")
    readonly_fields = ("live_count",)
    inlines = (SegmentConditionInline,)
    actions = ["count_members"]

    @admin.display(description=_("members now"))
    def live_count(self, obj: Segment) -> str:
        if obj.pk is None:
            return gettext("Save the segment to count its members.")
        return str(segment_count(tenant=obj.tenant_id, segment=obj))

    @admin.action(description=_("Count the members now"))
    def count_members(self, request: HttpRequest, queryset: QuerySet[Segment]) -> None:
        for seg in queryset.order_by("name").prefetch_related("conditions"):
            n = segment_count(tenant=seg.tenant_id, segment=seg)
            self.message_user(
                request,
                ngettext("%(segment)s: %(n)d member", "%(segment)s: %(n)d members", n)
                % {"segment": seg.name, "n": n},
            )


@admin.register(MemberRfm, site=console_site)
class MemberRfmConsoleAdmin(TenantScopedModelAdmin):
    view_roles = ALL_ROLES
    edit_roles = frozenset()  # computed nightly
    list_display = (
        "member",
        "last_paid_at",
        "orders_365d",
        "amount_365d",
        "r_score",
        "f_score",
        "m_score",
        "computed_at",
    )
    list_select_related = ("member",)
    list_filter = ("r_score", "f_score", "m_score")
    search_fields = ("member__nickname", "member__phone")

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False


# --- Automation -------------------------------------------------------------------------------


class AutomationRuleForm(forms.ModelForm):
    coupon_template_id = forms.TypedChoiceField(
        coerce=int, required=False, empty_value=None, label=_("issue the coupon")
    )

    class Meta:
        model = AutomationRule
        fields = (
            "name",
            "is_active",
            "trigger",
            "days",
            "hours",
            "segment",
            "coupon_template_id",
            "points",
            "tag",
            "notify",
            "notify_title",
            "notify_text",
        )


@admin.register(AutomationRule, site=console_site)
class AutomationRuleConsoleAdmin(TenantScopedModelAdmin):
    view_roles = ALL_ROLES
    edit_roles = MARKETING_ROLES
    form = AutomationRuleForm
    list_display = ("name", "trigger", "days", "hours", "segment", "is_active")
    list_filter = ("trigger", "is_active")
    list_select_related = ("segment",)
    search_fields = ("name",)
    readonly_fields = ("dry_run",)
    actions = ["dry_run_action"]
    fieldsets = (
        (None, {"fields": ("name", "is_active")}),
        (
            _("Trigger"),
            {
                "fields": ("trigger", "days", "hours"),
                "description": _(
                    "Birthday, dormant, points and card expiring take N days; cart left takes "
                    "N hours; first paid order and tier changes take nothing."
                ),
            },
        ),
        (_("Condition"), {"fields": ("segment",)}),
        (
            _("Actions"),
            {
                "fields": (
                    "coupon_template_id",
                    "points",
                    "tag",
                    "notify",
                    "notify_title",
                    "notify_text",
                )
            },
        ),
        (_("Dry run"), {"fields": ("dry_run",)}),
    )

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        form = super().get_form(request, obj, change, **kwargs)
        issuer = coupon_issuer()
        tenant = getattr(request, "tenant", None)
        choices = issuer.choices(tenant.pk) if issuer is not None and tenant is not None else []
        form.base_fields["coupon_template_id"].choices = [("", "---------"), *choices]
        return form

    @admin.display(description=_("would fire now"))
    def dry_run(self, obj: AutomationRule) -> str:
        if obj.pk is None:
            return gettext("Save the rule to see how many members it would reach.")
        dry = automation_dry_run(rule=obj)
        return gettext("%(eligible)d members (found %(found)d, already done %(already)d)") % {
            "eligible": dry.eligible,
            "found": dry.found,
            "already": dry.already,
        }

    @admin.action(description=_("Dry run: count the members it would reach now"))
    def dry_run_action(self, request: HttpRequest, queryset: QuerySet[AutomationRule]) -> None:
        for rule in queryset.select_related("segment").order_by("pk"):
            self.message_user(request, f"{rule.name}: {self.dry_run(rule)}")


@admin.register(AutomationExecution, site=console_site)
class AutomationExecutionConsoleAdmin(TenantScopedModelAdmin):
    """The execution log: one row per rule, member and period (read-only)."""

    view_roles = ALL_ROLES
    edit_roles = frozenset()
    list_display = (
        "rule",
        "member",
        "period_key",
        "status",
        "coupon_id",
        "coupon_error",
        "points",
        "tagged",
        "notified",
        "executed_at",
    )
    list_select_related = ("rule", "member")
    list_filter = ("status", "rule")
    search_fields = ("member__nickname", "member__phone", "=member__id")

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False


for _entry in (
    MenuEntry(_("Member tags"), "sell", model="members.Tag"),
    MenuEntry(_("Segments"), "filter_alt", model="members.Segment"),
    MenuEntry(_("RFM scores"), "insights", model="members.MemberRfm"),
    MenuEntry(_("Automation rules"), "bolt", model="members.AutomationRule"),
    MenuEntry(_("Automation log"), "history", model="members.AutomationExecution"),
):
    add_menu_entry("members", _entry)
