"""Write paths of promotions: coupons (claim, issue, lock/use/release, expiry) and campaigns
(status transitions, budget and flash-sale quota consumption)."""

from promotions.services.campaigns import (
    campaign_budget_consume,
    campaign_budget_release,
    campaign_cancel,
    campaign_discounts_consume,
    campaign_schedule,
    campaign_transitions_run,
    flash_sale_consume,
)
from promotions.services.coupons import (
    CouponIssueResult,
    coupon_claim,
    coupon_expire_due,
    coupon_issue_to_members,
    coupon_issue_to_segment,
    coupon_lock,
    coupon_release,
    coupon_use,
)

__all__ = [
    "CouponIssueResult",
    "campaign_budget_consume",
    "campaign_budget_release",
    "campaign_cancel",
    "campaign_discounts_consume",
    "campaign_schedule",
    "campaign_transitions_run",
    "coupon_claim",
    "coupon_expire_due",
    "coupon_issue_to_members",
    "coupon_issue_to_segment",
    "coupon_lock",
    "coupon_release",
    "coupon_use",
    "flash_sale_consume",
]
