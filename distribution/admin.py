"""Console pages of distribution: settings, grades, overrides, distributors (approve, reject,
freeze, unfreeze), bindings, commissions and the ledger (read-only), withdrawals (approve,
reject, mark paid with the payout reference) and team rewards (read-only)."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from distribution import services
from distribution.console import DistributorConsoleMixin
from distribution.dashboard import dashboard_register
from distribution.models import (
    Binding,
    Commission,
    CommissionRule,
    DistributionSettings,
    Distributor,
    DistributorGrade,
    LedgerEntry,
    TeamReward,
    Withdrawal,
)
from mall.console.admin import ALL_ROLES, TenantScopedModelAdmin
from mall.console.site import console_site
from mall.errors import ApplicationError, render_message
from mall.http import TenantHttpRequest
from mall.tenancy.models import Staff
from payments.console import Column, FinanceListMixin, Total, date_range_filter, money_column

Role = Staff.Role
FINANCE_ROLES = frozenset({Role.OWNER, Role.ADMIN, Role.FINANCE})
OPERATION_ROLES = frozenset({Role.OWNER, Role.ADMIN, Role.OPERATOR})


def _actor(request: HttpRequest) -> str:
    return f"staff:{request.user.pk}"


def _each(request: HttpRequest, queryset: QuerySet, action: Any, done: Any, **kwargs: Any) -> None:
    """``done``: the success message with ``%(count)d`` (a lazy translation)."""
    ok = 0
    for obj in queryset:
        try:
            action(obj, **kwargs)
            ok += 1
        except ApplicationError as exc:
            messages.error(request, f"{obj}: {render_message(exc.message)}")
    if ok:
        messages.success(request, str(done) % {"count": ok})


def _distributor_action(service: Any, description: Any, done: Any) -> Any:
    """A console action that runs ``service`` on each selected distributor as this staff
    user, reporting refusals one by one."""

    @admin.action(description=description)
    def action(modeladmin: Any, request: TenantHttpRequest, queryset: QuerySet) -> None:
        _each(
            request,
            queryset,
            lambda d: service(tenant=request.tenant, distributor_id=d.pk, actor=_actor(request)),
            done,
        )

    return action


class ReadOnlyMixin:
    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(DistributionSettings, site=console_site)
class DistributionSettingsAdmin(TenantScopedModelAdmin):
    list_display = ["enabled", "tiers", "recruitment", "binding_mode", "cap_rate", "rules_version"]
    readonly_fields = ["rules_version"]
    delete_roles: frozenset[str] = frozenset()

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            obj.rules_version += 1
        super().save_model(request, obj, form, change)


@admin.register(DistributorGrade, site=console_site)
class DistributorGradeAdmin(TenantScopedModelAdmin):
    list_display = ["name", "level", "tier1_rate", "tier2_rate", "tier3_rate", "is_default"]


@admin.register(CommissionRule, site=console_site)
class CommissionRuleAdmin(TenantScopedModelAdmin):
    list_display = ["id", "product", "sku", "mode", "tier1_value", "tier2_value", "tier3_value"]
    list_select_related = ["product", "sku"]
    raw_id_fields = ["product", "sku"]
    edit_roles = OPERATION_ROLES


@admin.register(Distributor, site=console_site)
class DistributorAdmin(DistributorConsoleMixin, TenantScopedModelAdmin):
    list_display = [
        "share_code", "member", "status", "grade", "parent", "depth", "balance", "links"
    ]  # fmt: skip
    list_filter = ["status", "grade"]
    search_fields = ["share_code", "member__nickname", "member__phone"]
    fields = ["member", "status", "grade", "share_code", "parent", "balance", "note", "path"]
    readonly_fields = ["member", "status", "share_code", "parent", "balance", "path"]
    actions = ["approve", "reject", "freeze", "unfreeze"]
    edit_roles = OPERATION_ROLES
    add_roles: frozenset[str] = frozenset()
    delete_roles: frozenset[str] = frozenset()

    @admin.display(description="")
    def links(self, obj: Distributor) -> str:
        return self.console_links(obj)

    approve = _distributor_action(
        services.distributor_approve, _("Approve selected applications"), _("%(count)d approved.")
    )
    reject = _distributor_action(
        services.distributor_reject, _("Reject selected applications"), _("%(count)d rejected.")
    )
    freeze = _distributor_action(
        services.distributor_freeze, _("Freeze selected distributors"), _("%(count)d frozen.")
    )
    unfreeze = _distributor_action(
        services.distributor_unfreeze,
        _("Unfreeze selected distributors"),
        _("%(count)d unfrozen."),
    )


@admin.register(Binding, site=console_site)
class BindingAdmin(ReadOnlyMixin, TenantScopedModelAdmin):
    list_display = ["customer", "distributor", "source", "is_current", "locked_until", "created_at"]
    list_filter = ["is_current", "source"]


@admin.register(Commission, site=console_site)
class CommissionAdmin(ReadOnlyMixin, TenantScopedModelAdmin):
    list_display = [
        "id",
        "order",
        "beneficiary",
        "tier",
        "base_amount",
        "rate",
        "amount",
        "reversed_amount",
        "status",
        "created_at",
        "settled_at",
    ]
    list_filter = ["status", "tier"]
    search_fields = ["order__number", "beneficiary__share_code"]


@admin.register(LedgerEntry, site=console_site)
class LedgerEntryAdmin(ReadOnlyMixin, TenantScopedModelAdmin):
    list_display = ["distributor", "kind", "amount", "reference", "created_at"]
    list_filter = ["kind"]
    search_fields = ["distributor__share_code", "reference"]
    view_roles = ALL_ROLES


@admin.register(Withdrawal, site=console_site)
class WithdrawalAdmin(FinanceListMixin, TenantScopedModelAdmin):
    """Withdrawals, with the finance list tools: created/paid date ranges (tenant's days),
    totals of the filtered rows and "Export XLSX" (payments.console)."""

    list_display = [
        "id",
        "distributor",
        money_column("amount", _("amount")),
        money_column("fee", _("fee")),
        money_column("net_amount", _("net amount")),
        "status",
        "payout_reference",
        "created_at",
    ]
    list_filter = [
        date_range_filter("created_at", _("requested")),
        date_range_filter("paid_at", _("paid")),
        "status",
    ]
    list_select_related = ["distributor"]
    totals = (
        Total("amount", _("amount")),
        Total("fee", _("fee")),
        Total("net_amount", _("net amount")),
    )
    export_name = "withdrawals"
    export_columns = (
        Column("id", _("id")),
        Column("distributor.share_code", _("distributor")),
        Column("amount", _("amount"), "money"),
        Column("fee", _("fee"), "money"),
        Column("net_amount", _("net amount"), "money"),
        Column("status", _("status"), "choice"),
        Column("method", _("method"), "choice"),
        Column("payout_reference", _("payout reference")),
        Column("created_at", _("requested at"), "datetime"),
        Column("paid_at", _("paid at"), "datetime"),
    )
    fields = [
        "distributor",
        "amount",
        "fee",
        "net_amount",
        "status",
        "method",
        "payout_reference",
        "reason",
        "reviewed_by",
        "paid_at",
    ]
    readonly_fields = [
        "distributor",
        "amount",
        "fee",
        "net_amount",
        "status",
        "method",
        "reviewed_by",
        "paid_at",
    ]
    actions = ["approve", "reject"]
    edit_roles = FINANCE_ROLES
    add_roles: frozenset[str] = frozenset()
    delete_roles: frozenset[str] = frozenset()

    @admin.action(description=_("Approve selected withdrawals"))
    def approve(self, request: TenantHttpRequest, queryset: QuerySet) -> None:
        _each(
            request,
            queryset,
            lambda w: services.withdrawal_approve(
                tenant=request.tenant, withdrawal_id=w.pk, actor=_actor(request)
            ),
            _("%(count)d approved."),
        )

    @admin.action(description=_("Reject selected withdrawals (the amount returns)"))
    def reject(self, request: TenantHttpRequest, queryset: QuerySet) -> None:
        _each(
            request,
            queryset,
            lambda w: services.withdrawal_reject(
                tenant=request.tenant, withdrawal_id=w.pk, actor=_actor(request)
            ),
            _("%(count)d rejected."),
        )

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Entering a payout reference on an approved withdrawal records it as paid."""
        tenant = cast(TenantHttpRequest, request).tenant
        reference = (form.cleaned_data.get("payout_reference") or "").strip()
        current = Withdrawal.objects.for_tenant(tenant).get(pk=obj.pk)
        if reference and current.status == Withdrawal.Status.APPROVED:
            try:
                services.withdrawal_mark_paid(
                    tenant=tenant,
                    withdrawal_id=obj.pk,
                    actor=_actor(request),
                    payout_reference=reference,
                )
            except ApplicationError as exc:
                messages.error(request, str(exc.message))
            return
        if reference != current.payout_reference:
            messages.error(
                request, gettext("A payout reference can be recorded on approved ones only.")
            )


@admin.register(TeamReward, site=console_site)
class TeamRewardAdmin(ReadOnlyMixin, TenantScopedModelAdmin):
    list_display = ["distributor", "month", "team_sales", "rate", "amount", "created_at"]


dashboard_register()
