"""Console: profit-sharing receivers (added and removed at the gateway) and orders."""

from __future__ import annotations

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

from mall.console.admin import TenantScopedModelAdmin
from mall.console.site import console_site
from mall.errors import ApplicationError
from payments.admin.common import SETTLEMENT_ROLES, ReadOnlyMixin
from payments.console import Column, FinanceListMixin, Total, date_range_filter, money_column
from payments.models import MAX_PROFIT_SHARING_RATE, ProfitSharingOrder, ProfitSharingReceiver


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
