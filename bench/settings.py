"""Benchmark-only settings: production-like (DEBUG off, Redis cache), plus the floor endpoint."""

from mall.settings.base import *  # noqa: F403
from mall.settings.base import env, simple_jwt_settings

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY", default="bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
JWT_SIGNING_KEY = SECRET_KEY
SIMPLE_JWT = simple_jwt_settings(JWT_SIGNING_KEY)
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "bench.urls"
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
