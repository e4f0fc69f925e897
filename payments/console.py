"""Building blocks of the console's finance pages (payments, refunds, payouts, settlement
ledger, reconciliation; see docs/console.md "Finance"):

- ``date_range_filter(field, title)``: a list filter "from / to" on a date or datetime
  column; the days are the tenant's days (``Tenant.timezone``), both ends included.
- ``FinanceListMixin``: totals of the filtered rows (one aggregate query over the
  changelist's queryset, after filters and search) shown above the list, and an
  "Export XLSX" button that exports the current filtered list (every row, not only a page
  or a selection) with amounts as numbers and times in the tenant's time zone.

Plain Django admin code (a ``ListFilter``, a ``change_list.html`` extending
``admin/change_list.html``, ``get_urls``): works on the stock admin and on django-unfold.
"""

from __future__ import annotations

import io
import zoneinfo
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import get_fields_from_path
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Count, QuerySet, Sum
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from mall.money import quantize

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONEY_FORMAT = "#,##0.00"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
DATE_FORMAT = "yyyy-mm-dd"


def format_yuan(amount: Decimal | int | str | None, *, empty: str = "-") -> str:
    """``Decimal("1234.5") -> "¥1,234.50"``; negative ``"-¥3.00"``; None -> ``empty``."""
    if amount is None or amount == "":
        return empty
    try:
        value = quantize(Decimal(str(amount)))
    except (InvalidOperation, ValueError, TypeError):
        return str(amount)
    sign = "-" if value < 0 else ""
    return f"{sign}¥{abs(value):,.2f}"


def tenant_zone(request: HttpRequest) -> zoneinfo.ZoneInfo:
    tenant = getattr(request, "tenant", None)
    if tenant is not None:
        return tenant.tz
    return zoneinfo.ZoneInfo(str(timezone.get_default_timezone()))


def money_column(field: str, label: Any) -> Callable[[Any], str]:
    """A ``list_display`` column showing ``field`` as ``¥1,234.50`` (sortable by it)."""

    def column(obj: Any) -> str:
        return format_yuan(getattr(obj, field))

    column.__name__ = f"{field}_yuan"
    column.short_description = label  # type: ignore[attr-defined]
    column.admin_order_field = field  # type: ignore[attr-defined]
    return column


# --- Date range filter ----------------------------------------------------------------------


class DateRangeFilter(admin.ListFilter):
    """``?<field>_from=YYYY-MM-DD&<field>_to=YYYY-MM-DD``: rows of those tenant days.

    A datetime column is compared with the start of ``from`` and the start of the day after
    ``to`` in the tenant's time zone; a date column with the dates. A value that is not a
    date is not applied and is shown as an error in the filter.
    """

    field_name: str = ""
    template = "console/payments/date_range_filter.html"

    def __init__(
        self, request: HttpRequest, params: dict[str, Any], model: Any, model_admin: Any
    ) -> None:
        super().__init__(request, params, model, model_admin)
        self.param_from = f"{self.field_name}_from"
        self.param_to = f"{self.field_name}_to"
        self.field = get_fields_from_path(model, self.field_name)[-1]
        self.zone = tenant_zone(request)
        self.errors: list[str] = []
        self.value_from = self._take(params, self.param_from)
        self.value_to = self._take(params, self.param_to)
        self.date_from = self._parse(self.value_from)
        self.date_to = self._parse(self.value_to)

    def _take(self, params: dict[str, Any], name: str) -> str:
        if name not in params:
            return ""
        value = params.pop(name)
        if isinstance(value, list):
            value = value[-1] if value else ""
        value = str(value).strip()
        self.used_parameters[name] = value
        return value

    def _parse(self, value: str) -> date | None:
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            message = gettext("“%(value)s” is not a date (YYYY-MM-DD).") % {"value": value}
            self.errors.append(message)
            return None

    def has_output(self) -> bool:
        return True

    def expected_parameters(self) -> list[str | None]:
        return [self.param_from, self.param_to]

    def _start_of(self, day: date) -> datetime:
        return datetime.combine(day, time.min, tzinfo=self.zone)

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        is_datetime = isinstance(self.field, models.DateTimeField)
        if self.date_from is not None:
            start = self._start_of(self.date_from) if is_datetime else self.date_from
            queryset = queryset.filter(**{f"{self.field_name}__gte": start})
        if self.date_to is not None:
            if is_datetime:
                end = self._start_of(self.date_to + timedelta(days=1))
                queryset = queryset.filter(**{f"{self.field_name}__lt": end})
            else:
                queryset = queryset.filter(**{f"{self.field_name}__lte": self.date_to})
        return queryset

    def choices(self, changelist: Any) -> Iterator[dict[str, Any]]:
        mine = {self.param_from, self.param_to}
        yield {
            "param_from": self.param_from,
            "param_to": self.param_to,
            "value_from": self.value_from,
            "value_to": self.value_to,
            "errors": self.errors,
            "hidden": [(k, v) for k, v in changelist.params.items() if k not in mine],
            "clear_url": changelist.get_query_string(remove=list(mine)),
            "active": bool(self.value_from or self.value_to),
        }


