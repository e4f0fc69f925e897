"""Console registrations of orders (see docs/console.md "Orders"): order list with status tabs
(counts in one query), filters, search and XLSX export; detail with readable address,
discounts and commission chain and the timeline; ship / partial ship (courier from the list,
a quantity per line), batch shipping from an XLSX (all rows or none), pickup verification;
after-sales handled by buttons with a confirmation step that shows the money; stores."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, re_path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from mall.console.admin import (
    ALL_ROLES,
    TenantScopedModelAdmin,
    TenantScopedTabularInline,
)
from mall.console.dashboard import register_dashboard_counter
from mall.console.menu import MenuEntry, add_menu_entry
from mall.console.site import console_site
from mall.errors import ApplicationError
from mall.tenancy.models import Staff
from orders import selectors, services
from orders.console_display import (
    address_text,
    promotions_text,
    store_text,
    yuan,
)
from orders.console_forms import (
    AfterSaleDecisionForm,
    BatchShipForm,
    PickupForm,
    PickupLookupForm,
    ShipForm,
)
from orders.couriers import COURIERS
from orders.dashboard import dashboard_register
from orders.hooks import distribution_lines
from orders.models import (
    AfterSale,
    AfterSaleLine,
    Fulfillment,
    Order,
    OrderEvent,
    OrderLine,
    Shipment,
    Store,
)
from orders.services.common import actor_staff
from orders.services.fulfillment import SHIPPABLE

Role = Staff.Role
FULFILMENT_ROLES = frozenset({Role.OWNER, Role.ADMIN, Role.OPERATOR})
SERVICE_ROLES = frozenset({Role.OWNER, Role.ADMIN, Role.SERVICE})
NOBODY: frozenset[str] = frozenset()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ReadOnlyInline(TenantScopedTabularInline):
    extra = 0
    can_delete = False
    edit_roles = NOBODY
    view_roles = ALL_ROLES

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return list(self.fields or [])  # type: ignore[arg-type]  # flat field names here


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = (
        "title",
        "spec_label",
        "sku_code",
        "unit_price",
        "quantity",
        "discount",
        "points_deduction",
        "shipping_fee",
        "payable",
        "shipped_quantity",
        "refunded_quantity",
        "refunded_amount",
        "is_gift",
    )


class ShipmentInline(ReadOnlyInline):
    model = Shipment
    fields = (
        "kind",
        "carrier",
        "tracking_no",
        "courier_name",
        "courier_phone",
        "tracking_state",
        "created_at",
    )


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    verbose_name_plural = _("timeline")
    fields = ("created_at", "kind", "from_status", "to_status", "actor", "note")


class OrderTabFilter(admin.SimpleListFilter):
    """The status tabs above the list (待付款 / 待发货 / 已发货 / 已完成 / 已取消 / 售后中)."""

    title = _("status tab")
    parameter_name = "tab"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [(tab.key, tab.label) for tab in selectors.ORDER_TABS]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Order]) -> QuerySet[Order]:
        value = self.value()
        if value in {tab.key for tab in selectors.ORDER_TABS}:
            return selectors.order_tab_filter(queryset, value)
        return queryset


READABLE_FIELDSETS: tuple[tuple[Any, dict[str, Any]], ...] = (
    (
        None,
        {
            "fields": (
                "number",
                "status",
                "fulfillment",
                "platform",
                "channel",
                "member",
                "remark",
            )
        },
    ),
    (
        _("Amounts"),
        {
            "fields": (
                "subtotal",
                "discount_total",
                "promotions_display",
                "shipping_fee",
                "points_used",
                "points_deduction",
                "payable",
                "paid_amount",
                "refunded_amount",
                "payment_reference",
            )
        },
    ),
    (
        _("Delivery"),
        {"fields": ("address_display", "store_display", "distance_km", "pickup_attempts")},
    ),
    (_("Distribution"), {"fields": ("distribution_display",)}),
    (
        _("Dates"),
        {
            "fields": (
                "created_at",
                "expires_at",
                "paid_at",
                "shipped_at",
                "received_at",
                "completed_at",
                "cancelled_at",
                "cancel_reason",
            )
        },
    ),
)


def _lines_html(lines: list[str]) -> str:
    return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in lines)) or "-"


@admin.register(Order, site=console_site)
class OrderConsoleAdmin(TenantScopedModelAdmin):
    view_roles = ALL_ROLES
    edit_roles = FULFILMENT_ROLES
    add_roles = NOBODY
    delete_roles = NOBODY
    list_display = (
        "number",
        "status",
        "fulfillment",
        "platform",
        "member",
        "payable",
        "paid_amount",
        "refunded_amount",
        "created_at",
    )
    list_filter = (OrderTabFilter, "status", "fulfillment", "platform", "created_at", "paid_at")
    list_select_related = ("member",)
    date_hierarchy = "created_at"
    inlines = [OrderLineInline, ShipmentInline, OrderEventInline]
    actions = ["export_xlsx"]
    fieldsets = READABLE_FIELDSETS
    change_list_template = "console/orders/order_change_list.html"
    change_form_template = "console/orders/order_change_form.html"

    def get_search_fields(self, request: HttpRequest) -> tuple[str, ...]:
        return ("number", "address__phone", "address__name", "member__nickname", "member__phone")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [name for _title, options in READABLE_FIELDSETS for name in options["fields"]]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The detail page is read-only; state changes go through the action pages.
        return False

    def can_fulfil(self, request: HttpRequest) -> bool:
        return self._role_in(request, self.edit_roles)

    def get_list_display(self, request: HttpRequest) -> Sequence[str]:
        columns = list(super().get_list_display(request))
        if self.can_fulfil(request):
            columns.append("row_actions")
        return columns

    # --- readable snapshots -------------------------------------------------------------

    @admin.display(description=_("Shipping address"))
    def address_display(self, obj: Order) -> str:
        return address_text(obj.address) or "-"

    @admin.display(description=_("Pickup store"))
    def store_display(self, obj: Order) -> str:
        return store_text(obj.store_snapshot) or "-"

    @admin.display(description=_("Discounts applied"))
    def promotions_display(self, obj: Order) -> str:
        return _lines_html(promotions_text(obj))

    @admin.display(description=_("Commission chain"))
    def distribution_display(self, obj: Order) -> str:
        return _lines_html(distribution_lines(obj))

    # --- list: tabs and row actions -----------------------------------------------------

    @admin.display(description=_("Actions"))
    def row_actions(self, obj: Order) -> str:
        if is_shippable(obj):
            url = reverse("console:orders_order_ship", args=[obj.pk])
            return format_html('<a class="button" href="{}">{}</a>', url, gettext("Ship"))
        if is_pickup_waiting(obj):
            url = reverse("console:orders_order_pickup", args=[obj.pk])
            return format_html('<a class="button" href="{}">{}</a>', url, gettext("Verify pickup"))
        return ""

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None):
        counts = selectors.order_tab_counts(tenant=request.tenant)  # type: ignore[attr-defined]
        active = request.GET.get("tab", "")
        base = reverse("console:orders_order_changelist")
        tabs = [{"key": "", "label": _("All"), "count": counts["all"], "url": base}]
        tabs += [
            {
                "key": tab.key,
                "label": tab.label,
                "count": counts[tab.key],
                "url": f"{base}?{urlencode({'tab': tab.key})}",
            }
            for tab in selectors.ORDER_TABS
        ]
        for tab in tabs:
            tab["active"] = tab["key"] == active
        context = {
            "order_tabs": tabs,
            "can_fulfil": self.can_fulfil(request),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context=context)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ):
        order = self.get_object(request, object_id)
        can = self.can_fulfil(request)
        context = {
            "can_ship": can and is_shippable(order),
            "can_verify_pickup": can and is_pickup_waiting(order),
            "order_after_sales": list(
                AfterSale.objects.filter(tenant_id=order.tenant_id, order=order).order_by("id")
            ),
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra_context=context)

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path("export/", view(self.export_view), name="orders_order_export"),
            path("ship-batch/", view(self.ship_batch_view), name="orders_order_ship_batch"),
            path(
                "ship-batch/template/",
                view(self.ship_batch_template_view),
                name="orders_order_ship_batch_template",
            ),
            path("pickup/", view(self.pickup_lookup_view), name="orders_order_pickup_verify"),
            path("<int:order_id>/ship/", view(self.ship_view), name="orders_order_ship"),
            path("<int:order_id>/pickup/", view(self.pickup_view), name="orders_order_pickup"),
            *super().get_urls(),
        ]

    # --- action pages -------------------------------------------------------------------

    def _require_fulfil(self, request: HttpRequest) -> None:
        if not self.can_fulfil(request):
            raise PermissionDenied

    def _order(self, request: HttpRequest, order_id: int) -> Order:
        order = self.get_object(request, str(order_id))
        self._require_fulfil(request)
        return order

    def _page(self, request: HttpRequest, template: str, title: Any, **extra: Any):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            **extra,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, template, context)

    def ship_view(self, request: HttpRequest, order_id: int) -> HttpResponse:
        order = self._order(request, order_id)
        lines = list(OrderLine.objects.filter(tenant_id=order.tenant_id, order=order))
        form = ShipForm(request.POST or None, order=order, lines=lines)
        if request.method == "POST" and form.is_valid():
            try:
                services.order_ship(
                    tenant=request.tenant,  # type: ignore[attr-defined]
                    order=order,
                    actor=actor_staff(request.user),
                    **form.service_kwargs(),
                )
            except ApplicationError as exc:
                line_id = (exc.details or {}).get("line_id")
                field = f"qty_{line_id}" if f"qty_{line_id}" in form.fields else None
                form.add_error(field, str(exc.message))
            else:
                self.message_user(
                    request, gettext("Order %(number)s shipped.") % {"number": order.number}
                )
                return redirect("console:orders_order_change", order.pk)
        return self._page(
            request,
            "console/orders/ship_form.html",
            gettext("Ship order %(number)s") % {"number": order.number},
            order=order,
            form=form,
            address=address_text(order.address),
            can_ship=is_shippable(order),
        )

    def ship_batch_view(self, request: HttpRequest) -> HttpResponse:
        """Upload an XLSX of order number, courier, tracking number: all rows ship or none."""
        self._require_fulfil(request)
        form = BatchShipForm(request.POST or None, request.FILES or None)
        problems: list[dict[str, Any]] = []
        if request.method == "POST" and form.is_valid():
            try:
                shipments = services.orders_ship_batch(
                    tenant=request.tenant,  # type: ignore[attr-defined]
                    rows=form.cleaned_data["file"],
                    actor=actor_staff(request.user),
                )
            except ApplicationError as exc:
                problems = list((exc.details or {}).get("rows") or [])
                form.add_error(None, str(exc.message))
            else:
                self.message_user(
                    request,
                    ngettext(
                        "%(count)d order shipped.", "%(count)d orders shipped.", len(shipments)
                    )
                    % {"count": len(shipments)},
                )
                return redirect("console:orders_order_changelist")
        return self._page(
            request,
            "console/orders/ship_batch.html",
            gettext("Batch shipping"),
            form=form,
            problems=problems,
            couriers=COURIERS,
        )

    def ship_batch_template_view(self, request: HttpRequest) -> HttpResponse:
        """An empty batch-shipping file with the header row and one example row."""
        self._require_fulfil(request)
        from openpyxl import Workbook

        workbook = Workbook()
        sheet = workbook.active
        sheet.title = "shipping"
        sheet.append([gettext("Order number"), gettext("Courier"), gettext("Tracking number")])
        buffer = io.BytesIO()
        workbook.save(buffer)
        response = HttpResponse(buffer.getvalue(), content_type=XLSX)
        response["Content-Disposition"] = 'attachment; filename="batch-shipping.xlsx"'
        return response

    def _verify(self, request: HttpRequest, order: Order, form: forms.Form) -> bool:
        try:
            services.order_pickup_verify(
                tenant=request.tenant,  # type: ignore[attr-defined]
                order=order,
                code=form.cleaned_data["code"],
                actor=actor_staff(request.user),
            )
        except ApplicationError as exc:
            left = (exc.details or {}).get("attempts_left")
            message = exc.message
            if left is not None:
                message = f"{message} " + gettext("%(left)s attempts left.") % {"left": left}
            form.add_error("code", str(message))
            return False
        self.message_user(
            request, gettext("Order %(number)s picked up.") % {"number": order.number}
        )
        return True

    def pickup_view(self, request: HttpRequest, order_id: int) -> HttpResponse:
        order = self._order(request, order_id)
        form = PickupForm(request.POST or None)
        if request.method == "POST" and form.is_valid() and self._verify(request, order, form):
            return redirect("console:orders_order_change", order.pk)
        return self._page(
            request,
            "console/orders/action_form.html",
            gettext("Pickup of %(number)s") % {"number": order.number},
            order=order,
            lines=order.lines.all(),
            form=form,
            submit_label=gettext("Verify"),
        )

    def pickup_lookup_view(self, request: HttpRequest) -> HttpResponse:
        """The counter's page: order number and pickup code, whatever the order."""
        self._require_fulfil(request)
        form = PickupLookupForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            order = (
                Order.objects.for_tenant(request.tenant)  # type: ignore[attr-defined]
                .filter(number=form.cleaned_data["number"].strip())
                .first()
            )
            if order is None:
                form.add_error("number", gettext("No order with this number in this shop."))
            elif order.fulfillment != Fulfillment.PICKUP:
                form.add_error("number", gettext("This order is not a store pickup order."))
            elif self._verify(request, order, form):
                return redirect("console:orders_order_change", order.pk)
        return self._page(
            request,
            "console/orders/pickup_verify.html",
            gettext("Verify a pickup code"),
            form=form,
        )

    # --- export -------------------------------------------------------------------------

    def _xlsx(self, queryset: QuerySet[Order]) -> HttpResponse:
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("orders")
        for row in selectors.order_export_rows(queryset.order_by("-id")[:50_000]):
            sheet.append(row)
        buffer = io.BytesIO()
        workbook.save(buffer)
        stamp = timezone.now().strftime("%Y%m%d%H%M%S")
        response = HttpResponse(buffer.getvalue(), content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="orders-{stamp}.xlsx"'
        return response

    @admin.action(description=_("Export selected orders to XLSX"))
    def export_xlsx(self, request: HttpRequest, queryset: QuerySet[Order]) -> HttpResponse:
        return self._xlsx(queryset)

    def export_view(self, request: HttpRequest) -> HttpResponse:
        """Every order matching the changelist's current filters and search."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        return self._xlsx(changelist.get_queryset(request))


def is_shippable(order: Order) -> bool:
    return (
        order.fulfillment != Fulfillment.PICKUP
        and order.status in SHIPPABLE
        and order.shipped_at is None
    )


def is_pickup_waiting(order: Order) -> bool:
    return (
        order.fulfillment == Fulfillment.PICKUP
        and order.received_at is None
        and order.status in (Order.Status.PAID, Order.Status.PARTIALLY_REFUNDED)
    )


class AfterSaleLineInline(ReadOnlyInline):
    model = AfterSaleLine
    fields = ("order_line", "quantity", "amount")


class AfterSaleActionForm(ActionForm):
    reason = forms.CharField(max_length=200, required=False, label=_("Reason (refuse)"))


A = AfterSale.Status
# Button -> (label, statuses it is offered in, service).
AFTER_SALE_BUTTONS: dict[str, tuple[Any, frozenset[str]]] = {
    "approve": (_("Approve"), frozenset({A.REQUESTED})),
    "refuse": (_("Refuse"), frozenset({A.REQUESTED})),
    "receive": (_("Confirm the return received"), frozenset({A.RETURN_SHIPPED})),
    "refund": (_("Refund"), frozenset({A.RETURN_RECEIVED, A.REFUNDING})),
}


def after_sale_buttons(after_sale: AfterSale) -> list[str]:
    return [
        name for name, (_l, states) in AFTER_SALE_BUTTONS.items() if after_sale.status in states
    ]


def after_sale_refunds_now(after_sale: AfterSale, action: str) -> bool:
    """True when confirming ``action`` asks payments for the refund right away."""
    if action == "refund":
        return True
    return action == "approve" and after_sale.type == AfterSale.Type.REFUND


@admin.register(AfterSale, site=console_site)
class AfterSaleConsoleAdmin(TenantScopedModelAdmin):
    view_roles = ALL_ROLES
    edit_roles = SERVICE_ROLES
    add_roles = NOBODY
    delete_roles = NOBODY
    list_display = ("id", "order", "type", "status", "amount", "restock", "created_at")
    list_filter = ("status", "type", "created_at")
    search_fields = ("order__number", "return_tracking_no")
    list_select_related = ("order",)
    inlines = [AfterSaleLineInline]
    action_form = AfterSaleActionForm
    # Money moves only through the detail page's buttons and their confirmation step; the
    # stuck-refund exits move none.
    actions = ["reject", "receive_return", "abort_refund_reopen", "abort_refund_close"]
    edit_actions = ("reject", "receive_return", "abort_refund_reopen", "abort_refund_close")
    change_form_template = "console/orders/aftersale_change_form.html"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields if f.name != "tenant"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            re_path(
                rf"^(?P<after_sale_id>\d+)/(?P<action>{'|'.join(AFTER_SALE_BUTTONS)})/$",
                view(self.decision_view),
                name="orders_aftersale_decide",
            ),
            *super().get_urls(),
        ]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ):
        after_sale = self.get_object(request, object_id)
        buttons = (
            [
                {
                    "name": name,
                    "label": AFTER_SALE_BUTTONS[name][0],
                    "url": reverse("console:orders_aftersale_decide", args=[after_sale.pk, name]),
                }
                for name in after_sale_buttons(after_sale)
            ]
            if self._role_in(request, self.edit_roles)
            else []
        )
        context = {"after_sale_buttons": buttons, **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context=context)

    def decision_view(self, request: HttpRequest, after_sale_id: int, action: str) -> HttpResponse:
        """GET: the confirmation page (the money to refund, the lines); POST: do it."""
        if action not in AFTER_SALE_BUTTONS:
            raise Http404("No such action.")
        after_sale = self.get_object(request, str(after_sale_id))
        if not self._role_in(request, self.edit_roles):
            raise PermissionDenied
        detail = redirect("console:orders_aftersale_change", after_sale.pk)
        if after_sale.status not in AFTER_SALE_BUTTONS[action][1]:
            messages.error(
                request,
                gettext("This after-sale is %(status)s: it cannot be done now.")
                % {"status": after_sale.get_status_display()},
            )
            return detail
        posted = request.method == "POST"
        form = AfterSaleDecisionForm(request.POST if posted else None, action=action)
        if posted and form.is_valid():
            try:
                self._decide(request, after_sale, action, form.cleaned_data)
            except ApplicationError as exc:
                messages.error(request, str(exc.message))
            return detail
        lines = list(
            AfterSaleLine.objects.filter(tenant_id=after_sale.tenant_id, after_sale=after_sale)
            .select_related("order_line")
            .order_by("id")
        )
        return TemplateResponse(
            request,
            "console/orders/aftersale_confirm.html",
            {
                **self.admin_site.each_context(request),
                "title": AFTER_SALE_BUTTONS[action][0],
                "opts": self.model._meta,
                "after_sale": after_sale,
                "order": after_sale.order,
                "action": action,
                "lines": lines,
                "amount": yuan(after_sale.amount),
                "refunds_now": after_sale_refunds_now(after_sale, action),
                "form": form,
            },
        )

    def _decide(
        self, request: HttpRequest, after_sale: AfterSale, action: str, data: dict[str, Any]
    ) -> None:
        common = {
            "tenant": request.tenant,  # type: ignore[attr-defined]
            "after_sale": after_sale,
            "actor": actor_staff(request.user),
        }
        if action == "approve":
            services.after_sale_approve(**common, restock=data.get("restock", False))
        elif action == "refuse":
            services.after_sale_reject(**common, reason=data["reason"])
        elif action == "receive":
            services.after_sale_return_receive(**common, restock=data.get("restock", False))
        else:
            services.after_sale_refund(**common)
        done = {
            "approve": gettext("After-sale #%(id)s approved."),
            "refuse": gettext("After-sale #%(id)s refused."),
            "receive": gettext("Return of after-sale #%(id)s received."),
            "refund": gettext("Refund of after-sale #%(id)s requested."),
        }[action]
        message = done % {"id": after_sale.pk}
        if after_sale_refunds_now(after_sale, action):
            message += " " + gettext("%(amount)s goes back to the buyer.") % {
                "amount": yuan(after_sale.amount)
            }
        self.message_user(request, message)

    def _each(
        self, request: HttpRequest, queryset: QuerySet[AfterSale], fn: Any, **kw: Any
    ) -> None:
        done, failed = 0, []
        for after_sale in queryset:
            try:
                fn(
                    tenant=request.tenant,  # type: ignore[attr-defined]
                    after_sale=after_sale,
                    actor=actor_staff(request.user),
                    **kw,
                )
                done += 1
            except ApplicationError as exc:
                failed.append(f"#{after_sale.pk}: {exc.message}")
        if done:
            self.message_user(
                request,
                ngettext("%(count)d after-sale updated.", "%(count)d after-sales updated.", done)
                % {"count": done},
            )
        if failed:
            self.message_user(request, " ".join(failed), messages.ERROR)

    @admin.action(description=_("Refuse (give the reason above)"))
    def reject(self, request: HttpRequest, queryset: QuerySet[AfterSale]) -> None:
        reason = request.POST.get("reason", "").strip()
        if not reason:
            self.message_user(request, gettext("A refusal needs a reason."), messages.ERROR)
            return
        self._each(request, queryset, services.after_sale_reject, reason=reason)

    @admin.action(description=_("Returned goods received"))
    def receive_return(self, request: HttpRequest, queryset: QuerySet[AfterSale]) -> None:
        self._each(request, queryset, services.after_sale_return_receive)

    @admin.action(description=_("Stuck refund (never created): back to approved / goods received"))
    def abort_refund_reopen(self, request: HttpRequest, queryset: QuerySet[AfterSale]) -> None:
        self._each(request, queryset, services.after_sale_refund_abort, close=False)

    @admin.action(description=_("Stuck refund (never created): close the after-sale"))
    def abort_refund_close(self, request: HttpRequest, queryset: QuerySet[AfterSale]) -> None:
        self._each(request, queryset, services.after_sale_refund_abort, close=True)


@admin.register(Store, site=console_site)
class StoreConsoleAdmin(TenantScopedModelAdmin):
    view_roles = ALL_ROLES
    edit_roles = frozenset({Role.OWNER, Role.ADMIN})
    list_display = (
        "name",
        "city",
        "address",
        "hours",
        "pickup_enabled",
        "same_city_enabled",
        "is_active",
    )
    list_filter = ("pickup_enabled", "same_city_enabled", "is_active")
    search_fields = ("name", "address")


register_dashboard_counter("orders_today", _("Orders today"), selectors.orders_counter, order=10)
dashboard_register()


def _can_fulfil(request: HttpRequest) -> bool:
    return console_site._registry[Order].can_fulfil(request)


add_menu_entry(
    "orders",
    MenuEntry(
        _("Pickup verification"),
        "qr_code_scanner",
        url_name="orders_order_pickup_verify",
        permission=_can_fulfil,
        edit_permission=_can_fulfil,
    ),
    position=1,
)
add_menu_entry(
    "orders",
    MenuEntry(
        _("Batch shipping"),
        "upload_file",
        url_name="orders_order_ship_batch",
        permission=_can_fulfil,
        edit_permission=_can_fulfil,
    ),
    position=2,
)
