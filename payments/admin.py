"""Console registrations: payments (read-only, with their events), refunds (retry failed
ones), payouts, WeChat shipping uploads (pending / failed, retry), reconciliation runs with
their mismatches, gateway configurations (secrets masked; keys are set with
``configure_payments``)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from mall.api.errors import ApplicationError
from mall.console.admin import TenantScopedModelAdmin, TenantScopedTabularInline
from mall.console.dashboard import register_dashboard_counter
from mall.console.site import console_site
from mall.tenancy.models import Staff, Tenant
from payments.dashboard import dashboard_register
from payments.models import (
    Gateway,
    GatewayConfig,
    OrderSettlement,
    Payment,
    PaymentEvent,
    Payout,
    ProfitSharingOrder,
    ProfitSharingReceiver,
    ReconciliationMismatch,
    ReconciliationRun,
    Refund,
    ShippingUpload,
)

Role = Staff.Role
FINANCE_ROLES = frozenset({Role.OWNER, Role.ADMIN, Role.FINANCE})
SETTLEMENT_ROLES = frozenset({Role.OWNER, Role.FINANCE})


def payments_paid_today(tenant: Tenant, day_start: datetime, day_end: datetime) -> int:
    return (
        Payment.objects.for_tenant(tenant)
        .filter(
            status=Payment.Status.SUCCEEDED,
            purpose_accepted=True,
            paid_at__gte=day_start,
            paid_at__lt=day_end,
        )
        .count()
    )


register_dashboard_counter(
    "payments_paid_today", "Paid today", payments_paid_today, roles=FINANCE_ROLES, order=30
)


class ReadOnlyMixin:
    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


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
class PaymentConsoleAdmin(ReadOnlyMixin, TenantScopedModelAdmin):
    view_roles = FINANCE_ROLES
    edit_roles = FINANCE_ROLES
    list_display = (
        "out_trade_no",
        "purpose",
        "reference",
        "gateway",
        "amount",
        "refunded_amount",
        "status",
        "purpose_accepted",
        "paid_at",
        "created_at",
    )
    list_filter = ("status", "gateway", "purpose")
    search_fields = ("out_trade_no", "reference", "transaction_id")
    date_hierarchy = "created_at"
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


@admin.register(Refund, site=console_site)
class RefundConsoleAdmin(ReadOnlyMixin, TenantScopedModelAdmin):
    view_roles = FINANCE_ROLES
    edit_roles = FINANCE_ROLES
    list_display = (
        "out_refund_no",
        "payment",
        "amount",
        "status",
        "request_ref",
        "attempts",
        "last_error",
        "refunded_at",
        "created_at",
    )
    list_filter = ("status",)
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

    @admin.action(description="Retry the selected failed refunds")
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[Refund]) -> None:
        from payments.services.refunds import refund_retry

        done = 0
        for refund in queryset.filter(status=Refund.Status.FAILED):
            try:
                result = refund_retry(tenant=request.tenant, refund_id=refund.pk)  # type: ignore[attr-defined]
            except ApplicationError as exc:
                self.message_user(request, f"{refund.out_refund_no}: {exc.message}", messages.ERROR)
                continue
            done += 1
            level = messages.ERROR if result.status == Refund.Status.FAILED else messages.INFO
            self.message_user(request, f"{result.out_refund_no}: {result.status}", level)
        if not done:
            self.message_user(request, "No failed refund was selected.", messages.WARNING)


# One Alipay app, one key pair: edited on its channel (Channels), used by login and payments.
_ON_THE_CHANNEL = _("on the Alipay channel {app_id} (edit it under Channels)")


@admin.register(GatewayConfig, site=console_site)
class GatewayConfigConsoleAdmin(ReadOnlyMixin, TenantScopedModelAdmin):
    view_roles = frozenset({Role.OWNER, Role.FINANCE})
    edit_roles = frozenset({Role.OWNER, Role.FINANCE})
    list_display = ("gateway", "is_active", "is_sandbox", "app_id", "mch_id", "updated_at")
    fields = (
        "gateway",
        "is_active",
        "is_sandbox",
        "app_id",
        "mch_id",
        "serial_no",
        "private_key_masked",
        "api_v3_key_masked",
        "public_key_id",
        "public_key_shown",
        "fee_rate",
        "updated_at",
    )
    readonly_fields = fields

    @admin.display(description="private key")
    def private_key_masked(self, obj: GatewayConfig) -> str:
        if obj.gateway == Gateway.ALIPAY:
            return str(_ON_THE_CHANNEL).format(app_id=obj.app_id)
        return "set (hidden)" if obj.private_key else "-"

    @admin.display(description="public key")
    def public_key_shown(self, obj: GatewayConfig) -> str:
        if obj.gateway == Gateway.ALIPAY:
            return str(_ON_THE_CHANNEL).format(app_id=obj.app_id)
        return obj.public_key or "-"

    @admin.display(description="APIv3 key")
    def api_v3_key_masked(self, obj: GatewayConfig) -> str:
        return obj.masked("api_v3_key") or "-"


@admin.register(Payout, site=console_site)
class PayoutConsoleAdmin(ReadOnlyMixin, TenantScopedModelAdmin):
    view_roles = FINANCE_ROLES
    edit_roles = FINANCE_ROLES
    list_display = (
        "out_bill_no",
        "reference",
        "member",
        "gateway",
        "amount",
        "status",
        "fail_reason",
        "last_error",
        "finished_at",
        "created_at",
    )
    list_filter = ("status", "gateway", "purpose")
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


@admin.register(ShippingUpload, site=console_site)
class ShippingUploadConsoleAdmin(ReadOnlyMixin, TenantScopedModelAdmin):
    """WeChat shipping information: what is still pending (retried by beat) or failed."""

    # Operators ship the orders: they see what WeChat has not accepted yet and can retry.
    view_roles = FINANCE_ROLES | {Role.OPERATOR}
    edit_roles = FINANCE_ROLES | {Role.OPERATOR}
    list_display = (
        "reference",
        "purpose",
        "logistics_type",
        "status",
        "attempts",
        "last_error",
        "next_attempt_at",
        "accepted_at",
        "updated_at",
    )
    list_filter = ("status", "logistics_type")
    search_fields = ("reference",)
    readonly_fields = (
        "purpose",
        "reference",
        "payment",
        "logistics_type",
        "packages",
        "is_all_delivered",
        "status",
        "version",
        "accepted_version",
        "attempts",
        "last_error",
        "next_attempt_at",
        "accepted_at",
        "created_at",
    )
    actions = ("retry_now",)
    edit_actions = ("retry_now",)

    @admin.action(description="Upload the selected pending or failed ones again now")
    def retry_now(self, request: HttpRequest, queryset: QuerySet[ShippingUpload]) -> None:
        from payments.services.shipping import shipping_upload_retry

        done = 0
        for upload in queryset.exclude(status=ShippingUpload.Status.ACCEPTED):
            try:
                result = shipping_upload_retry(tenant=request.tenant, upload_id=upload.pk)  # type: ignore[attr-defined]
            except ApplicationError as exc:
                self.message_user(request, f"{upload.reference}: {exc.message}", messages.ERROR)
                continue
            done += 1
            ok = result.status == ShippingUpload.Status.ACCEPTED
            self.message_user(
                request,
                f"{result.reference}: {result.status} {result.last_error}".strip(),
                messages.INFO if ok else messages.ERROR,
            )
        if not done:
            self.message_user(
                request, "No pending or failed upload was selected.", messages.WARNING
            )


class ReconciliationMismatchInline(ReadOnlyMixin, TenantScopedTabularInline):
    model = ReconciliationMismatch
    fields = ("kind", "entry", "out_trade_no", "out_refund_no", "gateway_no", "ours", "theirs")
    readonly_fields = fields
    extra = 0
    view_roles = FINANCE_ROLES
    edit_roles = FINANCE_ROLES


@admin.register(ReconciliationRun, site=console_site)
class ReconciliationRunConsoleAdmin(ReadOnlyMixin, TenantScopedModelAdmin):
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
    list_filter = ("status", "gateway")
    date_hierarchy = "bill_date"
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
class OrderSettlementConsoleAdmin(ReadOnlyMixin, TenantScopedModelAdmin):
    """The per-order settlement ledger, with the totals of what is listed (filters apply)."""

    view_roles = SETTLEMENT_ROLES
    edit_roles = SETTLEMENT_ROLES
    change_list_template = "console/payments/ordersettlement_change_list.html"
    list_display = (
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
    list_filter = ("gateway", "purpose")
    search_fields = ("reference",)
    date_hierarchy = "computed_at"
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

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().changelist_view(request, extra_context=extra_context)
        context = getattr(response, "context_data", None)
        if context and "cl" in context:
            names = ("gross", "refunds", "commissions", "supplier_shares", "fee", "net")
            queryset = context["cl"].queryset
            totals = queryset.aggregate(**{name: Sum(name) for name in names})
            totals = {name: totals[name] or Decimal("0.00") for name in names}
            totals["count"] = queryset.count()
            context["settlement_totals"] = totals
        return response


@admin.register(ProfitSharingReceiver, site=console_site)
class ProfitSharingReceiverConsoleAdmin(ReadOnlyMixin, TenantScopedModelAdmin):
    """Receivers are added with ``profit_sharing_receiver_add`` (registered at WeChat Pay)."""

    view_roles = SETTLEMENT_ROLES
    edit_roles = SETTLEMENT_ROLES
    list_display = ("account", "type", "name", "relation_type", "share_rate", "is_active")
    list_filter = ("type", "is_active")
    readonly_fields = (
        "type",
        "account",
        "name",
        "relation_type",
        "share_rate",
        "is_active",
        "registered_at",
    )


@admin.register(ProfitSharingOrder, site=console_site)
class ProfitSharingOrderConsoleAdmin(ReadOnlyMixin, TenantScopedModelAdmin):
    view_roles = SETTLEMENT_ROLES
    edit_roles = SETTLEMENT_ROLES
    list_display = (
        "out_order_no",
        "reference",
        "base_amount",
        "amount",
        "status",
        "last_error",
        "created_at",
    )
    list_filter = ("status",)
    search_fields = ("out_order_no", "reference", "transaction_id")
    exclude = ("payment", "raw")
    readonly_fields = (
        "purpose",
        "reference",
        "out_order_no",
        "transaction_id",
        "base_amount",
        "amount",
        "receivers",
        "status",
        "order_id",
        "attempts",
        "last_error",
        "finished_at",
    )


dashboard_register()
