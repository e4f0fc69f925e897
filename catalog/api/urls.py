from django.urls import path

from catalog.api import views

app_name = "catalog"

urlpatterns = [
    path("categories", views.CategoryTreeView.as_view(), name="category-tree"),
]
