"""Celery beat tasks of members (thin: they call services). Scheduled in CELERY_BEAT_SCHEDULE."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="members.tasks.points_expire", all_tenants=True)  # beat sweep
def points_expire() -> int:
    """Expire every shop's points lots past their expiry (set-based batches)."""
    from members.points.services import points_expire_due

    return points_expire_due()


@shared_task(name="members.tasks.points_expiry_notify", all_tenants=True)  # beat sweep
def points_expiry_notify() -> int:
    """Record ``points.expiring`` for lots expiring within 7 days (once per lot)."""
    from members.points.services import points_expiry_notify as notify

    return notify()
