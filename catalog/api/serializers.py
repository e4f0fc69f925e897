from __future__ import annotations

from rest_framework import serializers


class CategoryNodeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    icon = serializers.CharField()
    sort_order = serializers.IntegerField()
    level = serializers.IntegerField()
    children = serializers.ListField(child=serializers.DictField())


class CategoryTreePageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = CategoryNodeSerializer(many=True)


# --- Products (shopper) ------------------------------------------------------------------

ORDERING_CHOICES = ["sales", "-sales", "price", "-price", "newest"]


class ProductListQuerySerializer(serializers.Serializer):
    category = serializers.IntegerField(required=False, min_value=1)
    q = serializers.CharField(required=False, allow_blank=True, max_length=64)
    min_price = serializers.DecimalField(
        required=False, max_digits=12, decimal_places=2, min_value=0
    )
    max_price = serializers.DecimalField(
        required=False, max_digits=12, decimal_places=2, min_value=0
    )
    ordering = serializers.ChoiceField(required=False, choices=ORDERING_CHOICES)
    page = serializers.IntegerField(required=False, min_value=1)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=100)


class ProductListItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    subtitle = serializers.CharField()
    image = serializers.CharField(help_text="Main image (medium thumbnail) URL; may be empty.")
    price = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        allow_null=True,
        help_text="Lowest active SKU price (member prices arrive with promotions).",
    )
    market_price = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    sales = serializers.IntegerField()
    in_stock = serializers.BooleanField()


class ProductPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = ProductListItemSerializer(many=True)


class SpecPairSerializer(serializers.Serializer):
    name = serializers.CharField()
    value = serializers.CharField()


class ShopperSkuSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    specs = SpecPairSerializer(many=True)
    price = serializers.DecimalField(max_digits=12, decimal_places=2)
    market_price = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    stock = serializers.IntegerField()
    available = serializers.BooleanField()
    weight_grams = serializers.IntegerField()


class SpecValueOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    value = serializers.CharField()


class SpecOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    values = SpecValueOutSerializer(many=True)


class ImageOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField()
    thumb_small = serializers.CharField()
    thumb_medium = serializers.CharField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()


class ProductDetailSerializer(ProductListItemSerializer):
    description = serializers.CharField(help_text="Sanitised HTML.")
    category_id = serializers.IntegerField(allow_null=True)
    specs = SpecOutSerializer(many=True)
    skus = ShopperSkuSerializer(many=True)
    images = ImageOutSerializer(many=True)
