from django.urls import path

from members.api import card_views, checkin_views, points_views, tier_views, views

app_name = "members"

urlpatterns = [
    path("auth/wechat/login", views.WeChatLoginView.as_view(), name="auth-wechat-login"),
    path("auth/alipay/login", views.AlipayLoginView.as_view(), name="auth-alipay-login"),
    path("auth/refresh", views.TokenRefreshView.as_view(), name="auth-refresh"),
    path("me", views.MeView.as_view(), name="me"),
    path("me/phone", views.MePhoneView.as_view(), name="me-phone"),
    path("me/addresses", views.AddressListCreateView.as_view(), name="address-list"),
    path("me/points", points_views.MePointsView.as_view(), name="me-points"),
    path("me/check-in", checkin_views.MeCheckInView.as_view(), name="me-check-in"),
    path("me/addresses/<int:pk>", views.AddressDetailView.as_view(), name="address-detail"),
    path("me/tier", tier_views.MeTierView.as_view(), name="me-tier"),
    path("me/card", tier_views.MeCardView.as_view(), name="me-card"),
    path("member-cards", card_views.MemberCardPlanListView.as_view(), name="member-card-list"),
]
