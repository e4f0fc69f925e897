"""Celery: task defaults, the beat schedule, and a real worker behind the Redis broker."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from celery import Celery
from celery.schedules import schedule as celery_schedule
from django.conf import settings

from mall.celery import MallTask, app
from mall.tasks import ping

BASE_DIR = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("REDIS_URL", "")
# The smoke test uses its own Redis database, so tests that clear the cache (FLUSHDB on the
# test run's REDIS_URL database) cannot remove its queue or result mid-flight.
SMOKE_REDIS_DB = os.environ.get("CELERY_SMOKE_REDIS_DB", "15")


def smoke_redis_url() -> str:
    parts = urlsplit(REDIS_URL)
    return urlunsplit((parts.scheme, parts.netloc, f"/{SMOKE_REDIS_DB}", parts.query, ""))


def test_tasks_use_the_mall_base_with_bounded_retries_and_time_limits() -> None:
    task = app.tasks["mall.tasks.ping"]
    assert isinstance(task, MallTask)
    assert task.acks_late is True
    assert task.reject_on_worker_lost is True
    assert set(task.autoretry_for) == {ConnectionError, TimeoutError}
    assert 0 < task.max_retries <= 10
    assert 0 < task.soft_time_limit < task.time_limit


def test_ping_runs_inline_when_eager() -> None:
    assert settings.CELERY_TASK_ALWAYS_EAGER is True
    assert ping.delay("hello").get(timeout=5) == "hello"


def test_beat_schedule_names_only_registered_tasks() -> None:
    app.loader.import_default_modules()  # what a worker does at start: autodiscover tasks.py
    registered = set(app.tasks)
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule, "the beat schedule is empty"
    assert app.conf.beat_schedule == schedule
    for name, entry in schedule.items():
        assert entry["task"] in registered, f"beat entry {name!r} names unknown {entry['task']!r}"
        assert isinstance(entry["schedule"], timedelta | celery_schedule | int | float), name


@pytest.mark.redis
@pytest.mark.slow
@pytest.mark.skipif(not REDIS_URL, reason="needs a real Redis broker: set REDIS_URL (CI does)")
def test_real_worker_runs_a_task_sent_through_the_broker(tmp_path: Path) -> None:
    import redis

    url = smoke_redis_url()
    queue = f"smoke-{uuid.uuid4().hex}"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="mall.settings.prod",  # the worker as deployed: not eager
        SECRET_KEY="smoke-" + secrets.token_urlsafe(60),
        REDIS_URL=url,
        CELERY_TASK_ALWAYS_EAGER="0",
        MALL_READ_DOTENV="0",
    )
    log_path = tmp_path / "worker.log"
    client = Celery("smoke", broker=url, backend=url)
    client.conf.update(task_always_eager=False, broker_connection_retry_on_startup=True)
    with log_path.open("w") as log:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "mall",
                "worker",
                "--pool=solo",
                "-Q",
                queue,
                "-n",
                f"{queue}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=INFO",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        result = None
        try:
            result = client.send_task("mall.tasks.ping", args=["through-the-broker"], queue=queue)
            try:
                value: Any = result.get(timeout=90)
            except Exception as exc:
                pytest.fail(
                    f"no result from the worker ({exc!r}); its log:\n{log_path.read_text()}"
                )
            assert value == "through-the-broker"
            assert result.status == "SUCCESS"
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(timeout=10)
            client.close()
            conn = redis.Redis.from_url(url)
            conn.delete(queue)
            if result is not None:
                conn.delete(f"celery-task-meta-{result.id}")
            conn.close()
    assert "ready" in log_path.read_text()
