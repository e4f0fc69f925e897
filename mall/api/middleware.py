"""Request-level guards that must run before any view parses the body."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.signals import got_request_exception
from django.http import HttpRequest, HttpResponse
from django.utils.html import escape
from django.utils.translation import gettext, gettext_noop

from mall.api.errors import (
    DATABASE_UNAVAILABLE,
    ErrorCode,
    error_json_response,
    retry_after_seconds,
)

logger = logging.getLogger(__name__)


class BodySizeLimitMiddleware:
    """Refuse oversized bodies with 413 in the contract shape (DRF parsers read the raw stream,
    so Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE`` alone does not protect JSON endpoints)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        raw = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(raw)
        except ValueError:
            length = -1
        if length < 0:
            return error_json_response(
                ErrorCode.PARSE_ERROR, gettext("Invalid Content-Length."), 400
            )
        content_type = request.META.get("CONTENT_TYPE", "")
        limit = (
            settings.MALL_MAX_UPLOAD_BYTES
            if content_type.startswith("multipart/")
            else settings.MALL_MAX_JSON_BODY_BYTES
        )
        if length > limit:
            return error_json_response(
                ErrorCode.REQUEST_TOO_LARGE,
                gettext("Request body is too large (limit %(limit)s bytes).") % {"limit": limit},
                413,
                {"limit_bytes": limit},
            )
        return self.get_response(request)


# --- outages and error pages ------------------------------------------------------------

API_PREFIX = "/api/"
_UNAVAILABLE_ATTR = "_mall_database_unavailable"


def _database_error_seen(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """``got_request_exception`` receiver: remember that the request failed because the
    database did not answer (the exception is gone by the time the response comes back)."""
    error = sys.exc_info()[1]
    if request is not None and isinstance(error, DATABASE_UNAVAILABLE):
        setattr(request, _UNAVAILABLE_ATTR, True)
        logger.warning("Database unavailable: %s", error)


got_request_exception.connect(_database_error_seen, dispatch_uid="mall_database_unavailable")


def _unavailable_response(request: HttpRequest) -> HttpResponse:
    seconds = str(retry_after_seconds())
    if request.path.startswith(API_PREFIX):
        response: HttpResponse = error_json_response(
            ErrorCode.SERVICE_UNAVAILABLE,
            gettext(
                "This service is temporarily unavailable (database unreachable). Try again later."
            ),
            503,
            {"retry_after_seconds": int(seconds)},
        )
    else:
        title = escape(gettext("Service temporarily unavailable"))
        text = escape(gettext("The service is temporarily unavailable. Try again in a moment."))
        response = HttpResponse(
            f'<!doctype html><html><head><meta charset="utf-8"><title>{title}</title></head>'
            f"<body><h1>{title}</h1><p>{text}</p></body></html>",
            status=503,
            content_type="text/html; charset=utf-8",
        )
    response["Retry-After"] = seconds
    return response


_API_ERRORS: dict[int, tuple[str, str]] = {
    400: (ErrorCode.PARSE_ERROR, gettext_noop("Bad request.")),
    403: (ErrorCode.PERMISSION_DENIED, gettext_noop("Permission denied.")),
    404: (ErrorCode.NOT_FOUND, gettext_noop("Not found.")),
    405: (ErrorCode.METHOD_NOT_ALLOWED, gettext_noop("Method not allowed.")),
    500: (ErrorCode.SERVER_ERROR, gettext_noop("Internal server error.")),
}


class ErrorResponseMiddleware:
    """Outermost middleware (first in ``MIDDLEWARE``).

    - A database that does not answer (``OperationalError``/``InterfaceError``) anywhere in the
      request, views or middleware, is ``503`` with ``Retry-After``: the API in the error
      shape (``service_unavailable``), the console a plain page. (DRF views answer it in
      ``mall.api.errors.exception_handler``; this covers the rest.)
    - An API route answers errors in the contract's shape even with ``DEBUG`` on: Django's HTML
      pages (the debug 404 and 500 pages, CSRF failures) become JSON of the same status.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if getattr(request, _UNAVAILABLE_ATTR, False):
            return _unavailable_response(request)
        if (
            response.status_code >= 400
            and request.path.startswith(API_PREFIX)
            and response.get("Content-Type", "").startswith("text/html")
        ):
            code, message = _API_ERRORS.get(
                response.status_code,
                (
                    ErrorCode.SERVER_ERROR
                    if response.status_code >= 500
                    else ErrorCode.PARSE_ERROR,
                    gettext_noop("Request failed."),
                ),
            )
            return error_json_response(code, gettext(message), response.status_code)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """A view outside DRF (the console) that lost the database."""
        if isinstance(exception, DATABASE_UNAVAILABLE):
            logger.warning("Database unavailable: %s", exception)
            return _unavailable_response(request)
        return None
