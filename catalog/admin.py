"""Admin registrations of the catalog: the tenant console (/console/) and /admin/.

Categories use django-mptt's tree changelist (indented by level); in the console the tree,
the parent choices and the bulk delete are scoped to the staff member's tenant.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import get_deleted_objects
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from mptt.admin import MPTTModelAdmin

from catalog import inventory, services
from catalog.dashboard import dashboard_register, low_stock_q
from catalog.images import _read_bounded, image_clean, product_image_add
from catalog.importer import ImportInvalid, products_import
from catalog.models import (
    Category,
    FreightRule,
    FreightTemplate,
    Product,
    ProductImage,
    Sku,
    StockMovement,
)
from catalog.richtext import description_sanitize
from mall.api.errors import ApplicationError
from mall.console.admin import (
    ALL_ROLES,
    FORMFIELD_OVERRIDES,
    TenantScopedModelAdmin,
    TenantScopedTabularInline,
)
from mall.console.site import console_site
from mall.tenancy.models import Staff

Role = Staff.Role
CATALOG_EDIT_ROLES = frozenset({Role.OWNER, Role.ADMIN, Role.OPERATOR})


@admin.register(Category, site=console_site)
class CategoryConsoleAdmin(TenantScopedModelAdmin, MPTTModelAdmin):
    view_roles = ALL_ROLES
    edit_roles = CATALOG_EDIT_ROLES
    fields = ("parent", "name", "icon", "sort_order", "is_visible")
    list_display = ("name", "sort_order", "is_visible", "updated_at")
    list_filter = ("is_visible",)
    search_fields = ("name",)
    mptt_level_indent = 20

    def delete_selected_tree(
        self, modeladmin: Any, request: HttpRequest, queryset: QuerySet[Category]
    ) -> Any:
        # A category with children or products is protected: refuse instead of failing.
        if request.POST.get("post"):
            _, _, _, protected = get_deleted_objects(list(queryset), request, self.admin_site)
            if protected:
                self.message_user(
                    request,
                    "Some selected categories still have sub-categories or products; "
                    "move or delete those first.",
                    messages.ERROR,
                )
                return None
        return super().delete_selected_tree(modeladmin, request, queryset)


@admin.register(Category)
class CategoryAdmin(MPTTModelAdmin):
    formfield_overrides = FORMFIELD_OVERRIDES
    list_display = ("name", "tenant", "sort_order", "is_visible")
    list_filter = ("tenant", "is_visible")
    list_select_related = ("tenant",)
    search_fields = ("name", "tenant__slug")
    raw_id_fields = ("parent",)
    mptt_level_indent = 20


# --- Products, SKUs, stock, freight (catalog owner) ------------------------------------


def _parse_spec_lines(text: str) -> list[dict[str, Any]]:
    """``Colour: Red, Blue`` per line -> [{"name": "Colour", "values": ["Red", "Blue"]}]."""
    specs = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, values = line.partition(":")
        items = [v.strip() for v in values.split(",") if v.strip()]
        if not sep or not name.strip() or not items:
            raise forms.ValidationError(f"Line {number}: write it as 'Name: value, value'.")
        if len(name.strip()) > 32 or any(len(v) > 64 for v in items):
            raise forms.ValidationError(f"Line {number}: name or value too long.")
        specs.append({"name": name.strip(), "values": items})
    return specs


class ProductConsoleForm(forms.ModelForm):
    spec_lines = forms.CharField(
        label="Specs",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Colour: Red, Blue\nSize: S, M"}),
        help_text="One spec per line: 'Name: value, value'. Values are added, never removed.",
    )
    generate_skus = forms.BooleanField(
        required=False, help_text="Create a SKU for every spec combination that has none."
    )
    new_sku_price = forms.DecimalField(
        required=False, min_value=0, max_digits=12, decimal_places=2,
        help_text="Price of the generated SKUs.",
    )  # fmt: skip
    new_image = forms.FileField(
        required=False,
        help_text="Add an image (JPEG, PNG, WebP or GIF). It is checked, stripped of EXIF and "
        "thumbnailed; the first image becomes the main image.",
    )

    class Meta:
        model = Product
        fields = (
            "ref", "title", "subtitle", "description", "category", "status", "freight_template",
            "sort_weight", "supplier_ref", "on_wechat", "on_alipay", "on_h5",
        )  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["spec_lines"].initial = "\n".join(
                f"{n.name}: {', '.join(v.value for v in n.values.all())}"
                for n in self.instance.spec_names.all()
            )

    def clean_description(self) -> str:
        return description_sanitize(self.cleaned_data.get("description") or "")

    def clean_spec_lines(self) -> list[dict[str, Any]]:
        return _parse_spec_lines(self.cleaned_data.get("spec_lines") or "")

    def clean_new_image(self) -> Any:
        upload = self.cleaned_data.get("new_image")
        if upload is None:
            return None
        try:  # the same checks as the open API, so a bad file is a form error, not a 500
            image_clean(_read_bounded(upload))
        except ApplicationError as exc:
            raise forms.ValidationError(exc.message) from exc
        upload.seek(0)
        return upload

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("generate_skus") and data.get("new_sku_price") is None:
            self.add_error("new_sku_price", "Give the price of the generated SKUs.")
        return data


class ProductImageInline(TenantScopedTabularInline):
    """The product's images: reorder or delete here, add through the upload field above."""

    model = ProductImage
    extra = 0
    edit_roles = CATALOG_EDIT_ROLES
    fields = ("preview", "position", "width", "height")
    readonly_fields = ("preview", "width", "height")

    @admin.display(description="image")
    def preview(self, obj: ProductImage) -> str:
        if not obj.thumb_small:
            return ""
        url = default_storage.url(obj.thumb_small)
        return format_html('<img src="{}" height="60" alt="">', url)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # uploads go through the product form's image field


