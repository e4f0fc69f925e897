"""Request-level guards that must run before any view parses the body."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from mall.api.errors import ErrorCode, error_json_response


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
            return error_json_response(ErrorCode.PARSE_ERROR, "Invalid Content-Length.", 400)
        content_type = request.META.get("CONTENT_TYPE", "")
        limit = (
            settings.MALL_MAX_UPLOAD_BYTES
            if content_type.startswith("multipart/")
            else settings.MALL_MAX_JSON_BODY_BYTES
        )
        if length > limit:
            return error_json_response(
                ErrorCode.REQUEST_TOO_LARGE,
                f"Request body is too large (limit {limit} bytes).",
                413,
                {"limit_bytes": limit},
            )
        return self.get_response(request)
