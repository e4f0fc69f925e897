"""Celery application. Tasks are autodiscovered from each app's ``tasks.py``.

The beat schedule lives in one place: ``CELERY_BEAT_SCHEDULE`` in ``mall/settings/base.py``.
"""

from __future__ import annotations

import os

from celery import Celery, Task

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mall.settings.dev")


class MallTask(Task):
    """Base for every task: late ack, bounded retries on network errors only, time limits.

    Tasks must be idempotent: a retry or a redelivery after a worker crash runs them again.
    """

    acks_late = True
    reject_on_worker_lost = True
    autoretry_for = (ConnectionError, TimeoutError)
    retry_backoff = True
    retry_backoff_max = 600
    retry_jitter = True
    max_retries = 5
    time_limit = 300
    soft_time_limit = 240


app = Celery("mall", task_cls=MallTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
