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


@shared_task(name="promotions.tasks.member_coupon_packs", all_tenants=True)  # beat sweep
def member_coupon_packs() -> int:
    """Paid-card and tier coupon packs and birthday gifts due (idempotent per period)."""
    from promotions.services.member_packs import member_packs_issue_all

    return member_packs_issue_all()


@shared_task(name="promotions.tasks.member_card_pack")
def member_card_pack(*, tenant_id: int, member_id: int) -> int:
    """Follow-up of a paid card purchase: the pack of the current card month (idempotent)."""
    from mall.tenancy.models import Tenant
    from promotions.services.member_packs import card_packs_issue

    tenant = Tenant.objects.get(pk=tenant_id)
    return card_packs_issue(tenant=tenant, member_ids=[member_id])
