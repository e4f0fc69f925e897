from django.urls import path

from orders.api import merchant_views as views

app_name = "orders_merchant"

urlpatterns = [
    path("orders", views.MerchantOrderListView.as_view(), name="order-list"),
    path("orders/<str:number>", views.MerchantOrderDetailView.as_view(), name="order-detail"),
    path("orders/<str:number>/ship", views.MerchantOrderShipView.as_view(), name="order-ship"),
    path(
        "after-sales/<int:after_sale_id>/approve",
        views.MerchantAfterSaleApproveView.as_view(),
        name="after-sale-approve",
    ),
    path(
        "after-sales/<int:after_sale_id>/reject",
        views.MerchantAfterSaleRejectView.as_view(),
        name="after-sale-reject",
    ),
    path(
        "after-sales/<int:after_sale_id>/receive",
        views.MerchantAfterSaleReceiveView.as_view(),
        name="after-sale-receive",
    ),
    path(
        "after-sales/<int:after_sale_id>/refund",
        views.MerchantAfterSaleRefundView.as_view(),
        name="after-sale-refund",
    ),
    path(
        "after-sales/<int:after_sale_id>/abort-refund",
        views.MerchantAfterSaleAbortRefundView.as_view(),
        name="after-sale-abort-refund",
    ),
]
