from django.urls import path

from members.api import merchant_views, points_views, segment_views

app_name = "members_merchant"

urlpatterns = [
    path("members", merchant_views.MerchantMemberListView.as_view(), name="member-list"),
    path(
        "members/<int:pk>", merchant_views.MerchantMemberDetailView.as_view(), name="member-detail"
    ),
    path(
        "members/<int:pk>/tags",
        segment_views.MerchantMemberTagsView.as_view(),
        name="member-tags",
    ),
    path("tags", segment_views.MerchantTagListView.as_view(), name="tag-list"),
    path(
        "tags/<int:tag_id>/members",
        segment_views.MerchantTagApplyView.as_view(),
        name="tag-members-add",
    ),
    path(
        "tags/<int:tag_id>/members/remove",
        segment_views.MerchantTagRemoveView.as_view(),
        name="tag-members-remove",
    ),
    path(
        "members/<int:pk>/points",
        points_views.MerchantMemberPointsView.as_view(),
        name="member-points",
    ),
]
