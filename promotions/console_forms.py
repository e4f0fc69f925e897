"""Typed console forms of campaigns: every kind's rules as fields and rows, never JSON.

``CampaignConsoleForm`` builds ``Campaign.rules`` from the typed fields and validates it with
``promotions.rules.validate_rules`` (the one validator of rules; its ``RulesError`` names the
entry, e.g. "Tier 2: threshold must be greater than tier 1's", and is shown on the field the
entry came from). Rows (tiers, gifts, add-on offers, member prices) are ``RowsField``s: a table
of small forms posted as ``<field>-<n>-<column>`` with an "add a row" button; SKUs are picked
with the admin's autocomplete (tenant-scoped by the SKU console page's queryset and search).
Plain Django forms and widgets, so they work with the stock admin and with unfold.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError
from django.forms.utils import ErrorList
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from catalog.models import Sku
from mall.console.site import console_site
from promotions.models import Campaign, FlashSaleSku
from promotions.pricing.types import (
    DEFAULT_STACKS_WITH,
    ITEM_CARD,
    ITEM_FLASH,
    ITEM_MEMBER,
    ITEM_TIER,
    CampaignKind,
)
from promotions.rules import RulesError, validate_rules

MAX_ROWS = 50
AMOUNT: dict[str, Any] = {"max_digits": 12, "decimal_places": 2, "min_value": Decimal("0")}


# --- Rows: a list of small forms in one field -------------------------------------------------


class RawRows(list):
    """Rows as posted (strings by column), so a refused form shows what was typed."""


class RowsWidget(forms.Widget):
    template_name = "promotions/console/rows_widget.html"

    def __init__(self, field: RowsField, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.rows_field = field

    def __deepcopy__(self, memo: dict[int, Any]) -> RowsWidget:
        copy = super().__deepcopy__(memo)
        copy.rows_field = self.rows_field  # re-pointed by RowsField.__deepcopy__
        return copy

    @property
    def media(self) -> forms.Media:
        return self.rows_field.make_row(prefix="media").media + forms.Media(
            js=["promotions/console/rows.js"], css={"all": ["promotions/console/rows.css"]}
        )

    def value_from_datadict(self, data: Any, files: Any, name: str) -> RawRows:
        try:
            total = min(int(data.get(f"{name}-TOTAL_FORMS", 0)), MAX_ROWS + 10)
        except (TypeError, ValueError):
            total = 0
        rows = RawRows()
        columns = list(self.rows_field.row_form.base_fields)
        for index in range(max(total, 0)):
            prefix = f"{name}-{index}"
            row = {key: data.get(f"{prefix}-{key}", "") for key in columns}
            row["DELETE"] = data.get(f"{prefix}-DELETE", "")
            rows.append(row)
        return rows

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return f"{name}-TOTAL_FORMS" not in data

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        field = self.rows_field
        rows: list[forms.Form] = []
        for index, row in enumerate(value or []):
            prefix = f"{name}-{index}"
            if isinstance(value, RawRows):
                data = {f"{prefix}-{k}": v for k, v in row.items() if k != "DELETE"}
                form = field.make_row(prefix=prefix, data=data)
                form.deleted = bool(row.get("DELETE"))  # type: ignore[attr-defined]
            else:
                form = field.make_row(prefix=prefix, initial=row)
            rows.append(form)
        for _extra in range(field.extra if len(rows) < MAX_ROWS else 0):
            rows.append(field.make_row(prefix=f"{name}-{len(rows)}"))
        template = field.make_row(prefix=f"{name}-__prefix__")
        context["widget"].update(
            {
                "rows": rows,
                "template_row": template,
                "headers": [(f.label, f.help_text) for f in template.fields.values()],
                "total_name": f"{name}-TOTAL_FORMS",
                "total": len(rows),
                "row_noun": field.row_noun,
                "max_rows": MAX_ROWS,
            }
        )
        return context


class RowsField(forms.Field):
    """A list of dicts, one per non-empty, non-deleted row, each cleaned by ``row_form``.

    Errors name the row and the column: "Tier 2, threshold: Enter a number." Rows are
    numbered among the rows kept, like the entries of the rules list they become."""

    def __init__(
        self,
        *,
        row_form: type[forms.Form],
        row_noun: Any,
        extra: int = 1,
        **kwargs: Any,
    ) -> None:
        self.row_form = row_form
        self.row_noun = row_noun
        self.extra = extra
        self.row_kwargs: dict[str, Any] = {}
        kwargs.setdefault("required", False)
        super().__init__(widget=RowsWidget(self), **kwargs)

    def __deepcopy__(self, memo: dict[int, Any]) -> RowsField:
        copy = super().__deepcopy__(memo)
        copy.row_kwargs = dict(self.row_kwargs)
        copy.widget.rows_field = copy
        return copy

    def make_row(self, **kwargs: Any) -> forms.Form:
        return self.row_form(**kwargs, **self.row_kwargs)

    def prepare_value(self, value: Any) -> Any:
        return value

    def clean(self, value: Any) -> list[dict[str, Any]]:
        cleaned: list[dict[str, Any]] = []
        errors: list[str] = []
        for raw in value or []:
            if raw.get("DELETE"):
                continue
            form = self.make_row(data={k: v for k, v in raw.items() if k != "DELETE"})
            if not form.has_changed():  # a blank row (or one left at its defaults)
                continue
            number = len(cleaned) + 1
            if not form.is_valid():
                for key, messages in form.errors.items():
                    label = form.fields[key].label if key in form.fields else ""
                    for message in messages:
                        errors.append(
                            gettext("%(noun)s %(number)d, %(field)s: %(message)s")
                            % {
                                "noun": self.row_noun,
                                "number": number,
                                "field": label,
                                "message": message,
                            }
                            if label
                            else gettext("%(noun)s %(number)d: %(message)s")
                            % {"noun": self.row_noun, "number": number, "message": message}
                        )
            cleaned.append(form.cleaned_data if form.is_bound else {})
        if errors:
            raise ValidationError(errors)
        if len(cleaned) > MAX_ROWS:
            raise ValidationError(gettext("At most %(max)d rows.") % {"max": MAX_ROWS})
        if self.required and not cleaned:
            raise ValidationError(gettext("Add at least one row."))
        return cleaned

    def has_changed(self, initial: Any, data: Any) -> bool:
        return True


# --- Row forms ---------------------------------------------------------------------------------


def sku_widget() -> AutocompleteSelect:
    """The admin's SKU search (served by the SKU console page: only the tenant's SKUs)."""
    return AutocompleteSelect(FlashSaleSku._meta.get_field("sku"), console_site)


class SkuRowForm(forms.Form):
    """A row that names a SKU of the tenant (picked from a search)."""

    sku = forms.ModelChoiceField(queryset=Sku.objects.none(), label=_("SKU"), widget=sku_widget())

    def __init__(self, *args: Any, tenant_id: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sku"].queryset = Sku.objects.filter(  # type: ignore[attr-defined]  # a ModelChoiceField
            tenant_id=tenant_id
        ).select_related("product")


class ReductionTierForm(forms.Form):
    threshold = forms.DecimalField(label=_("Spend at least"), **AMOUNT)
    reduction = forms.DecimalField(label=_("Amount off"), **AMOUNT)


class DiscountTierForm(forms.Form):
    percent_off = forms.IntegerField(
        label=_("Percent off"), min_value=1, max_value=99, help_text=_("15 = 15% off (85% paid)")
    )
    min_quantity = forms.IntegerField(label=_("From quantity"), min_value=0, required=False)
    min_amount = forms.DecimalField(label=_("From amount"), required=False, **AMOUNT)


class GiftRowForm(SkuRowForm):
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, initial=1)


class AddonRowForm(SkuRowForm):
    price = forms.DecimalField(label=_("Add-on price"), **AMOUNT)
    max_quantity = forms.IntegerField(label=_("At most"), min_value=1, initial=1)


class MemberPriceRowForm(SkuRowForm):
    price = forms.DecimalField(label=_("Member price"), **AMOUNT)


def _percent_to_rate(percent: int | None) -> str | None:
    return (
        None if percent is None else str((Decimal(100 - percent) / 100).quantize(Decimal("0.01")))
    )


def _rate_to_percent(rate: Any) -> int | None:
    if rate in (None, ""):
        return None
    return int((1 - Decimal(str(rate))) * 100)


def _amount_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


# --- The campaign form -------------------------------------------------------------------------

STACKING_CHOICES = [
    (ITEM_TIER, _("Member tier prices")),
    (ITEM_MEMBER, _("Member prices")),
    (ITEM_CARD, _("Paid card prices")),
    (ITEM_FLASH, _("Flash-sale prices")),
    (CampaignKind.FULL_REDUCTION.value, _("Full reduction campaigns")),
    (CampaignKind.DISCOUNT.value, _("Discount campaigns")),
    (CampaignKind.GIFT.value, _("Gift campaigns")),
    (CampaignKind.ADDON.value, _("Add-on purchase campaigns")),
    (CampaignKind.FREE_SHIPPING.value, _("Free shipping campaigns")),
]

# Typed fields of each kind, with the rules key each one writes (errors go back to them).
KIND_FIELDS: dict[str, dict[str, str]] = {
    CampaignKind.FULL_REDUCTION: {
        "tiers": "fr_tiers",
        "repeat_every": "fr_repeat_every",
        "repeat_reduction": "fr_repeat_reduction",
        "cap": "fr_cap",
    },
    CampaignKind.DISCOUNT: {"tiers": "discount_tiers"},
    CampaignKind.GIFT: {
        "threshold": "gift_threshold",
        "min_quantity": "gift_min_quantity",
        "gifts": "gift_items",
    },
    CampaignKind.ADDON: {"threshold": "addon_threshold", "offers": "addon_offers"},
    CampaignKind.MEMBER_PRICE: {"rate": "member_percent_off", "prices": "member_prices"},
    CampaignKind.FLASH_SALE: {},
    CampaignKind.FREE_SHIPPING: {
        "threshold": "free_shipping_threshold",
        "min_quantity": "free_shipping_min_quantity",
    },
}

KIND_SECTIONS: dict[str, Any] = {
    CampaignKind.FULL_REDUCTION: _("Full reduction"),
    CampaignKind.DISCOUNT: _("Discount"),
    CampaignKind.GIFT: _("Gift"),
    CampaignKind.ADDON: _("Add-on purchase"),
    CampaignKind.MEMBER_PRICE: _("Member price"),
    CampaignKind.FLASH_SALE: _("Flash sale"),
    CampaignKind.FREE_SHIPPING: _("Free shipping"),
}

KIND_DESCRIPTIONS: dict[str, Any] = {
    CampaignKind.FULL_REDUCTION: _(
        "Tiers such as 'spend 100, 10 off; spend 200, 30 off' (the highest tier reached "
        "applies; each tier asks more and gives more than the one before), or a repeating "
        "reduction such as '10 off every 100'."
    ),
    CampaignKind.DISCOUNT: _(
        "Percent off the campaign's scope from a quantity and/or an amount; the best tier "
        "reached applies."
    ),
    CampaignKind.GIFT: _("Gift SKUs added free when the order reaches the threshold."),
    CampaignKind.ADDON: _("SKUs the shopper may add at a lower price once the threshold is met."),
    CampaignKind.MEMBER_PRICE: _(
        "A percent off for logged-in members on the campaign's scope and/or a price per SKU."
    ),
    CampaignKind.FLASH_SALE: _(
        "Flash-sale prices, quotas and per-member limits are the flash-sale SKU rows below."
    ),
    CampaignKind.FREE_SHIPPING: _("Free shipping once the order reaches the threshold."),
}

FR_TIERED, FR_REPEAT = "tiers", "repeat"


class CampaignConsoleForm(forms.ModelForm):
    """Campaign with typed rules; ``rules`` and ``stacks_with`` are written, never typed."""

    # Full reduction
    fr_mode = forms.ChoiceField(
        label=_("Reduction type"),
        choices=[(FR_TIERED, _("Tiers")), (FR_REPEAT, _("Repeating (every X, Y off)"))],
        initial=FR_TIERED,
        widget=forms.RadioSelect,
        required=False,
    )
    fr_tiers = RowsField(row_form=ReductionTierForm, row_noun=_("Tier"), extra=2, label=_("Tiers"))
    fr_repeat_every = forms.DecimalField(label=_("Every (amount)"), required=False, **AMOUNT)
    fr_repeat_reduction = forms.DecimalField(
        label=_("Amount off each time"), required=False, **AMOUNT
    )
    fr_cap = forms.DecimalField(
        label=_("At most off"), required=False, help_text=_("Empty: no cap."), **AMOUNT
    )
    # Discount
    discount_tiers = RowsField(
        row_form=DiscountTierForm, row_noun=_("Tier"), extra=1, label=_("Discount tiers")
    )
    # Gift
    gift_threshold = forms.DecimalField(label=_("Spend at least"), required=False, **AMOUNT)
    gift_min_quantity = forms.IntegerField(
        label=_("Buy at least (items)"), required=False, min_value=0
    )
    gift_items = RowsField(row_form=GiftRowForm, row_noun=_("Gift"), label=_("Gift SKUs"))
    # Add-on purchase
    addon_threshold = forms.DecimalField(label=_("Spend at least"), required=False, **AMOUNT)
    addon_offers = RowsField(
        row_form=AddonRowForm, row_noun=_("Add-on offer"), label=_("Add-on SKUs")
    )
    # Member price
    member_percent_off = forms.IntegerField(
        label=_("Percent off for members"),
        required=False,
        min_value=1,
        max_value=99,
        help_text=_("On the campaign's scope; empty: only the prices per SKU below."),
    )
    member_prices = RowsField(
        row_form=MemberPriceRowForm, row_noun=_("Member price"), label=_("Member prices per SKU")
    )
    # Free shipping
    free_shipping_threshold = forms.DecimalField(
        label=_("Spend at least"), required=False, **AMOUNT
    )
    free_shipping_min_quantity = forms.IntegerField(
        label=_("Buy at least (items)"), required=False, min_value=0
    )
    # Stacking
    stacking_default = forms.BooleanField(
        label=_("Default stacking for this kind"),
        required=False,
        initial=True,
        help_text=_("Untick to choose below what this campaign combines with."),
    )
    stacking = forms.MultipleChoiceField(
        label=_("Combines with"),
        choices=STACKING_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Campaign
        fields = (
            "name",
            "kind",
            "status",
            "starts_at",
            "ends_at",
            "priority",
            "all_items",
            "products",
            "categories",
            "skus",
            "excluded_products",
            "on_wechat",
            "on_alipay",
            "on_h5",
            "title",
            "banner",
            "budget",
        )

    class Media:
        js = ["promotions/console/campaign_form.js"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        tenant = getattr(self, "console_tenant", None)
        tenant_id = tenant.pk if tenant is not None else self.instance.tenant_id
        for field in self.fields.values():
            if isinstance(field, RowsField) and issubclass(field.row_form, SkuRowForm):
                field.row_kwargs["tenant_id"] = tenant_id
        if self.instance.pk and not self.is_bound:
            self.initial.update(self._typed_initial(self.instance))

    @staticmethod
    def _typed_initial(campaign: Campaign) -> dict[str, Any]:
        """The typed fields' values from stored rules (the round trip of ``clean``)."""
        rules = campaign.rules or {}
        kind = campaign.kind
        initial: dict[str, Any] = {
            "stacking_default": campaign.stacks_with is None,
            "stacking": list(campaign.stacks_with or DEFAULT_STACKS_WITH.get(kind) or ()),
        }
        if kind == CampaignKind.FULL_REDUCTION:
            initial.update(
                fr_mode=FR_REPEAT if rules.get("repeat_every") else FR_TIERED,
                fr_tiers=[
                    {"threshold": Decimal(t["threshold"]), "reduction": Decimal(t["reduction"])}
                    for t in rules.get("tiers", [])
                ],
                fr_repeat_every=rules.get("repeat_every"),
                fr_repeat_reduction=rules.get("repeat_reduction"),
                fr_cap=rules.get("cap"),
            )
        elif kind == CampaignKind.DISCOUNT:
            initial["discount_tiers"] = [
                {
                    "percent_off": _rate_to_percent(t["rate"]),
                    "min_quantity": t.get("min_quantity") or None,
                    "min_amount": Decimal(t["min_amount"]) if t.get("min_amount") else None,
                }
                for t in rules.get("tiers", [])
            ]
        elif kind == CampaignKind.GIFT:
            initial.update(
                gift_threshold=rules.get("threshold"),
                gift_min_quantity=rules.get("min_quantity"),
                gift_items=[
                    {"sku": g["sku_id"], "quantity": g["quantity"]} for g in rules.get("gifts", [])
                ],
            )
        elif kind == CampaignKind.ADDON:
            initial.update(
                addon_threshold=rules.get("threshold"),
                addon_offers=[
                    {"sku": o["sku_id"], "price": o["price"], "max_quantity": o["max_quantity"]}
                    for o in rules.get("offers", [])
                ],
            )
        elif kind == CampaignKind.MEMBER_PRICE:
            initial.update(
                member_percent_off=_rate_to_percent(rules.get("rate")),
                member_prices=[
                    {"sku": p["sku_id"], "price": p["price"]} for p in rules.get("prices", [])
                ],
            )
        elif kind == CampaignKind.FREE_SHIPPING:
            initial.update(
                free_shipping_threshold=rules.get("threshold"),
                free_shipping_min_quantity=rules.get("min_quantity"),
            )
        return initial

    def _kind(self) -> str | None:
        if self.instance.pk:
            return self.instance.kind
        return self.cleaned_data.get("kind")

    def _rules_from_typed(self, kind: str) -> dict[str, Any]:
        c = self.cleaned_data
        if kind == CampaignKind.FULL_REDUCTION:
            if c.get("fr_mode") == FR_REPEAT:
                return {
                    "repeat_every": _amount_or_none(c.get("fr_repeat_every")),
                    "repeat_reduction": _amount_or_none(c.get("fr_repeat_reduction")),
                    "cap": _amount_or_none(c.get("fr_cap")),
                }
            return {
                "tiers": [
                    {"threshold": str(t["threshold"]), "reduction": str(t["reduction"])}
                    for t in c.get("fr_tiers") or []
                ],
                "cap": _amount_or_none(c.get("fr_cap")),
            }
        if kind == CampaignKind.DISCOUNT:
            return {
                "tiers": [
                    {
                        "rate": _percent_to_rate(t["percent_off"]),
                        "min_quantity": t.get("min_quantity") or 0,
                        "min_amount": _amount_or_none(t.get("min_amount")),
                    }
                    for t in c.get("discount_tiers") or []
                ]
            }
        if kind == CampaignKind.GIFT:
            return {
                "threshold": _amount_or_none(c.get("gift_threshold")),
                "min_quantity": c.get("gift_min_quantity") or 0,
                "gifts": [
                    {"sku_id": g["sku"].pk, "quantity": g["quantity"]}
                    for g in c.get("gift_items") or []
                ],
            }
        if kind == CampaignKind.ADDON:
            return {
                "threshold": _amount_or_none(c.get("addon_threshold")),
                "offers": [
                    {
                        "sku_id": o["sku"].pk,
                        "price": str(o["price"]),
                        "max_quantity": o["max_quantity"],
                    }
                    for o in c.get("addon_offers") or []
                ],
            }
        if kind == CampaignKind.MEMBER_PRICE:
            return {
                "rate": _percent_to_rate(c.get("member_percent_off")),
                "prices": [
                    {"sku_id": p["sku"].pk, "price": str(p["price"])}
                    for p in c.get("member_prices") or []
                ],
            }
        if kind == CampaignKind.FREE_SHIPPING:
            return {
                "threshold": _amount_or_none(c.get("free_shipping_threshold")),
                "min_quantity": c.get("free_shipping_min_quantity") or 0,
            }
        return {}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        assert cleaned is not None  # a ModelForm's clean() returns cleaned_data
        kind = self._kind()
        if kind in KIND_FIELDS:
            fields = KIND_FIELDS[kind]
            if not any(self.has_error(name) for name in fields.values()):
                try:
                    self.instance.rules = validate_rules(kind, self._rules_from_typed(kind))
                except RulesError as exc:
                    target = fields.get(exc.key or "")
                    if target is None and kind == CampaignKind.FULL_REDUCTION:
                        target = "fr_tiers"
                    self.add_error(target if target in self.fields else None, exc.message)
        if cleaned.get("stacking_default", True):
            self.instance.stacks_with = None
        else:
            self.instance.stacks_with = sorted(cleaned.get("stacking") or [])
        return cleaned

    def _update_errors(self, errors: ValidationError) -> None:
        # Campaign.clean() validates the rules again; the typed fields already carry the
        # message, so an error on the hidden JSON is shown once, on the form.
        error_dict = getattr(errors, "error_dict", None)
        if error_dict is not None:
            for key in ("rules", "stacks_with"):
                messages = error_dict.pop(key, None)
                if messages and not self.errors:
                    error_dict.setdefault("__all__", ErrorList()).extend(messages)
        super()._update_errors(errors)  # type: ignore[misc]  # Django's private ModelForm hook
