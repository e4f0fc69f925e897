"""Console registrations of orders: order list (filters, search, XLSX export), detail with
timeline, ship / partial ship, pickup verification, after-sale handling, stores."""

from __future__ import annotations

import io
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from mall.api.errors import ApplicationError
from mall.console.admin import (
    ALL_ROLES,
    TenantScopedModelAdmin,
    TenantScopedTabularInline,
)
from mall.console.dashboard import register_dashboard_counter
from mall.console.site import console_site
from mall.tenancy.models import Staff
from orders import selectors, services
from orders.dashboard import dashboard_register
from orders.models import AfterSale, AfterSaleLine, Order, OrderEvent, OrderLine, Shipment, Store
from orders.services.common import actor_staff

Role = Staff.Role
FULFILMENT_ROLES = frozenset({Role.OWNER, Role.ADMIN, Role.OPERATOR})
SERVICE_ROLES = frozenset({Role.OWNER, Role.ADMIN, Role.SERVICE})
NOBODY: frozenset[str] = frozenset()


class ReadOnlyInline(TenantScopedTabularInline):
    extra = 0
    can_delete = False
    edit_roles = NOBODY
    view_roles = ALL_ROLES

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return list(self.fields or [])


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
    verbose_name_plural = "timeline"
    fields = ("created_at", "kind", "from_status", "to_status", "actor", "note")


class ShipForm(forms.Form):
    carrier = forms.CharField(max_length=32, required=False, help_text="Express: e.g. shunfeng")
    tracking_no = forms.CharField(max_length=64, required=False)
    courier_name = forms.CharField(max_length=50, required=False, help_text="Same-city")
    courier_phone = forms.CharField(max_length=20, required=False)
    lines = forms.CharField(
        required=False,
        help_text="Partial shipment: 'line_id:quantity' pairs separated by commas; "
        "empty ships everything left.",
    )

    def clean_lines(self) -> list[services.ShipLine]:
        result = []
        for part in filter(None, (p.strip() for p in self.cleaned_data["lines"].split(","))):
            try:
                line_id, quantity = (int(x) for x in part.split(":"))
            except ValueError:
                raise forms.ValidationError(f"'{part}' is not line_id:quantity.") from None
            result.append(services.ShipLine(line_id, quantity))
        return result


