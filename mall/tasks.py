"""Platform-level Celery tasks (thin wrappers around services)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="mall.tasks.ping")
def ping(value: str = "pong") -> str:
    """Echo a value: used by the broker smoke test and health checks."""
    return value


@shared_task(name="mall.tasks.idempotency_purge", all_tenants=True)  # beat sweep
def idempotency_purge() -> int:
    """Delete idempotency records older than the configured TTL."""
    from mall.api.idempotency import idempotency_purge_expired

    return idempotency_purge_expired()


@shared_task(name="mall.tasks.followup_run")
def followup_run(*, followup_id: int) -> str:
    """Run one recorded follow-up (published after commit and by the relay sweep)."""
    from mall.followups.services import followup_run as run

    return run(followup_id=followup_id)


@shared_task(name="mall.tasks.followups_relay", all_tenants=True)  # beat sweep
def followups_relay() -> int:
    """Beat: publish the follow-ups that are due and were never (or long ago) published."""
    from mall.followups.services import followups_relay as relay

    return relay()