class SkuInline(TenantScopedTabularInline):
    model = Sku
    extra = 0
    can_delete = False  # SKUs with history are deactivated, not deleted
    edit_roles = CATALOG_EDIT_ROLES
    fields = ("code", "specs_label", "barcode", "price", "market_price", "cost_price",
              "weight_grams", "stock", "low_stock_threshold", "is_active")  # fmt: skip
    readonly_fields = ("specs_label", "stock")

    @admin.display(description="specs")
    def specs_label(self, obj: Sku) -> str:
        return obj.specs_label

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # new SKUs come from the spec matrix


@admin.register(Product, site=console_site)
class ProductConsoleAdmin(TenantScopedModelAdmin):
    form = ProductConsoleForm
    view_roles = ALL_ROLES
    edit_roles = CATALOG_EDIT_ROLES
    inlines = [ProductImageInline, SkuInline]
    list_display = ("title", "ref", "status", "display_price", "sales_count", "category",
                    "updated_at")  # fmt: skip
    list_filter = ("status", "category", "on_wechat", "on_alipay", "on_h5")
    search_fields = ("title", "subtitle", "ref")
    actions = ["put_on_sale", "take_off_shelf"]
    fieldsets = (
        (None, {"fields": ("ref", "title", "subtitle", "description", "category", "status",
                           "freight_template", "sort_weight", "supplier_ref")}),
        ("Shown on", {"fields": ("on_wechat", "on_alipay", "on_h5")}),
        ("Specs and SKU matrix", {"fields": ("spec_lines", "generate_skus", "new_sku_price")}),
        ("Images", {"fields": ("new_image",)}),
    )  # fmt: skip
    change_list_template = "console/catalog/product_change_list.html"

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        product = form.instance
        tenant = request.tenant  # type: ignore[attr-defined]
        try:
            specs = form.cleaned_data.get("spec_lines") or []
            if specs:
                services.product_specs_set(tenant=tenant, product=product, specs=specs)
            if form.cleaned_data.get("generate_skus"):
                made = services.product_generate_sku_matrix(
                    tenant=tenant, product=product, price=form.cleaned_data["new_sku_price"]
                )
                self.message_user(request, f"{made} SKU(s) generated from the specs.")
            services.product_refresh_display_price(product=product)
            upload = form.cleaned_data.get("new_image")
            if upload is not None:
                product_image_add(tenant=tenant, product=product, upload=upload)
                self.message_user(request, "Image added.")
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)

    def _set_status(self, request: HttpRequest, queryset: QuerySet[Product], status: str) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        changed = services.product_set_status(
            tenant=request.tenant,
            product_ids=ids,
            status=status,  # type: ignore[attr-defined]
        )
        skipped = len(ids) - changed
        self.message_user(request, f"{changed} product(s) updated.")
        if skipped:
            self.message_user(
                request, f"{skipped} product(s) without an active SKU stay as they are.",
                messages.WARNING,
            )  # fmt: skip

    @admin.action(description="Put selected products on sale")
    def put_on_sale(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        self._set_status(request, queryset, Product.Status.ON_SALE)

    @admin.action(description="Take selected products off the shelf")
    def take_off_shelf(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        self._set_status(request, queryset, Product.Status.OFF_SHELF)

    def get_urls(self) -> list[Any]:
        extra = [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="catalog_product_import",
            )
        ]
        return extra + super().get_urls()

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """The same import as ``manage.py import_products`` (all rows valid, or nothing)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        errors: list[dict[str, Any]] = []
        form = ProductImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                result = products_import(
                    tenant=request.tenant,  # type: ignore[attr-defined]
                    name=upload.name,
                    stream=upload,
                    dry_run=form.cleaned_data["dry_run"],
                )
            except ImportInvalid as exc:
                errors = [e.as_dict() for e in exc.errors]
                self.message_user(request, exc.message, messages.ERROR)
            else:
                verb = "Checked" if form.cleaned_data["dry_run"] else "Imported"
                self.message_user(
                    request,
                    f"{verb} {result.skus} SKU(s): {result.products_created} product(s) created, "
                    f"{result.products_updated} updated.",
                )
                if not form.cleaned_data["dry_run"]:
                    return redirect("console:catalog_product_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": "Import products",
            "opts": self.model._meta,
            "form": form,
            "errors": errors,
        }
        return TemplateResponse(request, "console/catalog/product_import.html", context)


class ProductImportForm(forms.Form):
    file = forms.FileField(help_text="CSV (UTF-8) or XLSX, one row per SKU; see docs/catalog.md.")
    dry_run = forms.BooleanField(required=False, label="Only check the file")


class LowStockFilter(admin.SimpleListFilter):
    title = "stock"
    parameter_name = "stock_state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("low", "Low (at or below threshold)"), ("out", "Out of stock")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Sku]) -> QuerySet[Sku]:
        if self.value() == "low":
            return queryset.filter(low_stock_q())
        if self.value() == "out":
            return queryset.filter(stock=0)
        return queryset


class StockAdjustForm(forms.Form):
    delta = forms.IntegerField(min_value=-1_000_000, max_value=1_000_000, help_text="e.g. -2 or 10")
    reason = forms.CharField(max_length=255)

    def clean_delta(self) -> int:
        delta = self.cleaned_data["delta"]
        if delta == 0:
            raise forms.ValidationError("The change cannot be zero.")
        return delta


@admin.register(Sku, site=console_site)
class SkuConsoleAdmin(TenantScopedModelAdmin):
    """SKU list with the low-stock filter; stock changes only through "Adjust stock"."""

    view_roles = ALL_ROLES
    edit_roles = CATALOG_EDIT_ROLES
    add_roles: frozenset[str] = frozenset()
    delete_roles: frozenset[str] = frozenset()
    list_display = ("code", "product", "specs_label", "price", "stock", "low_stock_threshold",
                    "is_active", "adjust_link")  # fmt: skip
    list_filter = (LowStockFilter, "is_active")
    search_fields = ("code", "barcode", "product__title")
    list_select_related = ("product",)
    fields = ("product", "code", "specs_label", "barcode", "price", "market_price", "cost_price",
              "weight_grams", "stock", "low_stock_threshold", "is_active", "version")  # fmt: skip
    readonly_fields = ("product", "specs_label", "stock", "version")

    @admin.display(description="specs")
    def specs_label(self, obj: Sku) -> str:
        return obj.specs_label

    @admin.display(description="")
    def adjust_link(self, obj: Sku) -> str:
        url = reverse("console:catalog_sku_adjust", args=[obj.pk])
        return format_html('<a href="{}">Adjust stock</a>', url)

    def save_model(self, request: HttpRequest, obj: Sku, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        services.product_refresh_display_price(product=obj.product)

    def get_urls(self) -> list[Any]:
        extra = [
            path(
                "<int:sku_id>/adjust/",
                self.admin_site.admin_view(self.adjust_view),
                name="catalog_sku_adjust",
            )
        ]
        return extra + super().get_urls()

    def adjust_view(self, request: HttpRequest, sku_id: int) -> HttpResponse:
        sku = self.get_object(request, str(sku_id))
        if not self.has_change_permission(request, sku):
            raise PermissionDenied
        form = StockAdjustForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            staff = request.staff  # type: ignore[attr-defined]
            try:
                movement = inventory.stock_adjust(
                    tenant=request.tenant,  # type: ignore[attr-defined]
                    sku_id=sku.pk,
                    delta=form.cleaned_data["delta"],
                    note=f"{form.cleaned_data['reason']} (by {staff.user})"[:255],
                )
            except ApplicationError as exc:
                form.add_error("delta", exc.message)
            else:
                self.message_user(request, f"Stock of {sku.code} is now {movement.stock_after}.")
                return redirect("console:catalog_sku_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": f"Adjust stock of {sku.code}",
            "opts": self.model._meta,
            "original": sku,
            "form": form,
            "movements": sku.movements.all()[:20],
        }
        return TemplateResponse(request, "console/catalog/stock_adjust.html", context)


@admin.register(StockMovement, site=console_site)
class StockMovementConsoleAdmin(TenantScopedModelAdmin):
    """The stock ledger: read-only."""

    view_roles = ALL_ROLES
    edit_roles: frozenset[str] = frozenset()
    list_display = ("created_at", "sku", "reason", "quantity", "stock_after", "reference", "note")
    list_filter = ("reason",)
    search_fields = ("sku__code", "reference")
    list_select_related = ("sku",)


class FreightRuleInline(TenantScopedTabularInline):
    model = FreightRule
    extra = 1
    edit_roles = CATALOG_EDIT_ROLES
    fields = ("provinces", "first_units", "first_fee", "additional_units", "additional_fee",
              "position")  # fmt: skip


@admin.register(FreightTemplate, site=console_site)
class FreightTemplateConsoleAdmin(TenantScopedModelAdmin):
    view_roles = ALL_ROLES
    edit_roles = CATALOG_EDIT_ROLES
    inlines = [FreightRuleInline]
    list_display = ("name", "charge_by", "first_fee", "additional_fee", "free_shipping_threshold")


dashboard_register()
