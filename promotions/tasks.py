"""Celery tasks of promotions (thin: they call services). Scheduled in CELERY_BEAT_SCHEDULE."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="promotions.tasks.campaign_transitions", all_tenants=True)  # beat sweep
def campaign_transitions() -> dict[str, int]:
    """Start and end scheduled campaigns at their minute (every minute)."""
    from promotions.services import campaign_transitions_run

    return campaign_transitions_run()


@shared_task(name="promotions.tasks.coupon_expiry", all_tenants=True)  # beat sweep
def coupon_expiry() -> int:
    """Mark unused coupons past their end as expired."""
    from promotions.services import coupon_expire_due

    return coupon_expire_due()
