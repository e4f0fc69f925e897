from django.urls import path

from distribution.api import views

app_name = "distribution"

urlpatterns = [
    path("distribution/apply", views.ApplyView.as_view(), name="apply"),
    path("distribution/bind", views.BindView.as_view(), name="bind"),
    path("distribution/me", views.MeView.as_view(), name="me"),
    path("distribution/team", views.TeamView.as_view(), name="team"),
    path("distribution/commissions", views.CommissionListView.as_view(), name="commissions"),
    path("distribution/withdrawals", views.WithdrawalsView.as_view(), name="withdrawals"),
    path("distribution/poster", views.PosterView.as_view(), name="poster"),
]
