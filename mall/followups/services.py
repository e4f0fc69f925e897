"""Follow-ups: the transactional outbox for work that must happen after a state change.

A service that changes state calls :func:`follow_up` inside its transaction (commissions when
an order is paid, their reversal on a refund, a refund's submission to the gateway, closing a
cancelled order's trades, a shipping upload ...). The row commits with the change, or not at
all. After commit the row is published to Celery (:func:`followups_publish`); when that fails
(broker down) the request still succeeds, and the beat sweep (:func:`followups_relay`)
publishes it again. A worker runs it through :func:`followup_run`, which leases the row, calls
the task it names in-process and marks it done; an error or a killed worker leaves it pending
for the sweep, with a backoff. So the work happens at least once, and the tasks are idempotent,
so it takes effect exactly once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from mall import lock_objects
from mall.followups.models import FOLLOW_UP_TRANSITIONS, FollowUp
from mall.tenancy.models import Tenant
from mall.tenancy.scoping import tenant_context
from mall.transitions import transition_update

logger = logging.getLogger(__name__)

RUN_TASK = "mall.tasks.followup_run"
S = FollowUp.Status


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def lease_seconds() -> int:
    """How long a runner holds a row: above the longest task time limit (a killed worker's
    row is published again once it runs out)."""
    return _setting("MALL_FOLLOWUP_LEASE_SECONDS", 360)


def republish_after_seconds() -> int:
    """A published row not run by then (the worker died or the message was lost) is published
    again by the sweep."""
    return _setting("MALL_FOLLOWUP_REPUBLISH_SECONDS", 300)


def max_attempts() -> int:
    return _setting("MALL_FOLLOWUP_MAX_ATTEMPTS", 12)


def backoff(attempts: int) -> timedelta:
    """30 s, 1, 2, 4 ... minutes, at most an hour."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def follow_up(
    *, tenant: Tenant | int, task: str, key: str, kwargs: dict[str, Any] | None = None
) -> FollowUp:
    """Record work to do after the current transaction commits, and publish it then.

    ``key`` names the work: while a row with that key is pending, recording it again only
    refreshes its arguments; once it is done (or failed), recording it arms it again."""
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    key = key[:200]
    now = timezone.now()
    values = {"task": task, "kwargs": kwargs or {}}
    with transaction.atomic():
        row = lock_objects.followup_qs_for_update(tenant=tenant_id, key=key).first()
        if row is None:
            try:
                with transaction.atomic():
                    row = FollowUp.objects.create(
                        tenant_id=tenant_id, key=key, due_at=now, **values
                    )
            except IntegrityError:  # recorded meanwhile by a concurrent transaction
                row = lock_objects.followup_qs_for_update(tenant=tenant_id, key=key).get()
        if row.status != S.PENDING or row.kwargs != values["kwargs"] or row.task != task:
            if row.status != S.PENDING:
                row.attempts = 0
                row.last_error = ""
                row.done_at = None
                row.locked_until = None
            row.status = S.PENDING
            row.task = task
            row.kwargs = values["kwargs"]
            row.due_at = now
            row.published_at = None
            row.save()
    row_id = row.pk
    transaction.on_commit(lambda: followups_publish([row_id]))
    return row


def _task(name: str) -> Any:
    """The Celery task registered under ``name`` (importing the apps' task modules first
    when this process has not yet: a web process imports them only on demand)."""
    from celery.exceptions import NotRegistered

    from mall.celery import app

    try:
        return app.tasks[name]
    except NotRegistered:
        app.loader.import_default_modules()
        return app.tasks[name]


def followups_publish(ids: Iterable[int]) -> int:
    """Hand rows to Celery; never raises (a broker outage leaves them to the sweep).

    Returns how many were published."""
    from mall.celery import app

    runner = _task(RUN_TASK)
    published = 0
    for followup_id in ids:
        try:
            runner.apply_async(kwargs={"followup_id": followup_id}, retry=False)
        except Exception:  # any publish failure: the sweep tries again
            logger.warning(
                "follow-up %s not published (broker unreachable?); the sweep will retry",
                followup_id,
                exc_info=True,
            )
            continue
        published += 1
        if not getattr(app.conf, "task_always_eager", False):
            FollowUp.objects.all_tenants().filter(pk=followup_id, status=S.PENDING).update(
                published_at=timezone.now()
            )
    return published


def _claim(followup_id: int, now: datetime) -> FollowUp | None:
    """Lease a pending row (conditional UPDATE: one runner at a time); None when another
    runner holds it or it is no longer pending."""
    # The message names the row only: finding its tenant is platform-wide.
    claimed = (
        FollowUp.objects.all_tenants()
        .filter(pk=followup_id, status=S.PENDING)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lte=now))
        .update(
            locked_until=now + timedelta(seconds=lease_seconds()),
            attempts=F("attempts") + 1,
        )
    )
    if not claimed:
        return None
    return FollowUp.objects.all_tenants().get(pk=followup_id)


def followup_run(*, followup_id: int, now: datetime | None = None) -> str:
    """Run one follow-up to the end (the worker side). Returns its status afterwards."""
    now = now or timezone.now()
    row = _claim(followup_id, now)
    if row is None:
        return "skipped"
    try:
        with tenant_context(row.tenant_id):
            _task(row.task)(**row.kwargs)
    except Exception as exc:  # recorded on the row; the sweep retries
        failed = row.attempts >= max_attempts()
        logger.log(
            logging.ERROR if failed else logging.WARNING,
            "follow-up %s (%s %s) failed on attempt %s%s",
            row.pk,
            row.task,
            row.key,
            row.attempts,
            ": giving up" if failed else "",
            exc_info=True,
        )
        # The claimed row is pending: it stays so (retried) or fails (FOLLOW_UP_TRANSITIONS).
        FollowUp.objects.for_tenant(row.tenant_id).filter(pk=row.pk).update(
            status=S.FAILED if failed else S.PENDING,
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
            due_at=timezone.now() + backoff(row.attempts),
            locked_until=None,
            published_at=None,
        )
        return S.FAILED if failed else S.PENDING
    transition_update(
        FollowUp.objects.for_tenant(row.tenant_id).filter(pk=row.pk),
        FOLLOW_UP_TRANSITIONS,
        S.DONE,
        done_at=timezone.now(),
        locked_until=None,
        last_error="",
    )
    return S.DONE


def followups_due(*, now: datetime, limit: int = 500) -> list[int]:
    """Pending rows the sweep must publish: due, not leased, and never published or
    published long enough ago that their message was lost."""
    stale = now - timedelta(seconds=republish_after_seconds())
    return list(
        FollowUp.objects.all_tenants()  # the relay is platform-wide
        .filter(status=S.PENDING, due_at__lte=now)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lte=now))
        .filter(Q(published_at__isnull=True) | Q(published_at__lte=stale))
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def followups_relay(*, now: datetime | None = None, limit: int = 500) -> int:
    """Beat: publish what is due again. Returns how many were published."""
    return followups_publish(followups_due(now=now or timezone.now(), limit=limit))


def followup_retry(*, tenant: Tenant | int, followup_id: int) -> bool:
    """Console/operator: give a failed follow-up a new round of attempts."""
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    moved = transition_update(
        FollowUp.objects.for_tenant(tenant_id).filter(pk=followup_id, status=S.FAILED),
        FOLLOW_UP_TRANSITIONS,
        S.PENDING,
        attempts=0,
        due_at=timezone.now(),
        published_at=None,
    )
    if moved:
        transaction.on_commit(lambda: followups_publish([followup_id]))
    return bool(moved)
