from django.urls import path

from orders.api import views

app_name = "orders"

urlpatterns = [
    path("cart", views.CartView.as_view(), name="cart"),
    path("cart/items", views.CartItemsView.as_view(), name="cart-items"),
    path("cart/items/<int:item_id>", views.CartItemView.as_view(), name="cart-item"),
    path("orders", views.OrderListCreateView.as_view(), name="order-list"),
    path("orders/<str:number>", views.OrderDetailView.as_view(), name="order-detail"),
    path("orders/<str:number>/cancel", views.OrderCancelView.as_view(), name="order-cancel"),
    path(
        "orders/<str:number>/confirm-receipt",
        views.OrderConfirmReceiptView.as_view(),
        name="order-confirm-receipt",
    ),
    path(
        "orders/<str:number>/after-sales",
        views.OrderAfterSaleCreateView.as_view(),
        name="order-after-sales",
    ),
    path(
        "after-sales/<int:after_sale_id>",
        views.AfterSaleDetailView.as_view(),
        name="after-sale-detail",
    ),
    path(
        "after-sales/<int:after_sale_id>/return",
        views.AfterSaleReturnView.as_view(),
        name="after-sale-return",
    ),
    path(
        "after-sales/<int:after_sale_id>/cancel",
        views.AfterSaleCancelView.as_view(),
        name="after-sale-cancel",
    ),
    path("stores", views.StoreListView.as_view(), name="store-list"),
]
