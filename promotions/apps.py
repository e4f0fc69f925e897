from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PromotionsConfig(AppConfig):
    name = "promotions"
    verbose_name = _("Marketing")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        import promotions.selectors  # noqa: F401  (registers cache-invalidation receivers)
        from catalog.hooks import register_shopper_pricing
        from members.automation.hooks import register_coupon_issuer
        from members.checkin.rewards import register_coupon_handler
        from members.services.merge import register_merge_handler
        from promotions.api.product_pricing import ProductPricing
        from promotions.member_automation import CouponIssuer
        from promotions.models import Coupon
        from promotions.services.coupons import coupon_grant_for_checkin
        from promotions.services.merge import coupons_merge

        register_merge_handler(Coupon, coupons_merge)
        register_shopper_pricing(ProductPricing())
        register_coupon_issuer(CouponIssuer())
        register_coupon_handler(coupon_grant_for_checkin)

        from members.wiring import birthday_points
        from promotions.services.member_packs import register_points_granter

        register_points_granter(birthday_points)  # a tier's birthday gift in points
