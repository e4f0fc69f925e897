from django.urls import path

from promotions.api import views

app_name = "promotions"

urlpatterns = [
    path("checkout/quote", views.CheckoutQuoteView.as_view(), name="checkout-quote"),
    path("campaigns", views.CampaignListView.as_view(), name="campaign-list"),
    path("coupons", views.CouponTemplateListView.as_view(), name="coupon-template-list"),
    path("coupons/<int:template_id>/claim", views.CouponClaimView.as_view(), name="coupon-claim"),
    path("me/coupons", views.MyCouponListView.as_view(), name="my-coupon-list"),
]
