"""Forms of the console's order pages: ship (courier from the list, a quantity per line),
batch shipping upload (XLSX), pickup verification, after-sale decisions.

They only parse and validate input; the services in ``orders.services`` decide."""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from orders.couriers import courier_choices
from orders.models import Fulfillment, Order, OrderLine
from orders.services import BatchShipRow, ShipLine

MAX_BATCH_ROWS = 2000
MAX_BATCH_BYTES = 5 * 1024 * 1024
# A first row whose first cell is one of these is the header row.
HEADER_WORDS = frozenset({"order", "order number", "order no", "number", "订单号", "订单编号"})


def line_left(line: OrderLine) -> int:
    """Units of the line still to ship."""
    return max(line.quantity - line.shipped_quantity - line.refunded_quantity, 0)


class ShipForm(forms.Form):
    """Express: courier company (from the list) and tracking number; same-city: the courier's
    name and phone. Then one quantity box per line with something left to ship (default: all
    of it); zero leaves the line for a later shipment."""

    carrier = forms.ChoiceField(label=_("Courier company"), choices=())
    tracking_no = forms.CharField(label=_("Tracking number"), max_length=64)
    courier_name = forms.CharField(label=_("Courier's name"), max_length=50)
    courier_phone = forms.CharField(label=_("Courier's phone"), max_length=20)

    def __init__(self, *args: Any, order: Order, lines: Sequence[OrderLine], **kwargs: Any):
        super().__init__(*args, **kwargs)
        if order.fulfillment == Fulfillment.EXPRESS:
            del self.fields["courier_name"], self.fields["courier_phone"]
            self.fields["carrier"].choices = [("", _("Choose a courier")), *courier_choices()]  # type: ignore[attr-defined]  # a ChoiceField
        else:
            del self.fields["carrier"], self.fields["tracking_no"]
        self.line_rows: list[dict[str, Any]] = []
        for line in lines:
            left = line_left(line)
            if left <= 0:
                continue
            name = f"qty_{line.pk}"
            self.fields[name] = forms.IntegerField(
                label=f"{line.title} {line.spec_label}".strip(),
                min_value=0,
                max_value=left,
                initial=left,
                widget=forms.NumberInput(attrs={"min": 0, "max": left, "style": "width:6em"}),
            )
            self.line_rows.append({"line": line, "left": left, "name": name})

    def bound_rows(self) -> list[dict[str, Any]]:
        return [{**row, "field": self[row["name"]]} for row in self.line_rows]

    def head_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if not name.startswith("qty_")]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # a Form's clean() returns cleaned_data
        lines = [
            ShipLine(row["line"].pk, data[row["name"]])
            for row in self.line_rows
            if data.get(row["name"])
        ]
        if not self.line_rows:
            raise forms.ValidationError(gettext("Nothing is left to ship in this order."))
        if not lines and not any(row["name"] in self.errors for row in self.line_rows):
            raise forms.ValidationError(gettext("Enter a quantity for at least one item."))
        data["lines"] = lines
        return data

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "carrier": data.get("carrier", ""),
            "tracking_no": data.get("tracking_no", ""),
            "courier_name": data.get("courier_name", ""),
            "courier_phone": data.get("courier_phone", ""),
            "lines": data["lines"],
        }


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a number typed in a spreadsheet cell comes back as a float
    return str(value).strip()


class BatchShipForm(forms.Form):
    """An XLSX file: order number, courier (name or Kuaidi100 code), tracking number per row,
    on the first sheet; an optional header row."""

    file = forms.FileField(label=_("XLSX file"))

    def clean_file(self) -> list[BatchShipRow]:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BATCH_BYTES:
            raise forms.ValidationError(gettext("The file is larger than 5 MB."))
        from openpyxl import load_workbook
        from openpyxl.utils.exceptions import InvalidFileException

        try:
            workbook = load_workbook(upload, read_only=True, data_only=True)
        except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError):
            raise forms.ValidationError(
                gettext("This is not an XLSX file (save it from Excel or WPS as .xlsx).")
            ) from None
        try:
            sheet = workbook.worksheets[0]
            rows: list[BatchShipRow] = []
            for index, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                cells = [_cell(v) for v in (*values, None, None, None)[:3]]
                if not any(cells):
                    continue
                if index == 1 and cells[0].lower() in HEADER_WORDS:
                    continue
                rows.append(BatchShipRow(index, *cells))
                if len(rows) > MAX_BATCH_ROWS:
                    raise forms.ValidationError(
                        gettext("At most %(max)d orders per file.") % {"max": MAX_BATCH_ROWS}
                    )
        finally:
            workbook.close()
        if not rows:
            raise forms.ValidationError(gettext("The file has no rows to ship."))
        return rows


class PickupForm(forms.Form):
    code = forms.CharField(max_length=12, label=_("Pickup code"))


class PickupLookupForm(forms.Form):
    """The counter's verification page: the order number (from the buyer's screen) and the
    pickup code."""

    number = forms.CharField(max_length=32, label=_("Order number"))
    code = forms.CharField(max_length=12, label=_("Pickup code"))


class AfterSaleDecisionForm(forms.Form):
    """The confirmation step of an after-sale button; which fields depend on the action."""

    reason = forms.CharField(label=_("Reason for refusing"), max_length=200)
    restock = forms.BooleanField(
        label=_("Put the goods back in stock"),
        required=False,
        help_text=_("The stock comes back when the refund is finished."),
    )

    def __init__(self, *args: Any, action: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if action != "refuse":
            del self.fields["reason"]
        if action not in ("approve", "receive"):
            del self.fields["restock"]
