"""Console: reconciliation runs with their mismatches, and the per-order settlement ledger."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from mall.console.admin import TenantScopedModelAdmin, TenantScopedTabularInline
from mall.console.site import console_site
from payments.admin.common import FINANCE_ROLES, SETTLEMENT_ROLES, ReadOnlyMixin
from payments.console import Column, FinanceListMixin, Total, date_range_filter, money_column
from payments.models import OrderSettlement, ReconciliationMismatch, ReconciliationRun


class ReconciliationMismatchInline(ReadOnlyMixin, TenantScopedTabularInline):
    model = ReconciliationMismatch
    fields = ("kind", "entry", "out_trade_no", "out_refund_no", "gateway_no", "ours", "theirs")
    readonly_fields = fields
    extra = 0
    view_roles = FINANCE_ROLES
    edit_roles = FINANCE_ROLES


@admin.register(ReconciliationRun, site=console_site)
class ReconciliationRunConsoleAdmin(FinanceListMixin, ReadOnlyMixin, TenantScopedModelAdmin):
    view_roles = FINANCE_ROLES
    edit_roles = FINANCE_ROLES
    list_display = (
        "bill_date",
        "gateway",
        "status",
        "bill_rows",
        "our_rows",
        "mismatch_count",
        "error",
        "ran_at",
    )
    list_filter = (date_range_filter("bill_date", _("bill date")), "status", "gateway")
    totals = (
        Total("bill_rows", _("bill rows"), "count"),
        Total("our_rows", _("our rows"), "count"),
        Total("mismatch_count", _("mismatches"), "count"),
    )
    export_name = "reconciliation"
    export_columns = (
        Column("bill_date", _("bill date"), "date"),
        Column("gateway", _("gateway"), "choice"),
        Column("status", _("status"), "choice"),
        Column("bill_rows", _("bill rows")),
        Column("our_rows", _("our rows")),
        Column("mismatch_count", _("mismatches")),
        Column("error", _("error")),
        Column("ran_at", _("ran at"), "datetime"),
    )
    readonly_fields = (
        "gateway",
        "bill_date",
        "status",
        "bill_rows",
        "our_rows",
        "mismatch_count",
        "error",
        "ran_at",
    )
    inlines = (ReconciliationMismatchInline,)


@admin.register(OrderSettlement, site=console_site)
class OrderSettlementConsoleAdmin(FinanceListMixin, ReadOnlyMixin, TenantScopedModelAdmin):
    """The per-order settlement ledger, with the totals of what is listed (filters apply)."""

    view_roles = SETTLEMENT_ROLES
    edit_roles = SETTLEMENT_ROLES
    list_display = (
        "reference",
        "gateway",
        money_column("gross", _("gross")),
        money_column("refunds", _("refunds")),
        money_column("commissions", _("commissions")),
        money_column("supplier_shares", _("supplier shares")),
        money_column("fee", _("fee")),
        money_column("net", _("net")),
        "computed_at",
    )
    list_filter = (date_range_filter("computed_at", _("computed")), "gateway", "purpose")
    search_fields = ("reference",)
    readonly_fields = (
        "purpose",
        "reference",
        "gateway",
        "gross",
        "refunds",
        "commissions",
        "supplier_shares",
        "fee",
        "net",
        "computed_at",
    )
    totals = (
        Total("gross", _("gross")),
        Total("refunds", _("refunds")),
        Total("commissions", _("commissions")),
        Total("supplier_shares", _("supplier shares")),
        Total("fee", _("fee")),
        Total("net", _("net")),
    )
    export_name = "settlements"
    export_columns = (
        Column("purpose", _("purpose")),
        Column("reference", _("reference")),
        Column("gateway", _("gateway")),
        Column("gross", _("gross"), "money"),
        Column("refunds", _("refunds"), "money"),
        Column("commissions", _("commissions"), "money"),
        Column("supplier_shares", _("supplier shares"), "money"),
        Column("fee", _("fee"), "money"),
        Column("net", _("net"), "money"),
        Column("computed_at", _("computed at"), "datetime"),
    )