class PickupForm(forms.Form):
    code = forms.CharField(max_length=12, label="Pickup code")


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
    list_filter = ("status", "fulfillment", "platform", "created_at", "paid_at")
    list_select_related = ("member",)
    date_hierarchy = "created_at"
    inlines = [OrderLineInline, ShipmentInline, OrderEventInline]
    actions = ["export_xlsx"]
    exclude = ("pickup_code",)

    def get_search_fields(self, request: HttpRequest) -> tuple[str, ...]:
        return ("number", "address__phone", "address__name", "member__nickname", "member__phone")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields if f.name not in ("tenant", "pickup_code")]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The detail page is read-only; state changes go through the action pages.
        return False

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path("export/", view(self.export_view), name="orders_order_export"),
            path("<int:order_id>/ship/", view(self.ship_view), name="orders_order_ship"),
            path("<int:order_id>/pickup/", view(self.pickup_view), name="orders_order_pickup"),
            *super().get_urls(),
        ]

    def _order(self, request: HttpRequest, order_id: int) -> Order:
        order = self.get_object(request, str(order_id))
        if not self._role_in(request, self.edit_roles):
            raise PermissionDenied
        return order

    def _form_page(
        self, request: HttpRequest, order: Order, form: forms.Form, title: str, label: str
    ) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "order": order,
            "lines": order.lines.all(),
            "form": form,
            "submit_label": label,
        }
        return TemplateResponse(request, "console/orders/action_form.html", context)

    def ship_view(self, request: HttpRequest, order_id: int) -> HttpResponse:
        order = self._order(request, order_id)
        form = ShipForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.order_ship(
                    tenant=request.tenant,  # type: ignore[attr-defined]
                    order=order,
                    actor=actor_staff(request.user),
                    **form.cleaned_data,
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(request, f"Order {order.number} shipped.")
                return redirect("console:orders_order_change", order.pk)
        return self._form_page(request, order, form, f"Ship order {order.number}", "Ship")

    def pickup_view(self, request: HttpRequest, order_id: int) -> HttpResponse:
        order = self._order(request, order_id)
        form = PickupForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.order_pickup_verify(
                    tenant=request.tenant,  # type: ignore[attr-defined]
                    order=order,
                    code=form.cleaned_data["code"],
                    actor=actor_staff(request.user),
                )
            except ApplicationError as exc:
                form.add_error("code", exc.message)
            else:
                self.message_user(request, f"Order {order.number} picked up.")
                return redirect("console:orders_order_change", order.pk)
        return self._form_page(request, order, form, f"Pickup of {order.number}", "Verify")

    def _xlsx(self, queryset: QuerySet[Order]) -> HttpResponse:
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("orders")
        for row in selectors.order_export_rows(queryset.order_by("-id")[:50_000]):
            sheet.append(row)
        buffer = io.BytesIO()
        workbook.save(buffer)
        stamp = timezone.now().strftime("%Y%m%d%H%M%S")
        response = HttpResponse(
            buffer.getvalue(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="orders-{stamp}.xlsx"'
        return response

    @admin.action(description="Export selected orders to XLSX")
    def export_xlsx(self, request: HttpRequest, queryset: QuerySet[Order]) -> HttpResponse:
        return self._xlsx(queryset)

    def export_view(self, request: HttpRequest) -> HttpResponse:
        """Every order matching the changelist's current filters and search."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        return self._xlsx(changelist.get_queryset(request))


class AfterSaleLineInline(ReadOnlyInline):
    model = AfterSaleLine
    fields = ("order_line", "quantity", "amount")


class AfterSaleActionForm(ActionForm):
    reason = forms.CharField(max_length=200, required=False, label="Reason (reject)")


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
    actions = ["approve", "approve_restock", "reject", "receive_return", "refund"]
    edit_actions = ("approve", "approve_restock", "reject", "receive_return", "refund")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields if f.name != "tenant"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def _each(
        self, request: HttpRequest, queryset: QuerySet[AfterSale], fn: Any, **kw: Any
    ) -> None:
        done, failed = 0, []
        for after_sale in queryset:
            try:
                fn(
                    tenant=request.tenant,
                    after_sale=after_sale,  # type: ignore[attr-defined]
                    actor=actor_staff(request.user),
                    **kw,
                )
                done += 1
            except ApplicationError as exc:
                failed.append(f"#{after_sale.pk}: {exc.message}")
        if done:
            self.message_user(request, f"{done} after-sale(s) updated.")
        if failed:
            self.message_user(request, " ".join(failed), messages.ERROR)

    @admin.action(description="Approve (no restock)")
    def approve(self, request: HttpRequest, queryset: QuerySet[AfterSale]) -> None:
        self._each(request, queryset, services.after_sale_approve, restock=False)

    @admin.action(description="Approve and restock the goods")
    def approve_restock(self, request: HttpRequest, queryset: QuerySet[AfterSale]) -> None:
        self._each(request, queryset, services.after_sale_approve, restock=True)

    @admin.action(description="Reject (give the reason above)")
    def reject(self, request: HttpRequest, queryset: QuerySet[AfterSale]) -> None:
        reason = request.POST.get("reason", "").strip()
        if not reason:
            self.message_user(request, "A rejection needs a reason.", messages.ERROR)
            return
        self._each(request, queryset, services.after_sale_reject, reason=reason)

    @admin.action(description="Returned goods received")
    def receive_return(self, request: HttpRequest, queryset: QuerySet[AfterSale]) -> None:
        self._each(request, queryset, services.after_sale_return_receive)

    @admin.action(description="Refund now")
    def refund(self, request: HttpRequest, queryset: QuerySet[AfterSale]) -> None:
        self._each(request, queryset, services.after_sale_refund)


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


register_dashboard_counter("orders_today", "Orders today", selectors.orders_counter, order=10)
dashboard_register()
