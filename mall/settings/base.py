"""Settings shared by every environment. Everything comes from the environment.

Embedded defaults: no ``DATABASE_URL`` means a SQLite file, no ``REDIS_URL`` means a
local-memory cache and eager Celery, so ``manage.py runserver`` works on a bare machine.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# A local .env fills in what the environment does not set (MALL_READ_DOTENV=0 skips it, e.g.
# for tests that must see the embedded defaults).
if env.bool("MALL_READ_DOTENV", default=True):
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # The console's theme (django-unfold; its templates override the stock admin's, so it comes
    # first). Its default app config also makes /admin/ an UnfoldAdminSite.
    "unfold",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "mptt",
    "mall.apps.MallConfig",
    "catalog",
    "members",
    "promotions",
    "orders",
    "payments",
    "distribution",
    # unfold's form widgets (the product description's WYSIWYG editor: templates and assets).
    "unfold.contrib.forms",
]

MIDDLEWARE = [
    "mall.api.middleware.ErrorResponseMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "mall.api.middleware.BodySizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "mall.tenancy.middleware.TenantMiddleware",
    "mall.console.i18n.ConsoleLanguageMiddleware",  # after TenantMiddleware (request.staff)
]

ROOT_URLCONF = "mall.urls"

# --- Console theme (django-unfold; docs/console.md) ---------------------------------------
# One configuration for both admin sites: the console (mall/console/site.py) fixes its own
# header and builds its menu from its registry; /admin/ (platform operators) keeps the
# list of all applications. All assets are bundled by unfold and served locally (no CDN).
UNFOLD = {
    "SITE_TITLE": "mall.console.menu.site_title",
    "SITE_HEADER": "mall.console.menu.site_title",
    "SITE_URL": None,
    "SITE_SYMBOL": "storefront",
    "SHOW_VIEW_ON_SITE": False,
    "SHOW_LANGUAGES": True,
    "LANGUAGES": {"action": "mall.console.i18n.language_action"},
    "SHOW_HISTORY": True,
    "SIDEBAR": {
        "show_search": False,
        "command_search": False,
        "show_all_applications": "mall.console.menu.show_all_applications",
        "navigation": "mall.console.menu.sidebar_navigation",
    },
}
WSGI_APPLICATION = "mall.wsgi.application"
ASGI_APPLICATION = "mall.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend with a cheaper per-request health check (mall/db/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "mall.db.postgresql"
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Server-side parameter binding, and statements a connection has run 5 times kept prepared:
    # PostgreSQL then skips parsing and planning the hot reads (its CPU per quote fell from
    # ~0.95 to ~0.32 ms in bench/pricing.py). Turn off behind a pooler in transaction mode
    # (PgBouncer < 1.21), which cannot keep a connection's prepared statements.
    if env.bool("DB_PREPARED_STATEMENTS", default=True):
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            server_side_binding=True, prepare_threshold=5
        )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and Celery -----------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")


def redis_cache_settings(url: str) -> dict:
    """The shared cache on Redis at ``url``, in degraded mode when Redis does not answer
    (``mall.cache``: misses, reads from the database). Short socket timeouts so an unreachable
    Redis costs milliseconds, not a hung request."""
    return {
        "BACKEND": "mall.cache.DegradableRedisCache",
        "LOCATION": url,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="mall"),
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "SOCKET_CONNECT_TIMEOUT": env.float("REDIS_SOCKET_CONNECT_TIMEOUT", default=0.5),
            "SOCKET_TIMEOUT": env.float("REDIS_SOCKET_TIMEOUT", default=1.0),
        },
    }


if REDIS_URL:
    CACHES = {"default": redis_cache_settings(REDIS_URL)}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "mall",
        }
    }

# After Redis failed to answer, the cache stops trying it for this many seconds (per process).
MALL_CACHE_RETRY_SECONDS = env.float("MALL_CACHE_RETRY_SECONDS", default=5)
# The Retry-After (seconds) of 503 service_unavailable answers (database or Redis unreachable).
MALL_RETRY_AFTER_SECONDS = env.int("MALL_RETRY_AFTER_SECONDS", default=5)

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL or None)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis broker: a message taken by a worker that dies (SIGKILL, OOM) goes back to the queue
# after ``visibility_timeout``. Redis's default is an hour; ours is above the longest task time
# limit (CELERY_TASK_TIME_LIMIT, 300 s) so a slow task is never run twice while it runs, and far
# below an hour. Short socket timeouts make a publish to an unreachable broker fail in seconds
# (the follow-up relay then publishes it again) instead of hanging a request.
CELERY_BROKER_VISIBILITY_TIMEOUT = env.int("CELERY_BROKER_VISIBILITY_TIMEOUT", default=900)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_BROKER_VISIBILITY_TIMEOUT,
    "socket_connect_timeout": 3,
    "socket_timeout": 5,
    "max_retries": 1,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 3
CELERY_REDIS_SOCKET_TIMEOUT = 5
# Follow-ups (mall.followups): a runner's lease is above the task time limit; a published row
# not run after MALL_FOLLOWUP_REPUBLISH_SECONDS is published again; after
# MALL_FOLLOWUP_MAX_ATTEMPTS failures it is marked failed for the console.
MALL_FOLLOWUP_LEASE_SECONDS = env.int("MALL_FOLLOWUP_LEASE_SECONDS", default=360)
MALL_FOLLOWUP_REPUBLISH_SECONDS = env.int("MALL_FOLLOWUP_REPUBLISH_SECONDS", default=300)
MALL_FOLLOWUP_MAX_ATTEMPTS = env.int("MALL_FOLLOWUP_MAX_ATTEMPTS", default=12)
# The one place where periodic jobs are declared (see mall/celery.py and docs/architecture.md).
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    # Follow-ups recorded with their state change (mall.followups) that the after-commit
    # publish missed (broker down) or whose worker died: published again.
    "mall-followups-relay": {
        "task": "mall.tasks.followups_relay",
        "schedule": timedelta(seconds=30),
    },
    "idempotency-purge": {
        "task": "mall.tasks.idempotency_purge",
        "schedule": timedelta(hours=1),
    },
    "promotions-campaign-transitions": {
        "task": "promotions.tasks.campaign_transitions",
        "schedule": timedelta(minutes=1),
    },
    "promotions-coupon-expiry": {
        "task": "promotions.tasks.coupon_expiry",
        "schedule": timedelta(minutes=10),
    },
    # Fallback for lost gateway notifications: query payments pending > N minutes.
    "payments-sync-pending": {
        "task": "payments.tasks.sync_pending",
        "schedule": timedelta(minutes=2),
    },
    # WeChat shipping information uploads that are pending and due (backoff).
    "payments-shipping-uploads-retry": {
        "task": "payments.tasks.shipping_uploads_retry",
        "schedule": timedelta(minutes=5),
    },
    # Yesterday's gateway bills vs our records, once published (10:00 Beijing); hourly so
    # a failed download is tried again, finished days are kept.
    "payments-reconcile-daily": {
        "task": "payments.tasks.reconcile_daily",
        "schedule": timedelta(hours=1),
    },
    # Completed orders: WeChat profit sharing to suppliers, then the settlement ledger.
    "payments-settle-completed": {
        "task": "payments.tasks.settle_completed",
        "schedule": timedelta(minutes=30),
    },
    "orders-cancel-expired": {
        "task": "orders.tasks.cancel_expired_orders",
        "schedule": timedelta(minutes=1),
    },
    "orders-auto-receive": {
        "task": "orders.tasks.auto_receive_orders",
        "schedule": timedelta(hours=1),
    },
    "orders-complete": {
        "task": "orders.tasks.complete_orders",
        "schedule": timedelta(hours=1),
    },
    # Member growth for completed orders (after-sale window closed), then tier reviews.
    "orders-member-growth": {
        "task": "orders.tasks.member_growth_from_orders",
        "schedule": timedelta(hours=1),
    },
    "members-tier-reviews": {
        "task": "members.tasks.tier_reviews",
        "schedule": timedelta(hours=1),
    },
    "promotions-member-coupon-packs": {
        "task": "promotions.tasks.member_coupon_packs",
        "schedule": timedelta(hours=1),
    },
    "distribution-settle-commissions": {
        "task": "distribution.tasks.settle_commissions",
        "schedule": timedelta(minutes=30),
    },
    "distribution-team-rewards": {
        "task": "distribution.tasks.team_rewards",
        "schedule": timedelta(hours=6),
    },
    # Members: RFM rows and scores once a day (paid orders move last_paid_at at once),
    # automation sweeps hourly.
    "members-rfm-refresh": {
        "task": "members.tasks.rfm_refresh",
        "schedule": timedelta(hours=24),
    },
    "members-automation-sweep": {
        "task": "members.tasks.automation_sweep",
        "schedule": timedelta(hours=1),
    },
    # Points lots past their expiry (members/points); the 7-day notice before it.
    "members-points-expire": {
        "task": "members.tasks.points_expire",
        "schedule": timedelta(hours=1),
    },
    "members-points-expiry-notify": {
        "task": "members.tasks.points_expiry_notify",
        "schedule": timedelta(hours=1),
    },
    "distribution-grades-review": {
        "task": "distribution.tasks.grades_review",
        "schedule": timedelta(hours=1),
    },
}

# --- Auth, sessions -------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "console:login"

# Console and platform admin logins (mall/console/login_guard.py): failures within the window
# lock the account name, or the client IP, for the lockout period.
CONSOLE_LOGIN_ACCOUNT_FAILURES = env.int("CONSOLE_LOGIN_ACCOUNT_FAILURES", default=5)
CONSOLE_LOGIN_IP_FAILURES = env.int("CONSOLE_LOGIN_IP_FAILURES", default=20)
CONSOLE_LOGIN_WINDOW_SECONDS = env.int("CONSOLE_LOGIN_WINDOW_SECONDS", default=15 * 60)
CONSOLE_LOGIN_LOCKOUT_SECONDS = env.int("CONSOLE_LOGIN_LOCKOUT_SECONDS", default=15 * 60)
# Trusted reverse proxies in front of the app: the client IP is then read from
# X-Forwarded-For (that many addresses from the right); 0 uses REMOTE_ADDR.
MALL_NUM_PROXIES = env.int("MALL_NUM_PROXIES", default=0)
# Staff invitations (mall/tenancy/invitations.py) expire after this many days.
CONSOLE_INVITATION_DAYS = env.int("CONSOLE_INVITATION_DAYS", default=7)

# --- E-mail ---------------------------------------------------------------------------
# EMAIL_URL, e.g. smtp+tls://user:password@smtp.example.com:587; the default prints mails to
# the console (development). Tests use Django's in-memory outbox.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Mall console <no-reply@localhost>")

# --- I18N -----------------------------------------------------------------------------
# Simplified Chinese by default; English by the browser (Accept-Language) or, in the console,
# the staff member's saved choice (mall/console/i18n.py). One catalogue for the whole project:
# locale/zh_Hans/LC_MESSAGES/django.po (docs/console.md: how to add strings).
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Requests larger than this are refused with 413 before any view parses them.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2 * 1024 * 1024)
MALL_MAX_JSON_BODY_BYTES = env.int("MALL_MAX_JSON_BODY_BYTES", default=1024 * 1024)
MALL_MAX_UPLOAD_BYTES = env.int("MALL_MAX_UPLOAD_BYTES", default=10 * 1024 * 1024)
# JSON bodies nested deeper than this (arrays and objects) are refused with 400 invalid_json
# before they are parsed (a deep body would exhaust the parser's recursion).
MALL_MAX_JSON_DEPTH = env.int("MALL_MAX_JSON_DEPTH", default=64)

# --- REST framework -------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["mall.api.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "mall.api.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "mall.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "mall.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "mall.api.schema.MallAutoSchema",
    "DEFAULT_THROTTLE_RATES": {
        "login": env.str("THROTTLE_LOGIN", default="20/min"),
        "phone": env.str("THROTTLE_PHONE", default="10/min"),
    },
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Mini Program Mall API",
    "DESCRIPTION": "Shopper API (/api/v1/), merchant open API (/api/merchant/v1/) and gateway "
    "callbacks of the multi-tenant mini program mall.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Django's slug converter matches only these characters; anything else is no route (404).
    "PATH_CONVERTER_OVERRIDES": {"slug": {"type": "string", "pattern": "^[-a-zA-Z0-9_]+$"}},
    # Every model has its own "status" choices: name each enum after its model.
    "ENUM_NAME_OVERRIDES": {
        "ProductStatusEnum": "catalog.models.Product.Status",
        "OrderStatusEnum": "orders.models.Order.Status",
        "AfterSaleStatusEnum": "orders.models.AfterSale.Status",
        "PaymentStatusEnum": "payments.models.Payment.Status",
        "RefundStatusEnum": "payments.models.Refund.Status",
        "CouponStatusEnum": "promotions.models.Coupon.Status",
        "CampaignStatusEnum": "promotions.models.Campaign.Status",
        "DistributorStatusEnum": "distribution.models.Distributor.Status",
        "CommissionStatusEnum": "distribution.models.Commission.Status",
        "WithdrawalStatusEnum": "distribution.models.Withdrawal.Status",
    },
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "MemberToken": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            "ApiKey": {"type": "http", "scheme": "bearer"},
            "AppId": {"type": "apiKey", "in": "header", "name": "X-App-Id"},
        }
    },
}

# --- Member tokens (JWT) --------------------------------------------------------------
JWT_SIGNING_KEY = env.str("JWT_SIGNING_KEY", default="")
JWT_ACCESS_LIFETIME = timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=30))
JWT_REFRESH_LIFETIME = timedelta(days=env.int("JWT_REFRESH_DAYS", default=14))

# --- Secrets at rest ------------------------------------------------------------------
# Comma-separated Fernet keys; the first encrypts, all decrypt (rotation). Empty: derived
# from SECRET_KEY, which is fine for development but should be set in production.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])

# --- External endpoints (tests and sandboxes point these at local fakes) --------------
WECHAT_API_BASE_URL = env.str("WECHAT_API_BASE_URL", default="https://api.weixin.qq.com")
WECHATPAY_API_BASE_URL = env.str("WECHATPAY_API_BASE_URL", default="https://api.mch.weixin.qq.com")
ALIPAY_GATEWAY_URL = env.str("ALIPAY_GATEWAY_URL", default="https://openapi.alipay.com/gateway.do")
EXTERNAL_HTTP_TIMEOUT = env.float("EXTERNAL_HTTP_TIMEOUT", default=5.0)

# Sandbox channels and gateways answer themselves; refused when DEBUG is off unless allowed.
MALL_ALLOW_SANDBOX = env.bool("MALL_ALLOW_SANDBOX", default=False)

# Seconds a process keeps an app id -> channel/tenant lookup at most (0 disables). Saves bump
# the channels' cache version: every process sees a suspension or a channel change within
# MALL_CACHE_VERSION_RECHECK_MS; this bounds how long an entry outlives a bump lost while Redis
# was unreachable.
MALL_CHANNEL_CACHE_SECONDS = env.int("MALL_CHANNEL_CACHE_SECONDS", default=10)
# How long a process trusts the cache versions it read (mall/versions.py): another process's
# change to campaigns, coupon scopes or categories reaches it within this time.
MALL_CACHE_VERSION_RECHECK_MS = env.int("MALL_CACHE_VERSION_RECHECK_MS", default=50)

# Idempotency records are kept this long (hours) then purged by beat.
IDEMPOTENCY_TTL_HOURS = env.int("IDEMPOTENCY_TTL_HOURS", default=48)
# A record still "in progress" after this long belongs to a request that died (a crashed or
# timed-out worker): the next request with the key takes over instead of answering 409.
IDEMPOTENCY_STALE_SECONDS = env.int("IDEMPOTENCY_STALE_SECONDS", default=300)

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}


def simple_jwt_settings(signing_key: str) -> dict:
    """simplejwt configuration; each environment calls this once its signing key is known."""
    return {
        "ALGORITHM": "HS256",
        "SIGNING_KEY": signing_key,
        "ACCESS_TOKEN_LIFETIME": JWT_ACCESS_LIFETIME,
        "REFRESH_TOKEN_LIFETIME": JWT_REFRESH_LIFETIME,
        "USER_ID_CLAIM": "member_id",
        "USER_ID_FIELD": "id",
        "AUTH_HEADER_TYPES": ("Bearer",),
        "UPDATE_LAST_LOGIN": False,
    }


# --- Payments ---------------------------------------------------------------------------
# The public HTTPS origin WeChat Pay and Alipay call back (notify URLs are built from it).
PAYMENTS_NOTIFY_BASE_URL = env.str("PAYMENTS_NOTIFY_BASE_URL", default="http://localhost:8000")
# Payments still pending after this many minutes are queried at the gateway by beat.
PAYMENTS_QUERY_AFTER_MINUTES = env.int("PAYMENTS_QUERY_AFTER_MINUTES", default=5)

# --- Couriers (tracking) -------------------------------------------------------------------
# "local": tracking events come from the shipments we record (development, demo);
# "kuaidi100": Kuaidi100's query API with the account's customer id and key.
COURIER_BACKEND = env.str("COURIER_BACKEND", default="local")
KUAIDI100_API_URL = env.str("KUAIDI100_API_URL", default="https://poll.kuaidi100.com/poll/query.do")
KUAIDI100_CUSTOMER = env.str("KUAIDI100_CUSTOMER", default="")
KUAIDI100_KEY = env.str("KUAIDI100_KEY", default="")
