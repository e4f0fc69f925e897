"""Forms and widgets of the console's product editor (catalog/admin.py).

- specs are edited as dimensions with values (``SpecsField``: rows of inputs, add/remove by a
  small inline script, no typed syntax); saving replaces the product's specs and generates
  the missing SKUs (catalog.services);
- the SKU table takes price, market price, code and stock; the stock carries the version the
  merchant saw, so a stock that moved meanwhile (an order) refuses the edit instead of
  overwriting it (catalog.inventory.stock_set with ``expected_version``);
- the description uses unfold's WYSIWYG editor and is sanitised (catalog.richtext);
- several images can be uploaded at once, previewed before sending.
"""

from __future__ import annotations

import re
from typing import Any, cast

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.contrib.forms.widgets import WysiwygWidget

from catalog import services
from catalog.images import _read_bounded, image_clean
from catalog.inventory import MAX_QUANTITY
from catalog.models import Product, Sku
from catalog.richtext import description_sanitize
from mall.errors import ApplicationError

MAX_UPLOAD_FILES = 10


class SpecEditorWidget(forms.Widget):
    """Rows of ``<name>-<i>-name`` and repeated ``<name>-<i>-values`` inputs."""

    template_name = "console/catalog/widgets/spec_editor.html"

    def format_value(self, value: Any) -> list[dict[str, Any]]:
        return list(value or [])

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        specs = context["widget"]["value"]
        context["widget"]["specs"] = specs
        context["widget"]["next_index"] = len(specs)
        return context

    def value_from_datadict(self, data: Any, files: Any, name: str) -> list[dict[str, Any]]:
        pattern = re.compile(rf"^{re.escape(name)}-(\d+)-name$")
        indexes = sorted({int(m.group(1)) for key in data if (m := pattern.match(key))})
        getlist = getattr(data, "getlist", None)
        rows = []
        for index in indexes[:20]:
            key = f"{name}-{index}-values"
            values = getlist(key) if getlist else data.get(key, [])
            if isinstance(values, str):
                values = [values]
            rows.append({"name": data.get(f"{name}-{index}-name", ""), "values": list(values)})
        return rows

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return False  # no rows posted means "no specs"


class SpecsField(forms.Field):
    widget = SpecEditorWidget

    def to_python(self, value: Any) -> list[dict[str, Any]]:
        try:
            return services.specs_normalise(value or [])
        except ApplicationError as exc:
            raise forms.ValidationError(str(exc.message)) from exc

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return self.to_python(data) != self.to_python(initial)
        except forms.ValidationError:
            return True


class ImagePreviewInput(forms.FileInput):
    """Several files at once, with thumbnails of the chosen files shown before upload."""

    allow_multiple_selected = True
    template_name = "console/catalog/widgets/image_upload.html"


class MultipleImageField(forms.FileField):
    widget = ImagePreviewInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        uploads = [u for u in (data if isinstance(data, list | tuple) else [data]) if u]
        if len(uploads) > MAX_UPLOAD_FILES:
            raise forms.ValidationError(
                gettext("At most %(count)d images at a time.") % {"count": MAX_UPLOAD_FILES}
            )
        cleaned = []
        for upload in uploads:
            upload = super().clean(upload, initial)
            try:  # the same checks as the open API: a bad file is a form error, not a 500
                image_clean(_read_bounded(upload))
            except ApplicationError as exc:
                raise forms.ValidationError(
                    gettext("%(file)s: %(error)s") % {"file": upload.name, "error": exc.message}
                ) from exc
            upload.seek(0)
            cleaned.append(upload)
        return cleaned


