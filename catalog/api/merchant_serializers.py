"""Open API (ERP/WMS) serializers for products, SKUs and stock."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from catalog.models import PLATFORM_FIELDS, Product, ProductImage, Sku

PLATFORMS = list(PLATFORM_FIELDS)


class WholeItemSerializer(serializers.Serializer):
    """An item of a nested list is whole even inside a PATCH: DRF skips the missing required
    fields of nested serializers when the root one is partial, and the service would then meet
    an item without its ``name`` or ``code`` (a 500 before)."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        missing = {
            name: [field.error_messages["required"]]
            for name, field in self.fields.items()
            if field.required and not field.read_only and field.source not in attrs
        }
        if missing:
            raise serializers.ValidationError(missing)
        return attrs


class SpecInSerializer(WholeItemSerializer):
    name = serializers.CharField(max_length=32)
    values = serializers.ListField(child=serializers.CharField(max_length=64), max_length=100)


class SkuInSerializer(WholeItemSerializer):
    id = serializers.IntegerField(required=False, help_text="Update this SKU (else by code).")
    code = serializers.CharField(max_length=64)
    specs = serializers.DictField(
        child=serializers.CharField(max_length=64),
        required=False,
        help_text='Spec name -> value, e.g. {"Colour": "Red", "Size": "M"}.',
    )
    barcode = serializers.CharField(max_length=64, required=False, allow_blank=True)
    price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    market_price = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    cost_price = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    weight_grams = serializers.IntegerField(min_value=0, max_value=10_000_000, required=False)
    stock = serializers.IntegerField(
        min_value=0, max_value=1_000_000, required=False, help_text="New SKUs only."
    )
    low_stock_threshold = serializers.IntegerField(min_value=0, max_value=1_000_000, required=False)
    is_active = serializers.BooleanField(required=False)


class ProductInSerializer(serializers.Serializer):
    ref = serializers.CharField(max_length=64, required=False, allow_blank=True)
    title = serializers.CharField(max_length=120)
    subtitle = serializers.CharField(max_length=200, required=False, allow_blank=True)
    description = serializers.CharField(
        required=False, allow_blank=True, max_length=100_000, help_text="HTML; sanitised."
    )
    category_id = serializers.IntegerField(required=False, allow_null=True)
    freight_template_id = serializers.IntegerField(required=False, allow_null=True)
    status = serializers.ChoiceField(choices=Product.Status.choices, required=False)
    platforms = serializers.ListField(
        child=serializers.ChoiceField(choices=PLATFORMS), required=False, max_length=3
    )
    sort_weight = serializers.IntegerField(required=False)
    supplier_ref = serializers.CharField(max_length=64, required=False, allow_blank=True)
    specs = SpecInSerializer(many=True, required=False, max_length=10)  # type: ignore[call-arg]  # ListSerializer's
    skus = SkuInSerializer(many=True, required=False, max_length=500)  # type: ignore[call-arg]  # ListSerializer's


class SkuOutSerializer(serializers.ModelSerializer):
    class Meta:
        model = Sku
        fields = [
            "id", "code", "barcode", "specs", "price", "market_price", "cost_price",
            "weight_grams", "stock", "low_stock_threshold", "version", "is_active",
        ]  # fmt: skip


class ImageSerializer(serializers.ModelSerializer):
    url = serializers.CharField(read_only=True)

    class Meta:
        model = ProductImage
        fields = ["id", "url", "file", "thumb_small", "thumb_medium", "width", "height", "position"]


class ProductOutSerializer(serializers.ModelSerializer):
    platforms = serializers.SerializerMethodField()
    skus = SkuOutSerializer(many=True, read_only=True)
    image = serializers.CharField(source="main_image_url", read_only=True)

    class Meta:
        model = Product
        fields = [
            "id", "ref", "title", "subtitle", "description", "category_id",
            "freight_template_id", "status", "platforms", "sort_weight", "supplier_ref",
            "sales_count", "image", "display_price", "created_at", "updated_at", "skus",
        ]  # fmt: skip

    def get_platforms(self, obj: Product) -> list[str]:
        return [p for p, field in PLATFORM_FIELDS.items() if getattr(obj, field)]


class StockSetSerializer(serializers.Serializer):
    stock = serializers.IntegerField(min_value=0, max_value=1_000_000)
    expected_version = serializers.IntegerField(min_value=1, required=False, allow_null=True)


class StockDeltaSerializer(serializers.Serializer):
    delta = serializers.IntegerField(min_value=-1_000_000, max_value=1_000_000)
    reason = serializers.CharField(max_length=255)


class StockOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    stock = serializers.IntegerField()
    version = serializers.IntegerField()


class ImageUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    position = serializers.IntegerField(required=False, min_value=0)


class ProductListFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Product.Status.choices, required=False)
    updated_since = serializers.DateTimeField(required=False)
