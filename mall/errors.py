"""Domain errors: what went wrong, never how it travels.

Services, selectors, gateways, tasks, commands and the console raise these; nothing here knows
HTTP (no DRF, no ``django.http``). The API's one exception handler (``exception_handler`` in
``mall/api/errors.py``) maps each kind to its status and renders the contract's shape
``{"error": {"code", "message", "details"}}``; the console shows ``message``.

An error is one of a few *kinds* (a subclass), chosen by meaning:

- ``ApplicationError`` itself: the request is understood, but a business rule refuses it
  (out of delivery range, refund above what was paid, cart full).
- ``InvalidInputError``: the input is malformed or out of range (a quantity of 0, a bad key).
- ``UnauthenticatedError``: who is calling is unknown or not accepted (an expired token).
- ``ForbiddenError``: the caller is known and may not do this (a disabled member).
- ``NotFoundError``: no such object in this tenant (a foreign one looks the same).
- ``ConflictError``: the current state forbids it (an illegal transition, sold out, a taken
  code, a concurrent change): reading again may change the answer.
- ``UpstreamError``: an outside system (WeChat, Alipay, a courier, a payment gateway) failed or
  answered something unusable.
- ``UnavailableError``: this service cannot do it now (not configured, a dependency down);
  ``retry_after`` (seconds) says when to try again, when known. ``ServiceUnavailableError`` is
  the one for our own database or Redis.

Each error keeps its ``code`` (stable, for programs: ``ErrorCode`` and the apps' own
``*ErrorCode`` enums), its ``message`` (for people: pass ``gettext_lazy`` strings; translated
when rendered, into the request's language) and its ``details`` (a JSON-able dict).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class ErrorCode(StrEnum):
    VALIDATION_ERROR = "validation_error"
    PARSE_ERROR = "parse_error"
    NOT_AUTHENTICATED = "not_authenticated"
    AUTHENTICATION_FAILED = "authentication_failed"
    PERMISSION_DENIED = "permission_denied"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_ACCEPTABLE = "not_acceptable"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    RATE_LIMITED = "rate_limited"
    REQUEST_TOO_LARGE = "request_too_large"
    CONFLICT = "conflict"
    BUSINESS_RULE = "business_rule"
    SERVER_ERROR = "server_error"
    APP_ID_REQUIRED = "app_id_required"
    UNKNOWN_APP_ID = "unknown_app_id"
    TENANT_SUSPENDED = "tenant_suspended"
    SANDBOX_DISABLED = "sandbox_disabled"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    IDEMPOTENCY_IN_PROGRESS = "idempotency_in_progress"
    SERVICE_UNAVAILABLE = "service_unavailable"
    INVALID_JSON = "invalid_json"
    INVALID_PAGE = "invalid_page"


class ApplicationError(Exception):
    """A domain error with a code: a business rule refuses (the kinds below say otherwise)."""

    def __init__(
        self,
        code: str,
        message: str | Promise,
        *,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = str(code)
        self.message = message
        self.details = details or {}


class InvalidInputError(ApplicationError):
    """The input is malformed or out of range."""


class UnauthenticatedError(ApplicationError):
    """Who is calling is unknown or not accepted (missing, invalid or expired credentials)."""


class ForbiddenError(ApplicationError):
    """The caller is known and may not do this."""


class NotFoundError(ApplicationError):
    """No such object (in this tenant: a foreign object is not found either)."""

    def __init__(
        self,
        message: str | Promise | None = None,
        *,
        code: str = ErrorCode.NOT_FOUND,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(code, message if message is not None else _("Not found."), details=details)


class ConflictError(ApplicationError):
    """The current state of something forbids it (another request may have changed it)."""


class UpstreamError(ApplicationError):
    """An outside system (WeChat, Alipay, a courier, a gateway) failed or answered badly."""


class UnavailableError(ApplicationError):
    """This cannot be done now; ``retry_after`` is the number of seconds to wait, when known."""

    def __init__(
        self,
        code: str,
        message: str | Promise,
        *,
        details: dict[str, Any] | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(code, message, details=details)
        self.retry_after = retry_after


def retry_after_seconds() -> int:
    return int(getattr(settings, "MALL_RETRY_AFTER_SECONDS", 5))


class ServiceUnavailableError(UnavailableError):
    """A dependency (the database, Redis) does not answer: ``service_unavailable`` with a retry
    delay. Raise it from a write that cannot proceed without the dependency."""

    def __init__(
        self, message: str | Promise | None = None, *, details: dict[str, Any] | None = None
    ) -> None:
        seconds = retry_after_seconds()
        super().__init__(
            ErrorCode.SERVICE_UNAVAILABLE,
            str(message or _("This service is temporarily unavailable. Try again later.")),
            details={"retry_after_seconds": seconds, **(details or {})},
            retry_after=seconds,
        )


# The database did not answer (down, restarting, connection lost, statement or lock timeout).
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)


def database_unavailable() -> ServiceUnavailableError:
    return ServiceUnavailableError(
        _("This service is temporarily unavailable (database unreachable). Try again later.")
    )


def render_message(message: Any) -> str:
    """The message in the active language: lazy strings resolve now; a plain string is looked
    up in the catalogue (unchanged when it is not there)."""
    if isinstance(message, Promise):
        return str(message)
    text = str(message)
    return gettext(text) if text else text
