"""Products (SPU), their specs, SKUs and images."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from mall.tenancy.scoping import TenantOwnedModel, TenantQuerySet

PLATFORM_FIELDS = {"wechat": "on_wechat", "alipay": "on_alipay", "h5": "on_h5"}


class ProductQuerySet(TenantQuerySet):
    def on_sale(self) -> ProductQuerySet:
        return self.filter(status=Product.Status.ON_SALE)

    def visible_on(self, platform: str) -> ProductQuerySet:
        field = PLATFORM_FIELDS.get(platform)
        if field is None:
            return self.none()
        return self.filter(**{field: True})


def specs_label_of(specs: list[dict[str, str]]) -> str:
    """``Colour: Red / Size: M`` (``-`` for a SKU without specs)."""
    return " / ".join(f"{s['name']}: {s['value']}" for s in specs) or "-"


class Product(TenantOwnedModel):
    """A product (SPU). Shoppers see it only when on sale and shown on their platform."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ON_SALE = "on_sale", _("On sale")
        OFF_SHELF = "off_shelf", _("Off shelf")

    # The shop's own reference (import key, ERP id); unique per tenant when set.
    ref = models.CharField(_("ref"), max_length=64, blank=True, default="")
    title = models.CharField(_("title"), max_length=120)
    subtitle = models.CharField(_("subtitle"), max_length=200, blank=True, default="")
    # Sanitised HTML (catalog.richtext) — never stored raw.
    description = models.TextField(pgettext_lazy("product", "description"), blank=True, default="")
    category = models.ForeignKey(
        "catalog.Category",
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="products",
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    on_wechat = models.BooleanField(_("shown on WeChat"), default=True)
    on_alipay = models.BooleanField(_("shown on Alipay"), default=True)
    on_h5 = models.BooleanField(_("shown on H5"), default=True)
    sales_count = models.IntegerField(_("sales count"), default=0)
    sort_weight = models.IntegerField(_("sort weight"), default=0)
    supplier_ref = models.CharField(_("supplier ref"), max_length=64, blank=True, default="")
    freight_template = models.ForeignKey(
        "catalog.FreightTemplate",
        verbose_name=_("freight template"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="products",
    )
    # Storage name of the main image's medium thumbnail (denormalised for list reads).
    main_image = models.CharField(_("main image"), max_length=255, blank=True, default="")
    # Lowest active SKU price and that SKU's market price (maintained by catalog.services).
    display_price = models.DecimalField(
        _("display price"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    display_market_price = models.DecimalField(
        _("display market price"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = models.Manager.from_queryset(ProductQuerySet)()  # type: ignore[assignment,misc]  # a TenantQuerySet too

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["-sort_weight", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "ref"], condition=~Q(ref=""), name="uniq_product_ref_per_tenant"
            ),
            models.CheckConstraint(condition=Q(sales_count__gte=0), name="product_sales_gte_0"),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "on_sale", "off_shelf"]),
                name="product_status_valid",
            ),
        ]
        indexes = [
            models.Index(
                fields=["tenant", "status", "-sort_weight", "-id"], name="product_default"
            ),
            models.Index(fields=["tenant", "status", "display_price"], name="product_price"),
            models.Index(fields=["tenant", "status", "sales_count"], name="product_sales"),
            models.Index(fields=["tenant", "status", "created_at"], name="product_newest"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def main_image_url(self) -> str:
        return default_storage.url(self.main_image) if self.main_image else ""


# ``catalog.services.product_transition`` / ``product_set_status`` apply it. A product may be
# put on or off the shelf and back, and taken back to draft, at any time (going on sale also
# needs an active SKU, checked by the service).
PRODUCT_TRANSITIONS: dict[str, frozenset[str]] = {
    Product.Status.DRAFT: frozenset({Product.Status.ON_SALE, Product.Status.OFF_SHELF}),
    Product.Status.ON_SALE: frozenset({Product.Status.OFF_SHELF, Product.Status.DRAFT}),
    Product.Status.OFF_SHELF: frozenset({Product.Status.ON_SALE, Product.Status.DRAFT}),
}


class SpecName(TenantOwnedModel):
    """A product's spec dimension, e.g. Colour; its values are the choices (Red, Blue)."""

    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.CASCADE, related_name="spec_names"
    )
    name = models.CharField(_("name"), max_length=32)
    position = models.IntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("spec name")
        verbose_name_plural = _("spec names")
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "product", "name"], name="uniq_spec_name_per_product"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SpecValue(TenantOwnedModel):
    spec_name = models.ForeignKey(
        SpecName, verbose_name=_("spec name"), on_delete=models.CASCADE, related_name="values"
    )
    value = models.CharField(_("value"), max_length=64)
    position = models.IntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("spec value")
        verbose_name_plural = _("spec values")
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "spec_name", "value"], name="uniq_spec_value_per_name"
            ),
        ]

    def __str__(self) -> str:
        return self.value


