"""Celery tasks of members (thin: they call services). Scheduled in CELERY_BEAT_SCHEDULE."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="members.tasks.rfm_refresh", all_tenants=True)  # beat sweep (nightly)
def rfm_refresh() -> dict[str, int]:
    """Every tenant's RFM rows and scores (set-based)."""
    from members.segments.services import rfm_refresh_all

    return rfm_refresh_all()


@shared_task(name="members.tasks.automation_sweep", all_tenants=True)  # beat sweep
def automation_sweep() -> dict[str, int]:
    """Swept automation triggers, then every rule's pending executions."""
    from members.automation.services import automation_sweep as sweep

    return sweep()


@shared_task(name="members.tasks.automation_run")
def automation_run(tenant_id: int) -> dict[str, int]:
    """Follow-up of ``automation_trigger``: run the tenant's pending executions."""
    from members.automation.services import automation_run_tenant

    return automation_run_tenant(tenant=tenant_id)


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
