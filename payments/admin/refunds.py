"""Console: refunds (retry failed ones)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mall.console.admin import TenantScopedModelAdmin
from mall.console.site import console_site
from mall.errors import ApplicationError, render_message
from payments.admin.common import FINANCE_ROLES, ReadOnlyMixin
from payments.console import Column, FinanceListMixin, Total, date_range_filter, money_column
from payments.models import Refund


@admin.register(Refund, site=console_site)
class RefundConsoleAdmin(FinanceListMixin, ReadOnlyMixin, TenantScopedModelAdmin):
    view_roles = FINANCE_ROLES
    edit_roles = FINANCE_ROLES
    list_display = (
        "out_refund_no",
        "payment",
        money_column("amount", _("amount")),
        "status",
        "request_ref",
        "attempts",
        "last_error",
        "refunded_at",
        "created_at",
    )
    list_filter = (
        date_range_filter("created_at", _("created")),
        date_range_filter("refunded_at", _("refunded")),
        "status",
    )
    totals = (Total("amount", _("amount")),)
    export_name = "refunds"
    export_columns = (
        Column("out_refund_no", _("out refund no")),
        Column("payment.out_trade_no", _("payment")),
        Column("payment.reference", _("reference")),
        Column("amount", _("amount"), "money"),
        Column("status", _("status"), "choice"),
        Column("request_ref", _("request")),
        Column("reason", _("reason")),
        Column("last_error", _("last error")),
        Column("refunded_at", _("refunded at"), "datetime"),
        Column("created_at", _("created at"), "datetime"),
    )
    search_fields = ("out_refund_no", "request_ref", "payment__out_trade_no")
    list_select_related = ("payment",)
    exclude = ("raw_notification",)
    readonly_fields = (
        "payment",
        "amount",
        "out_refund_no",
        "request_ref",
        "reason",
        "status",
        "gateway_refund_id",
        "attempts",
        "last_error",
        "refunded_at",
        "created_at",
    )
    actions = ("retry_failed",)
    edit_actions = ("retry_failed",)

    @admin.action(description=_("Retry the selected failed refunds"))
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[Refund]) -> None:
        from payments.refunds.services import refund_retry

        done = 0
        for refund in queryset.filter(status=Refund.Status.FAILED):
            try:
                result = refund_retry(tenant=request.tenant, refund_id=refund.pk)  # type: ignore[attr-defined]
            except ApplicationError as exc:
                self.message_user(
                    request,
                    f"{refund.out_refund_no}: {render_message(exc.message)}",
                    messages.ERROR,
                )
                continue
            done += 1
            level = messages.ERROR if result.status == Refund.Status.FAILED else messages.INFO
            self.message_user(
                request, f"{result.out_refund_no}: {result.get_status_display()}", level
            )
        if not done:
            self.message_user(request, gettext("No failed refund was selected."), messages.WARNING)
