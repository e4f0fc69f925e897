"""Settings are driven by the environment: checked in fresh interpreters (subprocesses)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
# Variables that would leak the caller's configuration into the child.
CONFIG_VARS = (
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "JWT_SIGNING_KEY",
    "DEBUG",
    "DJANGO_SETTINGS_MODULE",
    "CELERY_BROKER_URL",
    "CELERY_RESULT_BACKEND",
    "CELERY_TASK_ALWAYS_EAGER",
    "ALLOWED_HOSTS",
    "SECURE_SSL_REDIRECT",
    "DB_PREPARED_STATEMENTS",
)
PRINT_SETTINGS = """
import json, django
django.setup()
from django.conf import settings as s
from mall.celery import app
print(json.dumps({
    "debug": s.DEBUG,
    "db_engine": s.DATABASES["default"]["ENGINE"],
    "db_name": str(s.DATABASES["default"]["NAME"]),
    "cache": s.CACHES["default"]["BACKEND"],
    "cache_location": s.CACHES["default"].get("LOCATION"),
    "eager": s.CELERY_TASK_ALWAYS_EAGER,
    "app_eager": app.conf.task_always_eager,
    "broker": app.conf.broker_url,
    "result_backend": app.conf.result_backend,
    "db_options": s.DATABASES["default"].get("OPTIONS", {}),
}))
"""

pytestmark = pytest.mark.slow


def strong_secret() -> str:
    return "prod-" + secrets.token_urlsafe(60)


def run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    child_env = {k: v for k, v in os.environ.items() if k not in CONFIG_VARS}
    child_env["MALL_READ_DOTENV"] = "0"  # a developer's .env must not change the answers
    child_env.update(env)
    return subprocess.run(
        [sys.executable, *args],
        cwd=BASE_DIR,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def settings_of(**env: str) -> dict[str, Any]:
    result = run(["-c", PRINT_SETTINGS], **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_prod_refuses_to_start_without_secret_key() -> None:
    result = run(
        ["-c", "import django; django.setup()"], DJANGO_SETTINGS_MODULE="mall.settings.prod"
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


def test_prod_refuses_a_short_secret_key() -> None:
    result = run(
        ["-c", "import django; django.setup()"],
        DJANGO_SETTINGS_MODULE="mall.settings.prod",
        SECRET_KEY="too-short",
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr


def test_prod_passes_the_deploy_checks_with_a_secret_key() -> None:
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        DJANGO_SETTINGS_MODULE="mall.settings.prod",
        SECRET_KEY=strong_secret(),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_prod_is_not_debug() -> None:
    values = settings_of(
        DJANGO_SETTINGS_MODULE="mall.settings.prod", SECRET_KEY=strong_secret(), DEBUG="1"
    )
    assert values["debug"] is False


@pytest.mark.parametrize("module", ["mall.settings.dev", "mall.settings.prod"])
def test_without_urls_sqlite_locmem_and_eager_celery(module: str) -> None:
    values = settings_of(DJANGO_SETTINGS_MODULE=module, SECRET_KEY=strong_secret())
    assert values["db_engine"] == "django.db.backends.sqlite3"
    assert values["db_name"].endswith("db.sqlite3")
    assert values["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert values["eager"] is True and values["app_eager"] is True
    assert values["broker"] == "memory://"


@pytest.mark.parametrize("module", ["mall.settings.dev", "mall.settings.prod"])
def test_with_urls_postgresql_redis_cache_and_broker(module: str) -> None:
    values = settings_of(
        DJANGO_SETTINGS_MODULE=module,
        SECRET_KEY=strong_secret(),
        DATABASE_URL="postgres://mall:pw@db.example:5432/mall",
        REDIS_URL="redis://cache.example:6379/2",
    )
    assert values["db_engine"] == "mall.db.postgresql"  # Django's, cheaper health check
    assert values["db_name"] == "mall"
    assert values["cache"] == "mall.cache.DegradableRedisCache"  # django-redis, degraded mode
    assert values["cache_location"] == "redis://cache.example:6379/2"
    assert values["eager"] is False and values["app_eager"] is False
    assert values["broker"] == "redis://cache.example:6379/2"
    assert values["result_backend"] == "redis://cache.example:6379/2"


@pytest.mark.parametrize(
    ("flag", "options"),
    [
        (None, {"server_side_binding": True, "prepare_threshold": 5}),
        ("0", {}),  # behind a pooler in transaction mode
    ],
)
def test_postgresql_keeps_hot_statements_prepared_unless_turned_off(
    flag: str | None, options: dict
) -> None:
    env = {"DB_PREPARED_STATEMENTS": flag} if flag is not None else {}
    values = settings_of(
        DJANGO_SETTINGS_MODULE="mall.settings.prod",
        SECRET_KEY=strong_secret(),
        DATABASE_URL="postgres://mall:pw@db.example:5432/mall",
        **env,
    )
    assert values["db_options"] == options


def test_dev_is_debug_and_runs_without_any_configuration() -> None:
    values = settings_of(DJANGO_SETTINGS_MODULE="mall.settings.dev")
    assert values["debug"] is True
