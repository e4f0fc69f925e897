"""Console registrations: payments (read-only, with their events), refunds (retry failed
ones), payouts, WeChat shipping uploads (pending / failed, retry), reconciliation runs with
their mismatches, gateway configurations (secrets masked; keys are set with
``configure_payments``)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mall.console.admin import TenantScopedModelAdmin, TenantScopedTabularInline
from mall.console.dashboard import register_dashboard_counter
from mall.console.site import console_site
from mall.errors import ApplicationError, render_message
from mall.tenancy.models import Staff, Tenant
from payments.console import Column, FinanceListMixin, Total, date_range_filter, money_column
from payments.dashboard import dashboard_register
from payments.models import (
    MAX_PROFIT_SHARING_RATE,
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
    "payments_paid_today", _("Paid today"), payments_paid_today, roles=FINANCE_ROLES, order=30
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

    @admin.display(description=_("private key"))
    def private_key_masked(self, obj: GatewayConfig) -> str:
        if obj.gateway == Gateway.ALIPAY:
            return str(_ON_THE_CHANNEL).format(app_id=obj.app_id)
        return gettext("set (hidden)") if obj.private_key else "-"

    @admin.display(description=_("public key"))
    def public_key_shown(self, obj: GatewayConfig) -> str:
        if obj.gateway == Gateway.ALIPAY:
            return str(_ON_THE_CHANNEL).format(app_id=obj.app_id)
        return obj.public_key or "-"

    @admin.display(description=_("APIv3 key"))
    def api_v3_key_masked(self, obj: GatewayConfig) -> str:
        return obj.masked("api_v3_key") or "-"


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

    @admin.action(description=_("Upload the selected pending or failed ones again now"))
    def retry_now(self, request: HttpRequest, queryset: QuerySet[ShippingUpload]) -> None:
        from payments.shipping.services import shipping_upload_retry

        done = 0
        for upload in queryset.exclude(status=ShippingUpload.Status.ACCEPTED):
            try:
                result = shipping_upload_retry(tenant=request.tenant, upload_id=upload.pk)  # type: ignore[attr-defined]
            except ApplicationError as exc:
                self.message_user(
                    request, f"{upload.reference}: {render_message(exc.message)}", messages.ERROR
                )
                continue
            done += 1
            ok = result.status == ShippingUpload.Status.ACCEPTED
            self.message_user(
                request,
                f"{result.reference}: {result.get_status_display()} {result.last_error}".strip(),
                messages.INFO if ok else messages.ERROR,
            )
        if not done:
            self.message_user(
                request, gettext("No pending or failed upload was selected."), messages.WARNING
            )


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


def _widgets() -> dict[str, Any]:
    """Unfold's widgets when the console runs on django-unfold, else Django's."""
    if apps.is_installed("unfold"):
        from unfold import widgets as unfold_widgets

        return {
            "text": unfold_widgets.UnfoldAdminTextInputWidget,
            "select": unfold_widgets.UnfoldAdminSelectWidget,
            "decimal": unfold_widgets.UnfoldAdminDecimalFieldWidget,
        }
    return {"text": forms.TextInput, "select": forms.Select, "decimal": forms.NumberInput}


class ReceiverAddForm(forms.Form):
    """A profit sharing receiver to register at WeChat Pay (``profit_sharing_receiver_add``)."""

    type = forms.ChoiceField(label=_("type"), choices=ProfitSharingReceiver.Type.choices)
    account = forms.CharField(
        label=_("account"),
        max_length=64,
        help_text=_("The merchant id (MERCHANT_ID) or the member's openid (PERSONAL_OPENID)."),
    )
    name = forms.CharField(
        label=_("name"),
        max_length=128,
        required=False,
        help_text=_("The merchant's full legal name, or the person's real name."),
    )
    relation_type = forms.ChoiceField(
        label=_("relation"),
        choices=ProfitSharingReceiver.Relation.choices,
        initial=ProfitSharingReceiver.Relation.SUPPLIER,
    )
    share_percent = forms.DecimalField(
        label=_("share (%)"),
        min_value=Decimal("0.01"),
        max_value=MAX_PROFIT_SHARING_RATE * 100,
        decimal_places=2,
        help_text=_(
            "Percent of each completed WeChat-paid order's net; all receivers: at most 30%."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        widgets = _widgets()
        for name, field in self.fields.items():
            if isinstance(field, forms.ChoiceField):
                field.widget = widgets["select"](choices=field.choices)
            elif name == "share_percent":
                field.widget = widgets["decimal"](attrs={"step": "0.01", "min": "0.01"})
            else:
                field.widget = widgets["text"](
                    attrs={"maxlength": getattr(field, "max_length", None)}
                )

    def clean_account(self) -> str:
        return self.cleaned_data["account"].strip()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # a Form's clean() returns cleaned_data
        if data.get("type") == ProfitSharingReceiver.Type.MERCHANT_ID and not data.get("name"):
            self.add_error("name", gettext("A merchant receiver needs its full legal name."))
        return data


@admin.register(ProfitSharingReceiver, site=console_site)
class ProfitSharingReceiverConsoleAdmin(TenantScopedModelAdmin):
    """Receivers are added here through ``profit_sharing_receiver_add`` (registered at WeChat
    Pay) and removed by the "Remove" action (``profit_sharing_receiver_remove``: deleted at
    WeChat Pay, kept inactive here). Gateway errors are shown as messages."""

    view_roles = SETTLEMENT_ROLES
    edit_roles = SETTLEMENT_ROLES
    add_roles = SETTLEMENT_ROLES
    delete_roles: frozenset[str] = frozenset()  # removal goes through WeChat Pay (the action)
    list_display = (
        "account",
        "type",
        "name",
        "relation_type",
        "share_rate_percent",
        "is_active",
        "registered_at",
    )
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
    actions = ("remove_receivers",)
    edit_actions = ("remove_receivers",)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # changed by adding again (same type and account) or removing

    @admin.display(description=_("share"), ordering="share_rate")
    def share_rate_percent(self, obj: ProfitSharingReceiver) -> str:
        return f"{obj.share_rate * 100:.2f}%"

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        from payments.profit_sharing.services import profit_sharing_receiver_add

        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ReceiverAddForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                receiver = profit_sharing_receiver_add(
                    tenant=request.tenant,  # type: ignore[attr-defined]
                    type=data["type"],
                    account=data["account"],
                    name=data["name"],
                    relation_type=data["relation_type"],
                    share_rate=(data["share_percent"] / 100).quantize(Decimal("0.0001")),
                )
            except ApplicationError as exc:
                message = _receiver_error(exc)
                form.add_error(None, message)
                self.message_user(request, message, messages.ERROR)
            else:
                self.log_addition(request, receiver, [{"added": {}}])
                self.message_user(
                    request,
                    gettext("%(receiver)s was registered at WeChat Pay.") % {"receiver": receiver},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse(f"{self.admin_site.name}:payments_profitsharingreceiver_changelist")
                )
        fieldsets = [(None, {"fields": list(form.fields)})]
        adminform = helpers.AdminForm(form, fieldsets, {}, model_admin=self)  # type: ignore[arg-type]  # any form
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Add a profit sharing receiver"),
            "subtitle": None,
            "adminform": adminform,
            "object_id": None,
            "original": None,
            "is_popup": False,
            "to_field": None,
            "media": self.media + adminform.media,
            "inline_admin_formsets": [],
            "errors": helpers.AdminErrorList(form, []),  # type: ignore[arg-type]  # any form
            "preserved_filters": self.get_preserved_filters(request),
            **(extra_context or {}),
        }
        return self.render_change_form(request, context, add=True, form_url=form_url)

    @admin.action(description=_("Remove the selected receivers (at WeChat Pay too)"))
    def remove_receivers(
        self, request: HttpRequest, queryset: QuerySet[ProfitSharingReceiver]
    ) -> None:
        from payments.profit_sharing.services import profit_sharing_receiver_remove

        for receiver in queryset.order_by("id"):
            try:
                profit_sharing_receiver_remove(
                    tenant=request.tenant,  # type: ignore[attr-defined]
                    receiver_id=receiver.pk,
                )
            except ApplicationError as exc:
                self.message_user(
                    request, f"{receiver.account}: {_receiver_error(exc)}", messages.ERROR
                )
                continue
            self.message_user(
                request,
                gettext("%(account)s was removed.") % {"account": receiver.account},
                messages.SUCCESS,
            )


def _receiver_error(exc: ApplicationError) -> str:
    """The service's message, with what WeChat Pay said when it refused."""
    details = exc.details or {}
    said = details.get("message") or ""
    code = details.get("gateway_code") or ""
    if said or code:
        return gettext("%(message)s WeChat Pay said: %(code)s %(said)s") % {
            "message": exc.message,
            "code": code,
            "said": said,
        }
    return str(exc.message)


@admin.register(ProfitSharingOrder, site=console_site)
class ProfitSharingOrderConsoleAdmin(FinanceListMixin, ReadOnlyMixin, TenantScopedModelAdmin):
    view_roles = SETTLEMENT_ROLES
    edit_roles = SETTLEMENT_ROLES
    list_display = (
        "out_order_no",
        "reference",
        money_column("base_amount", _("base amount")),
        money_column("amount", _("shared")),
        "status",
        "last_error",
        "created_at",
    )
    list_filter = (date_range_filter("created_at", _("created")), "status")
    totals = (Total("base_amount", _("base amount")), Total("amount", _("shared")))
    export_name = "profit-sharing"
    export_columns = (
        Column("out_order_no", _("out order no")),
        Column("reference", _("reference")),
        Column("transaction_id", _("gateway transaction id")),
        Column("base_amount", _("base amount"), "money"),
        Column("amount", _("shared"), "money"),
        Column("status", _("status"), "choice"),
        Column("last_error", _("last error")),
        Column("finished_at", _("finished at"), "datetime"),
        Column("created_at", _("created at"), "datetime"),
    )
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
