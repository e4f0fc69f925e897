"""Development: DEBUG on, embedded defaults (SQLite, local-memory cache, eager Celery)."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = SECRET_KEY or "dev-insecure-secret-key-change-me-0123456789abcdefghijklmnop"  # noqa: F405
JWT_SIGNING_KEY = JWT_SIGNING_KEY or SECRET_KEY  # noqa: F405
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["*"])

SIMPLE_JWT = simple_jwt_settings(JWT_SIGNING_KEY)  # noqa: F405
