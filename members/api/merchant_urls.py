from django.urls import path

from members.api import merchant_views, points_views

app_name = "members_merchant"

urlpatterns = [
    path("members", merchant_views.MerchantMemberListView.as_view(), name="member-list"),
    path(
        "members/<int:pk>", merchant_views.MerchantMemberDetailView.as_view(), name="member-detail"
    ),
    path(
        "members/<int:pk>/points",
        points_views.MerchantMemberPointsView.as_view(),
        name="member-points",
    ),
]
