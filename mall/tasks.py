"""Platform-level Celery tasks (thin wrappers around services)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="mall.tasks.ping")
def ping(value: str = "pong") -> str:
    """Echo a value: used by the broker smoke test and health checks."""
    return value


@shared_task(name="mall.tasks.idempotency_purge")
def idempotency_purge() -> int:
    """Delete idempotency records older than the configured TTL."""
    from mall.api.idempotency import idempotency_purge_expired

    return idempotency_purge_expired()
