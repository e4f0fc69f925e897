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
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from mptt.admin import MPTTModelAdmin

from catalog import inventory, services
from catalog.console_forms import ProductConsoleForm, SkuConsoleForm, stale_stock_message
from catalog.dashboard import dashboard_register, low_stock_q
from catalog.errors import CatalogErrorCode
from catalog.images import product_cover_refresh, product_image_add
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
from mall.console.admin import (
    ALL_ROLES,
    FORMFIELD_OVERRIDES,
    TenantScopedModelAdmin,
    TenantScopedTabularInline,
)
from mall.console.site import console_site
from mall.errors import ApplicationError
from mall.http import TenantHttpRequest
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
            *_ignored, protected = get_deleted_objects(list(queryset), request, self.admin_site)
            if protected:
                self.message_user(
                    request,
                    gettext(
                        "Some selected categories still have sub-categories or products; "
                        "move or delete those first."
                    ),
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


class ProductImageInline(TenantScopedTabularInline):
    """The product's images: reorder (drag the rows) or delete here, add through the upload
    field above. Dragging is unfold's sortable inline: its script writes each row's index into
    the hidden ``position`` input, and saving applies it like a typed position would."""

    model = ProductImage
    extra = 0
    edit_roles = CATALOG_EDIT_ROLES
    ordering_field = "position"
    hide_ordering_field = True
    fields = ("preview", "position", "width", "height")
    readonly_fields = ("preview", "width", "height")

    @admin.display(description=_("image"))
    def preview(self, obj: ProductImage) -> str:
        if not obj.thumb_small:
            return ""
        url = default_storage.url(obj.thumb_small)
        return format_html('<img src="{}" height="60" alt="">', url)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # uploads go through the product form's image field


class SkuInline(TenantScopedTabularInline):
    """The SKU table: price, market price, code and stock per SKU (stock via the ledger)."""

    model = Sku
    form = SkuConsoleForm
    extra = 0
    can_delete = False  # SKUs with history are deactivated, not deleted
    edit_roles = CATALOG_EDIT_ROLES
    fields = ("specs_label", "code", "price", "market_price", "new_stock", "low_stock_threshold",
              "is_active", "seen_stock", "seen_version")  # fmt: skip
    readonly_fields = ("specs_label",)

    @admin.display(description=_("specs"))
    def specs_label(self, obj: Sku) -> str:
        return obj.specs_label

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # new SKUs come from the spec matrix


@admin.register(Product, site=console_site)
class ProductConsoleAdmin(TenantScopedModelAdmin):
    form = ProductConsoleForm
    view_roles = ALL_ROLES
    edit_roles = CATALOG_EDIT_ROLES
    inlines = [SkuInline, ProductImageInline]
    list_display = ("cover", "title", "ref", "status", "display_price", "sales_count", "category",
                    "updated_at")  # fmt: skip
    list_display_links = ("cover", "title")
    list_select_related = ("category",)
    list_filter = ("status", "category", "on_wechat", "on_alipay", "on_h5")
    search_fields = ("title", "subtitle", "ref")
    actions = ["put_on_sale", "take_off_shelf"]
    fieldsets = (
        (None, {"fields": ("ref", "title", "subtitle", "category", "status",
                           "freight_template", "sort_weight", "supplier_ref")}),
        (_("Description"), {"fields": ("description",)}),
        (_("Shown on"), {"fields": ("on_wechat", "on_alipay", "on_h5")}),
        (_("Specs"), {"fields": ("specs", "new_sku_price")}),
        (_("Images"), {"fields": ("new_images",)}),
    )  # fmt: skip
    change_list_template = "console/catalog/product_change_list.html"

    @admin.display(description=_("cover"))
    def cover(self, obj: Product) -> str:
        if not obj.main_image:
            return "-"
        return format_html('<img src="{}" height="40" alt="">', obj.main_image_url)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not Sku:
            super().save_formset(request, form, formset, change)
            return
        tenant = request.tenant  # type: ignore[attr-defined]
        staff = request.staff  # type: ignore[attr-defined]
        # What formset.save() would have recorded (the admin's change message reads it).
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for sku_form in formset.forms:
            sku = sku_form.instance
            changed = [name for name in sku_form.changed_data if name in SkuConsoleForm.Meta.fields]
            if changed:
                # Only the edited columns: never write back a stock read before an order moved it.
                sku_form.save(commit=False)
                sku.save(update_fields=[*changed, "updated_at"])
                formset.changed_objects.append((sku, changed))
            new_stock = sku_form.stock_change
            if new_stock is None:
                continue
            try:
                inventory.stock_set(
                    tenant=tenant,
                    sku_id=sku.pk,
                    stock=new_stock,
                    expected_version=sku_form.cleaned_data["seen_version"],
                    reason=StockMovement.Reason.CONSOLE,
                    note=f"by {staff.user}"[:255],
                )
            except ApplicationError as exc:
                current = exc.details.get("stock") if exc.details else None
                message = (
                    stale_stock_message(sku.code, current)
                    if exc.code == CatalogErrorCode.VERSION_CONFLICT and current is not None
                    else f"{sku.code}: {exc.message}"
                )
                self.message_user(request, message, messages.ERROR)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        product = form.instance
        tenant = request.tenant  # type: ignore[attr-defined]
        request._console_new_skus = 0  # type: ignore[attr-defined]
        try:
            if "specs" in form.changed_data or form.new_sku_count:
                services.product_specs_replace(
                    tenant=tenant, product=product, specs=form.cleaned_data["specs"]
                )
            if form.new_sku_count:
                made = services.product_generate_sku_matrix(
                    tenant=tenant, product=product, price=form.cleaned_data["new_sku_price"]
                )
                request._console_new_skus = made  # type: ignore[attr-defined]
                self.message_user(
                    request,
                    gettext("%(count)d SKU(s) created from the specs: set their prices and stock.")
                    % {"count": made},
                )
            services.product_refresh_display_price(product=product)
            for upload in form.cleaned_data.get("new_images") or []:
                product_image_add(tenant=tenant, product=product, upload=upload)
            product_cover_refresh(tenant=tenant, product=product)
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        if product.status == Product.Status.ON_SALE and product.display_price is None:
            Product.objects.for_tenant(tenant).filter(pk=product.pk).update(
                status=Product.Status.DRAFT
            )
            product.status = Product.Status.DRAFT
            self.message_user(
                request,
                gettext("A product without an active SKU cannot be on sale; it stays a draft."),
                messages.WARNING,
            )

    def response_add(self, request: HttpRequest, obj: Product, post_url_continue: Any = None):
        if getattr(request, "_console_new_skus", 0) and "_addanother" not in request.POST:
            # The SKU table is on the change page: go there to fill prices and stock.
            return redirect("console:catalog_product_change", obj.pk)
        return super().response_add(request, obj, post_url_continue)

    def _set_status(
        self, request: TenantHttpRequest, queryset: QuerySet[Product], status: str
    ) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        changed = services.product_set_status(
            tenant=request.tenant,
            product_ids=ids,
            status=status,
        )
        skipped = len(ids) - changed
        self.message_user(
            request,
            ngettext("%(n)d product updated.", "%(n)d products updated.", changed) % {"n": changed},
        )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(n)d product without an active SKU stays as it is.",
                    "%(n)d products without an active SKU stay as they are.",
                    skipped,
                ) % {"n": skipped},
                messages.WARNING,
            )  # fmt: skip

    @admin.action(description=_("Put selected products on sale"))
    def put_on_sale(self, request: TenantHttpRequest, queryset: QuerySet[Product]) -> None:
        self._set_status(request, queryset, Product.Status.ON_SALE)

    @admin.action(description=_("Take selected products off the shelf"))
    def take_off_shelf(self, request: TenantHttpRequest, queryset: QuerySet[Product]) -> None:
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
                message = (
                    gettext(
                        "Checked %(skus)d SKU(s): %(created)d product(s) would be created, "
                        "%(updated)d updated."
                    )
                    if form.cleaned_data["dry_run"]
                    else gettext(
                        "Imported %(skus)d SKU(s): %(created)d product(s) created, "
                        "%(updated)d updated."
                    )
                )
                self.message_user(
                    request,
                    message
                    % {
                        "skus": result.skus,
                        "created": result.products_created,
                        "updated": result.products_updated,
                    },
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
    file = forms.FileField(
        help_text=_("CSV (UTF-8) or XLSX, one row per SKU; see docs/catalog.md.")
    )
    dry_run = forms.BooleanField(required=False, label=_("Only check the file"))


class LowStockFilter(admin.SimpleListFilter):
    title = _("stock")
    parameter_name = "stock_state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("low", gettext("Low (at or below threshold)")), ("out", gettext("Out of stock"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Sku]) -> QuerySet[Sku]:
        if self.value() == "low":
            return queryset.filter(low_stock_q())
        if self.value() == "out":
            return queryset.filter(stock=0)
        return queryset


class StockAdjustForm(forms.Form):
    delta = forms.IntegerField(
        min_value=-1_000_000, max_value=1_000_000, help_text=_("e.g. -2 or 10")
    )
    reason = forms.CharField(max_length=255)

    def clean_delta(self) -> int:
        delta = self.cleaned_data["delta"]
        if delta == 0:
            raise forms.ValidationError(gettext("The change cannot be zero."))
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

    @admin.display(description=_("specs"))
    def specs_label(self, obj: Sku) -> str:
        return obj.specs_label

    @admin.display(description="")
    def adjust_link(self, obj: Sku) -> str:
        url = reverse("console:catalog_sku_adjust", args=[obj.pk])
        return format_html('<a href="{}">Adjust stock</a>', url)

    def save_model(self, request: HttpRequest, obj: Sku, form: Any, change: bool) -> None:
        # Only the edited columns: the stock read with the row may be stale by now (an order).
        changed = [name for name in form.changed_data if name not in self.readonly_fields]
        if changed:
            obj.save(update_fields=[*changed, "updated_at"])
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
                form.add_error("delta", str(exc.message))
            else:
                self.message_user(
                    request,
                    gettext("Stock of %(code)s is now %(stock)d.")
                    % {"code": sku.code, "stock": movement.stock_after},
                )
                return redirect("console:catalog_sku_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Adjust stock of %(code)s") % {"code": sku.code},
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
