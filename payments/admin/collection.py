"""Console: payments (read-only, with their events and refunds)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from mall.console.admin import TenantScopedModelAdmin, TenantScopedTabularInline
from mall.console.site import console_site
from payments.admin.common import FINANCE_ROLES, ReadOnlyMixin
from payments.console import Column, FinanceListMixin, Total, date_range_filter, money_column
from payments.models import Payment, PaymentEvent, Refund


class PaymentEventInline(ReadOnlyMixin, TenantScopedTabularInline):
    model = PaymentEvent
    fk_name = "payment"
    fields = ("created_at", "kind", "from_status", "to_status", "source", "refund", "data")
    readonly_fields = fields
    extra = 0
    view_roles = FINANCE_ROLES
    edit_roles = FINANCE_ROLES


class RefundInline(ReadOnlyMixin, TenantScopedTabularInline):
    model = Refund
    fields = ("out_refund_no", "amount", "status", "request_ref", "attempts", "last_error")
    readonly_fields = fields
    extra = 0
    view_roles = FINANCE_ROLES
    edit_roles = FINANCE_ROLES


@admin.register(Payment, site=console_site)
class PaymentConsoleAdmin(FinanceListMixin, ReadOnlyMixin, TenantScopedModelAdmin):
    view_roles = FINANCE_ROLES
    edit_roles = FINANCE_ROLES
    list_display = (
        "out_trade_no",
        "purpose",
        "reference",
        "gateway",
        money_column("amount", _("amount")),
        money_column("refunded_amount", _("refunded")),
        "status",
        "purpose_accepted",
        "paid_at",
        "created_at",
    )
    list_filter = (
        date_range_filter("created_at", _("created")),
        date_range_filter("paid_at", _("paid")),
        "status",
        "gateway",
        "purpose",
    )
    search_fields = ("out_trade_no", "reference", "transaction_id")
    totals = (Total("amount", _("amount")), Total("refunded_amount", _("refunded")))
    export_name = "payments"
    export_columns = (
        Column("out_trade_no", _("out trade no")),
        Column("purpose", _("purpose")),
        Column("reference", _("reference")),
        Column("gateway", _("gateway"), "choice"),
        Column("amount", _("amount"), "money"),
        Column("refunded_amount", _("refunded"), "money"),
        Column("status", _("status"), "choice"),
        Column("transaction_id", _("gateway transaction id")),
        Column("paid_at", _("paid at"), "datetime"),
        Column("created_at", _("created at"), "datetime"),
    )
    exclude = ("raw_notification", "member")
    readonly_fields = (
        "purpose",
        "reference",
        "gateway",
        "out_trade_no",
        "amount",
        "refunded_amount",
        "status",
        "subject",
        "app_id",
        "mch_id",
        "prepay_id",
        "transaction_id",
        "payer_id",
        "purpose_accepted",
        "paid_at",
        "closed_at",
        "last_queried_at",
        "created_at",
    )
    inlines = (RefundInline, PaymentEventInline)