class Sku(TenantOwnedModel):
    """A sellable variant: one combination of spec values, with its own price and stock.

    ``stock`` is the sellable quantity; it changes only through catalog.inventory (guarded
    atomic UPDATEs that bump ``version``), and the database refuses a negative value.
    """

    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.CASCADE, related_name="skus"
    )
    spec_values = models.ManyToManyField(
        SpecValue, verbose_name=_("spec values"), blank=True, related_name="skus"
    )
    # Denormalised, ordered by spec position: [{"name": "Colour", "value": "Red"}, ...]
    specs = models.JSONField(_("specs"), default=list, blank=True)
    # Spec value ids in spec order joined by "-": one SKU per combination.
    spec_key = models.CharField(_("spec key"), max_length=255, blank=True, default="")
    code = models.CharField(_("code"), max_length=64)
    barcode = models.CharField(_("barcode"), max_length=64, blank=True, default="")
    price = models.DecimalField(_("price"), max_digits=12, decimal_places=2)
    market_price = models.DecimalField(
        _("market price"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    cost_price = models.DecimalField(
        _("cost price"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    weight_grams = models.PositiveIntegerField(_("weight grams"), default=0)
    stock = models.IntegerField(_("stock"), default=0)
    low_stock_threshold = models.IntegerField(_("low stock threshold"), default=0)
    version = models.PositiveIntegerField(_("version"), default=1)
    is_active = models.BooleanField(_("is active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("sku")
        verbose_name_plural = _("skus")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "code"], name="uniq_sku_code_per_tenant"),
            models.UniqueConstraint(
                fields=["tenant", "product", "spec_key"], name="uniq_sku_specs_per_product"
            ),
            models.CheckConstraint(condition=Q(stock__gte=0), name="sku_stock_gte_0"),
            models.CheckConstraint(condition=Q(price__gte=0), name="sku_price_gte_0"),
            models.CheckConstraint(
                condition=Q(market_price__isnull=True) | Q(market_price__gte=0),
                name="sku_market_price_gte_0",
            ),
            models.CheckConstraint(
                condition=Q(cost_price__isnull=True) | Q(cost_price__gte=0),
                name="sku_cost_price_gte_0",
            ),
            models.CheckConstraint(
                condition=Q(low_stock_threshold__gte=0), name="sku_low_stock_threshold_gte_0"
            ),
        ]
        indexes = [models.Index(fields=["product", "is_active"], name="sku_product_active")]

    def __str__(self) -> str:
        return self.code

    @property
    def specs_label(self) -> str:
        return specs_label_of(self.specs)


class ProductImage(TenantOwnedModel):
    """A stored product image (EXIF stripped) with its thumbnails; names are storage names."""

    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.CASCADE, related_name="images"
    )
    file = models.CharField(_("file"), max_length=255)
    thumb_small = models.CharField(_("thumb small"), max_length=255)
    thumb_medium = models.CharField(_("thumb medium"), max_length=255)
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    position = models.IntegerField(_("position"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("product image")
        verbose_name_plural = _("product images")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.file

    @property
    def url(self) -> str:
        return default_storage.url(self.file)
