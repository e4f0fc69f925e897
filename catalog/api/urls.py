from django.urls import path

from catalog.api import views

app_name = "catalog"

urlpatterns = [
    path("categories", views.CategoryTreeView.as_view(), name="category-tree"),
    path("products", views.ProductListView.as_view(), name="product-list"),
    path("products/<int:product_id>", views.ProductDetailView.as_view(), name="product-detail"),
]
