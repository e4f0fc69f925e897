"""The one exception handler: domain errors and DRF's own, in the contract's error shape.

``{"error": {"code": "out_of_stock", "message": "...", "details": {...}}}``

Domain errors (``mall.errors``) know no HTTP: ``STATUS_BY_KIND`` below gives each kind its
status. The ``message`` is translated when the answer is rendered, into the request's language
(``Accept-Language``; Simplified Chinese by default); the ``code`` never changes. The domain
names are re-exported here for API code.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from mall.errors import (
    DATABASE_UNAVAILABLE,
    ApplicationError,
    ConflictError,
    ErrorCode,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    ServiceUnavailableError,
    UnauthenticatedError,
    UnavailableError,
    UpstreamError,
    database_unavailable,
    render_message,
    retry_after_seconds,
)

__all__ = [
    "DATABASE_UNAVAILABLE",
    "STATUS_BY_KIND",
    "ApplicationError",
    "ConflictError",
    "ErrorCode",
    "ForbiddenError",
    "InvalidInputError",
    "NotFoundError",
    "ServiceUnavailableError",
    "UnauthenticatedError",
    "UnavailableError",
    "UpstreamError",
    "database_unavailable",
    "error_json_response",
    "error_payload",
    "exception_handler",
    "render_message",
    "retry_after_seconds",
    "status_for",
]

logger = logging.getLogger(__name__)

# Each kind of domain error and its HTTP status; a subclass takes its nearest kind's status.
STATUS_BY_KIND: dict[type[ApplicationError], int] = {
    ApplicationError: status.HTTP_422_UNPROCESSABLE_ENTITY,
    InvalidInputError: status.HTTP_400_BAD_REQUEST,
    UnauthenticatedError: status.HTTP_401_UNAUTHORIZED,
    ForbiddenError: status.HTTP_403_FORBIDDEN,
    NotFoundError: status.HTTP_404_NOT_FOUND,
    ConflictError: status.HTTP_409_CONFLICT,
    UpstreamError: status.HTTP_502_BAD_GATEWAY,
    UnavailableError: status.HTTP_503_SERVICE_UNAVAILABLE,
}


def status_for(error: ApplicationError) -> int:
    """The HTTP status of a domain error: its nearest kind's."""
    for klass in type(error).__mro__:
        if klass in STATUS_BY_KIND:
            return STATUS_BY_KIND[klass]
    raise TypeError(f"{type(error).__name__} is not an ApplicationError")


def error_payload(code: str, message: Any, details: dict[str, Any] | None = None) -> dict:
    return {
        "error": {"code": str(code), "message": render_message(message), "details": details or {}}
    }


def error_json_response(
    code: str, message: Any, status_code: int, details: dict[str, Any] | None = None
) -> JsonResponse:
    """For middleware and Django-level handlers that run outside DRF."""
    return JsonResponse(error_payload(code, message, details), status=status_code)


_DRF_CODES: dict[type[exceptions.APIException], str] = {
    exceptions.ParseError: ErrorCode.PARSE_ERROR,
    exceptions.NotAuthenticated: ErrorCode.NOT_AUTHENTICATED,
    exceptions.AuthenticationFailed: ErrorCode.AUTHENTICATION_FAILED,
    exceptions.PermissionDenied: ErrorCode.PERMISSION_DENIED,
    exceptions.NotFound: ErrorCode.NOT_FOUND,
    exceptions.MethodNotAllowed: ErrorCode.METHOD_NOT_ALLOWED,
    exceptions.NotAcceptable: ErrorCode.NOT_ACCEPTABLE,
    exceptions.UnsupportedMediaType: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    exceptions.Throttled: ErrorCode.RATE_LIMITED,
}


def _drf_code(exc: exceptions.APIException) -> str:
    for klass, code in _DRF_CODES.items():
        if isinstance(exc, klass):
            # A view may raise with an explicit code (e.g. AuthenticationFailed(code="x")).
            detail_code = getattr(exc.detail, "code", None)
            if detail_code and detail_code not in (exc.default_code, None):
                return str(detail_code)
            return code
    return getattr(exc, "default_code", ErrorCode.SERVER_ERROR)


def _message(detail: Any) -> str:
    if isinstance(detail, list | tuple) and detail:
        return _message(detail[0])
    if isinstance(detail, dict) and detail:
        return _message(next(iter(detail.values())))
    return str(detail)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF exception handler: every error leaves in the contract's shape."""
    headers: dict[str, str] = {}
    if isinstance(exc, DATABASE_UNAVAILABLE):
        logger.warning("Database unavailable: %s", exc)
        exc = database_unavailable()
    if isinstance(exc, ApplicationError):
        set_rollback()
        if isinstance(exc, UnavailableError) and exc.retry_after is not None:
            headers["Retry-After"] = str(exc.retry_after)
        return Response(
            error_payload(exc.code, exc.message, exc.details),
            status=status_for(exc),
            headers=headers,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        set_rollback()
        return Response(
            error_payload(ErrorCode.REQUEST_TOO_LARGE, _("Request body is too large.")),
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    elif isinstance(exc, DataError | OverflowError):
        # A value the database cannot store (integer or numeric out of range): the input was
        # bad, whatever the serializer let through. Never a 500.
        set_rollback()
        return Response(
            error_payload(ErrorCode.VALIDATION_ERROR, _("A value is out of the allowed range.")),
            status=status.HTTP_400_BAD_REQUEST,
        )
    elif isinstance(exc, SuspiciousOperation):
        exc = exceptions.ParseError(str(exc) or _("Bad request."))
    elif isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        exc = exceptions.ValidationError(detail)

    if not isinstance(exc, exceptions.APIException):
        return None  # a real bug: let Django log it and answer 500 (JSON via handler500)

    if auth_header := getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = auth_header
    if wait := getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(wait))
    set_rollback()

    if isinstance(exc, exceptions.ValidationError):
        fields = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        return Response(
            error_payload(ErrorCode.VALIDATION_ERROR, _message(exc.detail), fields),
            status=exc.status_code,
            headers=headers,
        )
    message = _message(exc.detail)
    details: dict[str, Any] = dict(getattr(exc, "details", None) or {})
    if isinstance(exc, exceptions.Throttled) and wait is not None:
        details["retry_after_seconds"] = int(wait)
    return Response(
        error_payload(_drf_code(exc), message, details), status=exc.status_code, headers=headers
    )


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def handler404(request: HttpRequest, exception: Exception | None = None):
    if _is_api(request):
        return error_json_response(ErrorCode.NOT_FOUND, _("Not found."), 404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def handler400(request: HttpRequest, exception: Exception | None = None):
    if _is_api(request):
        return error_json_response(ErrorCode.PARSE_ERROR, _("Bad request."), 400)
    from django.views.defaults import bad_request

    return bad_request(request, exception)  # type: ignore[arg-type]  # Django passes one


def handler403(request: HttpRequest, exception: Exception | None = None):
    if _is_api(request):
        return error_json_response(ErrorCode.PERMISSION_DENIED, _("Permission denied."), 403)
    from django.views.defaults import permission_denied

    return permission_denied(request, exception)  # type: ignore[arg-type]  # Django passes one


def handler500(request: HttpRequest):
    if _is_api(request):
        return error_json_response(ErrorCode.SERVER_ERROR, _("Internal server error."), 500)
    from django.views.defaults import server_error

    return server_error(request)
