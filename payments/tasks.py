"""Celery tasks of payments: thin wrappers around services."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="payments.tasks.refund_submit")
def refund_submit_task(*, refund_id: int) -> str:
    from payments.services.refunds import refund_submit

    return refund_submit(refund_id=refund_id).status


@shared_task(name="payments.tasks.sync_pending")
def sync_pending() -> dict[str, int]:
    """Fallback query: pending payments and processing refunds the notifications missed."""
    from payments.services.payments import payments_sync_pending
    from payments.services.refunds import refunds_sync_processing

    return {"payments": payments_sync_pending(), "refunds": refunds_sync_processing()}
