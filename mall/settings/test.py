"""Tests: SQLite unless DATABASE_URL is set (CI sets it to PostgreSQL), fast hashing."""

import os
from urllib.parse import urlsplit

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = "test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFG"
JWT_SIGNING_KEY = "test-jwt-signing-key-0123456789abcdefghijklmnopqrstuvwxyz"
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MALL_ALLOW_SANDBOX = True
# Tests talk to local fakes only.
WECHAT_API_BASE_URL = env.str("WECHAT_API_BASE_URL", default="http://127.0.0.1:9/wechat")
WECHATPAY_API_BASE_URL = env.str("WECHATPAY_API_BASE_URL", default="http://127.0.0.1:9/wechatpay")
ALIPAY_GATEWAY_URL = env.str("ALIPAY_GATEWAY_URL", default="http://127.0.0.1:9/alipay")
# Celery stays eager in tests even with REDIS_URL; the broker smoke test runs a real worker.
CELERY_TASK_ALWAYS_EAGER = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Tests assert the English source text unless they ask for another language (Accept-Language,
# ``settings`` fixture); tests/console/test_i18n.py checks the real default (zh-hans).
LANGUAGE_CODE = "en"
LOGGING["root"]["level"] = "WARNING"  # noqa: F405

SIMPLE_JWT = simple_jwt_settings(JWT_SIGNING_KEY)  # noqa: F405

# Parallel runs (pytest-xdist) give each worker its own test database; give each its own Redis
# database too (tests clear the cache, which flushes the whole Redis database).
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _worker.startswith("gw") and CACHES["default"]["BACKEND"].endswith("RedisCache"):  # noqa: F405
    _url = urlsplit(CACHES["default"]["LOCATION"])  # noqa: F405
    _db = _url.path.strip("/")
    _index = ((int(_db) if _db.isdigit() else 0) + 1 + int(_worker[2:])) % 16
    CACHES["default"]["LOCATION"] = _url._replace(path=f"/{_index}").geturl()  # noqa: F405