def date_range_filter(field_name: str, title: Any) -> type[DateRangeFilter]:
    """A ``list_filter`` entry: a from/to date range on ``field_name`` titled ``title``."""
    return type(
        f"{field_name.title().replace('_', '')}RangeFilter",  # e.g. CreatedAtRangeFilter
        (DateRangeFilter,),
        {"field_name": field_name, "title": title},
    )


# --- Totals and XLSX export -----------------------------------------------------------------


@dataclass(frozen=True)
class Total:
    """A column summed over the filtered rows: an amount (``¥1,234.50``) or a count."""

    field: str
    label: Any
    kind: str = "money"  # money | count


@dataclass(frozen=True)
class Column:
    """One exported column: ``accessor`` is an attribute path (``payment.out_trade_no``)."""

    accessor: str
    label: Any
    kind: str = "text"  # text | money | datetime | date | choice | bool


def _resolve(obj: Any, accessor: str, kind: str) -> Any:
    *parents, name = accessor.split(".")
    for part in parents:
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    if kind == "choice":
        return getattr(obj, f"get_{name}_display")()
    return getattr(obj, name)


class FinanceListMixin:
    """Totals of the filtered rows and "Export XLSX" for a console changelist.

    ``totals``: ``(field, label)`` of the amounts summed (with the row count) in one
    aggregate query; ``export_columns``: the sheet's columns.
    """

    change_list_template = "console/payments/finance_change_list.html"
    totals: tuple[Total, ...] = ()
    export_columns: tuple[Column, ...] = ()
    export_name: str = ""

    model: type[models.Model]
    admin_site: Any

    # -- totals --

    def totals_for(self, queryset: QuerySet) -> dict[str, Any]:
        """``count`` and the sums of ``totals`` over ``queryset``: one aggregate query."""
        sums = {f"sum_{total.field}": Sum(total.field) for total in self.totals}
        row = queryset.order_by().aggregate(rows=Count("pk"), **sums)
        values: dict[str, Any] = {}
        amounts = []
        for total in self.totals:
            value = row[f"sum_{total.field}"]
            if total.kind == "money":
                value = quantize(value or 0)
                display = format_yuan(value)
            else:
                value = value or 0
                display = f"{value:,}"
            values[total.field] = value
            amounts.append(
                {"field": total.field, "label": total.label, "value": value, "display": display}
            )
        return {"count": row["rows"], "sums": values, "amounts": amounts}

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().changelist_view(request, extra_context=extra_context)  # type: ignore[misc]
        context = getattr(response, "context_data", None)
        if context and "cl" in context:
            opts = self.model._meta
            context["finance_totals"] = self.totals_for(context["cl"].queryset)
            context["export_xlsx_url"] = (
                reverse(f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_export_xlsx")
                + context["cl"].get_query_string()
            )
        return response

    # -- export --

    def get_urls(self) -> list[Any]:
        opts = self.model._meta
        export = path(
            "export-xlsx/",
            self.admin_site.admin_view(self.export_xlsx_view),
            name=f"{opts.app_label}_{opts.model_name}_export_xlsx",
        )
        return [export, *super().get_urls()]  # type: ignore[misc]

    def export_xlsx_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_or_change_permission(request):  # type: ignore[attr-defined]
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)  # type: ignore[attr-defined]
        except IncorrectLookupParameters:
            opts = self.model._meta
            return HttpResponseRedirect(
                reverse(f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_changelist")
                + "?e=1"
            )
        content = self.export_xlsx(request, changelist.queryset)
        tenant = getattr(request, "tenant", None)
        today = timezone.now().astimezone(tenant_zone(request)).date().isoformat()
        name = f"{self.export_name or self.model._meta.model_name}-{today}.xlsx"
        if tenant is not None:
            name = f"{tenant.slug}-{name}"
        response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    def export_xlsx(self, request: HttpRequest, queryset: QuerySet) -> bytes:
        """The rows of ``queryset`` as an XLSX workbook (write-only, built in memory)."""
        zone = tenant_zone(request)
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(title=str(self.model._meta.verbose_name_plural)[:31])
        bold = Font(bold=True)
        header = []
        for column in self.export_columns:
            cell = WriteOnlyCell(sheet, value=str(column.label))
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        for obj in queryset.iterator(chunk_size=2000):
            sheet.append([self._cell(sheet, obj, column, zone) for column in self.export_columns])
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()

    @staticmethod
    def _cell(sheet: Any, obj: Any, column: Column, zone: zoneinfo.ZoneInfo) -> Any:
        value = _resolve(obj, column.accessor, column.kind)
        if value is None or value == "":
            return None
        if column.kind == "money":
            cell = WriteOnlyCell(sheet, value=quantize(value))
            cell.number_format = MONEY_FORMAT
            return cell
        if column.kind == "datetime" and isinstance(value, datetime):
            cell = WriteOnlyCell(sheet, value=value.astimezone(zone).replace(tzinfo=None))
            cell.number_format = DATETIME_FORMAT
            return cell
        if column.kind == "date" and isinstance(value, date):
            cell = WriteOnlyCell(sheet, value=value)
            cell.number_format = DATE_FORMAT
            return cell
        if column.kind == "bool":
            return gettext("yes") if value else gettext("no")
        return str(value)
