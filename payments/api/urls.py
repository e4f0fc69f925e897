from django.urls import path

from payments.api import card_views, views

app_name = "payments"

urlpatterns = [
    path("orders/<str:number>/pay", views.OrderPayView.as_view(), name="order-pay"),
    path(
        "member-cards/<int:plan_id>/purchase",
        card_views.MemberCardPurchaseView.as_view(),
        name="member-card-purchase",
    ),
    path(
        "payments/notify/wechat/<slug:slug>",
        views.WeChatNotifyView.as_view(),
        name="notify-wechat",
    ),
    path(
        "payments/notify/wechat/<slug:slug>/refund",
        views.WeChatRefundNotifyView.as_view(),
        name="notify-wechat-refund",
    ),
    path(
        "payments/notify/wechat/<slug:slug>/transfer",
        views.WeChatTransferNotifyView.as_view(),
        name="notify-wechat-transfer",
    ),
    path(
        "payments/notify/alipay/<slug:slug>",
        views.AlipayNotifyView.as_view(),
        name="notify-alipay",
    ),
    path(
        "payments/notify/sandbox/<slug:slug>",
        views.SandboxNotifyView.as_view(),
        name="notify-sandbox",
    ),
    path(
        "payments/payouts/<str:out_bill_no>",
        views.PayoutDetailView.as_view(),
        name="payout-detail",
    ),
    path(
        "payments/sandbox/<str:out_trade_no>/complete",
        views.SandboxCompleteView.as_view(),
        name="sandbox-complete",
    ),
]
