"""Tests: SQLite unless DATABASE_URL is set (CI sets it to PostgreSQL), fast hashing."""

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
LOGGING["root"]["level"] = "WARNING"  # noqa: F405

SIMPLE_JWT = simple_jwt_settings(JWT_SIGNING_KEY)  # noqa: F405
