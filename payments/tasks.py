"""Celery tasks of payments: thin wrappers around services."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="payments.tasks.refund_submit")
def refund_submit_task(*, refund_id: int) -> str:
    from payments.refunds.services import refund_submit

    return refund_submit(refund_id=refund_id).status


@shared_task(name="payments.tasks.sync_pending", all_tenants=True)  # beat sweep
def sync_pending() -> dict[str, int]:
    """Fallback query: pending payments, processing refunds and unfinished payouts the
    notifications missed."""
    from payments.collection.services import payments_sync_pending
    from payments.payouts.services import payouts_sync
    from payments.refunds.services import refunds_sync_processing

    return {
        "payments": payments_sync_pending(),
        "refunds": refunds_sync_processing(),
        "payouts": payouts_sync(),
    }


@shared_task(name="payments.tasks.payout_submit")
def payout_submit_task(*, payout_id: int) -> str:
    from payments.payouts.services import payout_submit

    return payout_submit(payout_id=payout_id).status


@shared_task(name="payments.tasks.close_for_payable")
def close_for_payable(*, tenant_id: int, purpose: str, reference: str) -> int:
    """The payable was cancelled: close its unpaid gateway trades (called after commit)."""
    from mall.tenancy.models import Tenant
    from payments.collection.services import payment_close_for

    tenant = Tenant.objects.get(pk=tenant_id)
    return len(payment_close_for(tenant, purpose, reference))


@shared_task(name="payments.tasks.shipping_upload")
def shipping_upload_task(*, upload_id: int) -> str:
    from payments.shipping.services import shipping_upload_submit

    return shipping_upload_submit(upload_id=upload_id).status


@shared_task(name="payments.tasks.shipping_uploads_retry", all_tenants=True)  # beat sweep
def shipping_uploads_retry() -> int:
    """Beat: upload the WeChat shipping information still pending and due (backoff)."""
    from payments.shipping.services import shipping_uploads_retry as retry

    return retry()


@shared_task(name="payments.tasks.reconcile_daily", all_tenants=True)  # beat sweep
def reconcile_daily() -> int:
    """Beat (hourly): reconcile yesterday's gateway bills once they are published."""
    from payments.reconciliation.services import reconcile_yesterday_all

    return reconcile_yesterday_all()


@shared_task(name="payments.tasks.settle_completed", all_tenants=True)  # beat sweep
def settle_completed() -> int:
    """Beat: profit sharing and the settlement ledger of completed orders."""
    from payments.profit_sharing.services import settlements_run

    return settlements_run()
