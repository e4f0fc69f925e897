"""Console: payouts."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from mall.console.admin import TenantScopedModelAdmin
from mall.console.site import console_site
from payments.admin.common import FINANCE_ROLES, ReadOnlyMixin
from payments.console import Column, FinanceListMixin, Total, date_range_filter, money_column
from payments.models import Payout


@admin.register(Payout, site=console_site)
class PayoutConsoleAdmin(FinanceListMixin, ReadOnlyMixin, TenantScopedModelAdmin):
    view_roles = FINANCE_ROLES
    edit_roles = FINANCE_ROLES
    list_display = (
        "out_bill_no",
        "reference",
        "member",
        "gateway",
        money_column("amount", _("amount")),
        "status",
        "fail_reason",
        "last_error",
        "finished_at",
        "created_at",
    )
    list_filter = (
        date_range_filter("created_at", _("created")),
        date_range_filter("finished_at", _("finished")),
        "status",
        "gateway",
        "purpose",
    )
    totals = (Total("amount", _("amount")),)
    export_name = "payouts"
    export_columns = (
        Column("out_bill_no", _("out bill no")),
        Column("reference", _("reference")),
        Column("member", _("member")),
        Column("gateway", _("gateway"), "choice"),
        Column("amount", _("amount"), "money"),
        Column("status", _("status"), "choice"),
        Column("fail_reason", _("fail reason")),
        Column("transfer_bill_no", _("gateway bill no")),
        Column("finished_at", _("finished at"), "datetime"),
        Column("created_at", _("created at"), "datetime"),
    )
    search_fields = ("out_bill_no", "reference", "transfer_bill_no")
    list_select_related = ("member",)
    exclude = ("raw",)
    readonly_fields = (
        "purpose",
        "reference",
        "member",
        "gateway",
        "amount",
        "reason",
        "out_bill_no",
        "status",
        "app_id",
        "mch_id",
        "payee_openid",
        "transfer_bill_no",
        "fail_reason",
        "attempts",
        "last_error",
        "finished_at",
        "created_at",
    )
