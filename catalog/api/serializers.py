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
        help_text="Lowest SKU price for this caller now: after flash-sale prices and, for a "
        "logged-in member, member-price campaigns.",
    )
    original_price = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        allow_null=True,
        help_text="Lowest active SKU list price.",
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
    price = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        help_text="Best item-level price for this caller now (the quote's rule 1 for one unit).",
    )
    original_price = serializers.DecimalField(
        max_digits=12, decimal_places=2, help_text="List price."
    )
    price_source = serializers.ChoiceField(
        choices=["flash_sale", "member_price", "card_price", "tier_price"],
        allow_null=True,
        help_text="Where ``price`` comes from; null: the list price.",
    )
    price_campaign_id = serializers.IntegerField(
        allow_null=True, help_text="The flash-sale campaign giving ``price``."
    )
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


class FlashSkuOutSerializer(serializers.Serializer):
    sku_id = serializers.IntegerField()
    price = serializers.DecimalField(max_digits=12, decimal_places=2)
    quota_left = serializers.IntegerField(help_text="Units left at the flash-sale price.")
    per_member_limit = serializers.IntegerField(help_text="0: no limit.")


class ProductCampaignSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    name = serializers.CharField()
    title = serializers.CharField(help_text="This platform's title, else the campaign's.")
    banner = serializers.CharField(help_text="This platform's banner URL, else the campaign's.")
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    rules = serializers.DictField(help_text="The campaign's rules (docs/pricing.md).")
    flash_skus = FlashSkuOutSerializer(
        many=True, help_text="Flash sales: this product's SKUs in the sale."
    )


class ProductDetailSerializer(ProductListItemSerializer):
    description = serializers.CharField(help_text="Sanitised HTML.")
    category_id = serializers.IntegerField(allow_null=True)
    specs = SpecOutSerializer(many=True)
    skus = ShopperSkuSerializer(many=True)
    images = ImageOutSerializer(many=True)
    campaigns = ProductCampaignSerializer(
        many=True, help_text="Campaigns live now on this platform that apply to the product."
    )
