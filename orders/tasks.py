"""Celery beat tasks of orders: thin wrappers over orders.services.jobs."""

from __future__ import annotations

from celery import shared_task

from orders.services import jobs
from orders.services.after_sales import after_sale_refund_request as refund_request


@shared_task(name="orders.tasks.cancel_expired_orders", all_tenants=True)  # beat sweep
def cancel_expired_orders() -> int:
    return jobs.orders_cancel_expired()


@shared_task(name="orders.tasks.auto_receive_orders", all_tenants=True)  # beat sweep
def auto_receive_orders() -> int:
    return jobs.orders_auto_receive()


@shared_task(name="orders.tasks.complete_orders", all_tenants=True)  # beat sweep
def complete_orders() -> int:
    return jobs.orders_complete_due()


@shared_task(name="orders.tasks.member_growth_from_orders", all_tenants=True)  # beat sweep
def member_growth_from_orders() -> int:
    """Member growth for orders whose after-sale window closed (idempotent per order)."""
    return jobs.orders_growth_due()


@shared_task(name="orders.tasks.after_sale_refund_request")
def after_sale_refund_request(*, tenant_id: int, after_sale_id: int) -> bool:
    """Follow-up of an approved refund: ask payments for it (idempotent)."""
    return refund_request(tenant_id=tenant_id, after_sale_id=after_sale_id)
