from django.urls import path

from catalog.api import merchant_views as views

app_name = "catalog_merchant"

urlpatterns = [
    path("products", views.MerchantProductListView.as_view(), name="product-list"),
    path(
        "products/<int:product_id>",
        views.MerchantProductDetailView.as_view(),
        name="product-detail",
    ),
    path(
        "products/<int:product_id>/images",
        views.MerchantProductImageView.as_view(),
        name="product-images",
    ),
    path("skus/<int:sku_id>/stock", views.MerchantSkuStockView.as_view(), name="sku-stock"),
]
