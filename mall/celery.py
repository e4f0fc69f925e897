"""Celery application. Tasks are autodiscovered from each app's ``tasks.py``.

The beat schedule lives in one place: ``CELERY_BEAT_SCHEDULE`` in ``mall/settings/base.py``.
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery, Task

from mall.tenancy.scope import all_tenants, tenant_context

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mall.settings.dev")


class MallTask(Task):
    """Base for every task: late ack, bounded retries on network errors only, time limits.

    Tasks must be idempotent: a retry or a redelivery after a worker crash runs them again.

    Tenant scope (row-level security reads it, ``mall.tenancy.scoping``): a task called with a
    ``tenant_id`` keyword runs as that tenant; a task declared ``all_tenants=True`` (beat
    sweeps) runs platform-wide; any other keeps the scope of its caller (the follow-up runner
    sets the row's tenant), which for a bare worker is none: nothing tenant-owned is visible.
    The scope is restored when the task returns.
    """

    all_tenants = False

    acks_late = True
    reject_on_worker_lost = True
    autoretry_for = (ConnectionError, TimeoutError)
    retry_backoff = True
    retry_backoff_max = 600
    retry_jitter = True
    max_retries = 5
    time_limit = 300
    soft_time_limit = 240

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.all_tenants:
            with all_tenants():
                return super().__call__(*args, **kwargs)
        tenant_id = kwargs.get("tenant_id")
        if tenant_id is not None:
            with tenant_context(int(tenant_id)):
                return super().__call__(*args, **kwargs)
        return super().__call__(*args, **kwargs)


app = Celery("mall", task_cls=MallTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
