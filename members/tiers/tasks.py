"""Celery beat task of tiers (thin: it calls the service). Registered from ``MembersConfig``."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="members.tasks.tier_reviews", all_tenants=True)  # beat sweep
def tier_reviews() -> int:
    """Periodic tier reviews that are due (keep or drop one tier); idempotent."""
    from members.tiers.services import tier_reviews_run_all

    return tier_reviews_run_all()