class ProductConsoleForm(forms.ModelForm):
    specs = SpecsField(
        label=_("Specs"),
        required=False,
        help_text=_(
            "Each spec is a dimension (e.g. Colour) with its values (Red, Blue). Saving creates "
            "a SKU for every combination that has none; a value or spec that SKUs use cannot "
            "be removed (deactivate those SKUs instead)."
        ),
    )
    new_sku_price = forms.DecimalField(
        label=_("Price of new SKUs"),
        required=False, min_value=0, max_digits=12, decimal_places=2,
        help_text=_("Price given to the SKUs that saving creates; change each in the SKU table."),
    )  # fmt: skip
    new_images = MultipleImageField(
        label=_("Add images"),
        required=False,
        help_text=_(
            "JPEG, PNG, WebP or GIF; checked, stripped of EXIF and thumbnailed. Order the "
            "images by their position below: the first one is the cover."
        ),
    )

    class Meta:
        model = Product
        fields = (
            "ref", "title", "subtitle", "description", "category", "status", "freight_template",
            "sort_weight", "supplier_ref", "on_wechat", "on_alipay", "on_h5",
        )  # fmt: skip
        widgets = {"description": WysiwygWidget}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.new_sku_count = 0
        if self.instance.pk:
            self.fields["specs"].initial = [
                {"name": n.name, "values": [v.value for v in n.values.all()]}
                for n in self.instance.spec_names.prefetch_related("values")
            ]

    def clean_description(self) -> str:
        return description_sanitize(self.cleaned_data.get("description") or "")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # a ModelForm's clean() returns cleaned_data
        specs = data.get("specs")
        tenant = getattr(self, "console_tenant", None)
        if specs is None or tenant is None:
            return data
        try:
            self.new_sku_count = services.product_specs_check(
                tenant=tenant, product=self.instance if self.instance.pk else None, specs=specs
            )
        except ApplicationError as exc:
            self.add_error("specs", str(exc.message))
            return data
        if self.new_sku_count and data.get("new_sku_price") is None and not specs:
            self.new_sku_count = 0  # no specs: its single SKU is made once a price is given
        if self.new_sku_count and data.get("new_sku_price") is None:
            self.add_error(
                "new_sku_price",
                gettext("Give the price of the %(count)d new SKU(s) this save creates.")
                % {"count": self.new_sku_count},
            )
        return data


class SkuConsoleForm(forms.ModelForm):
    """A row of the SKU table. ``stock`` is not saved by the form: the admin applies a change
    through catalog.inventory (ledger reason "console edit") if the version still matches."""

    new_stock = forms.IntegerField(label=_("stock"), min_value=0, max_value=MAX_QUANTITY)
    seen_stock = forms.IntegerField(widget=forms.HiddenInput, required=False)
    seen_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Sku
        fields = ("code", "price", "market_price", "low_stock_threshold", "is_active")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["new_stock"].initial = self.instance.stock
            self.fields["seen_stock"].initial = self.instance.stock
            self.fields["seen_version"].initial = self.instance.version

    @property
    def stock_change(self) -> int | None:
        """The stock the merchant typed, when it differs from the one shown; else None."""
        if not self.instance.pk or not hasattr(self, "cleaned_data"):
            return None
        new, seen = self.cleaned_data.get("new_stock"), self.cleaned_data.get("seen_stock")
        if new is None or seen is None or new == seen:
            return None
        return new

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # a ModelForm's clean() returns cleaned_data
        new = data.get("new_stock")
        if not self.instance.pk or new is None or new == data.get("seen_stock"):
            return data
        current = (
            Sku.objects.for_tenant(self.instance.tenant_id)
            .filter(pk=self.instance.pk)
            .values("stock", "version")
            .first()
        )
        if current is not None and current["version"] != data.get("seen_version"):
            self.add_error("new_stock", stale_stock_message(self.instance.code, current["stock"]))
            # Shown again with the current stock as "seen": saving again is then a
            # deliberate choice made knowing the new value.
            shown = cast(QueryDict, self.data).copy()
            shown[self.add_prefix("seen_stock")] = str(current["stock"])
            shown[self.add_prefix("seen_version")] = str(current["version"])
            self.data = shown
        return data


def stale_stock_message(code: str, stock: int) -> str:
    return gettext(
        "SKU %(code)s: the stock changed to %(stock)d while you were editing (an order or "
        "another change). Your stock was not saved; check it and save again."
    ) % {"code": code, "stock": stock}
