"""``Idempotency-Key`` support for any POST view.

Same key + same body (and path) -> the first answer, replayed. Same key + another body -> 409.
A request still running with the same key -> 409 ``idempotency_in_progress``. Answers with a
5xx status are not stored, so the client may retry. Keys are scoped per tenant and principal
(member, API key or staff user), and purged after ``IDEMPOTENCY_TTL_HOURS``.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.request import Request
from rest_framework.response import Response

from mall.api.errors import ConflictError, ErrorCode, InvalidInputError
from mall.api.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 128


def _principal(request: Request) -> str:
    member = getattr(request, "member", None)
    if member is not None:
        return f"member:{member.pk}"
    api_key = getattr(request, "api_key", None)
    if api_key is not None:
        return f"apikey:{api_key.pk}"
    user = getattr(request, "user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        return f"staff:{user.pk}"
    channel = getattr(request, "channel", None)
    return f"anon:{channel.pk if channel is not None else 0}"


def _request_hash(request: Request) -> str:
    try:
        body = json.dumps(request.data, sort_keys=True, default=str)
    except (TypeError, ValueError):
        body = repr(request.data)
    raw = f"{request.method} {request.path}\n{body}"
    return hashlib.sha256(raw.encode()).hexdigest()


def idempotent(view_method: Callable[..., Response]) -> Callable[..., Response]:
    """Decorate a DRF view's ``post`` so an ``Idempotency-Key`` header makes it idempotent."""

    @functools.wraps(view_method)
    def wrapper(self: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get(HEADER, "").strip()
        tenant = getattr(request, "tenant", None)
        if not key or tenant is None:
            return view_method(self, request, *args, **kwargs)
        if len(key) > MAX_KEY_LENGTH:
            raise InvalidInputError(
                ErrorCode.VALIDATION_ERROR,
                _("%(header)s must be at most %(max)d characters.")
                % {"header": HEADER, "max": MAX_KEY_LENGTH},
            )
        principal = _principal(request)
        digest = _request_hash(request)
        record = None
        for _attempt in range(2):
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(
                        tenant=tenant,
                        principal=principal,
                        key=key,
                        method=request.method,
                        path=request.path[:255],
                        request_hash=digest,
                    )
                break
            except IntegrityError:
                existing = IdempotencyRecord.objects.for_tenant(tenant).get(
                    principal=principal, key=key
                )
                if existing.request_hash != digest:
                    raise ConflictError(
                        ErrorCode.IDEMPOTENCY_KEY_REUSED,
                        _("This Idempotency-Key was already used with another request body."),
                    ) from None
                if existing.state == IdempotencyRecord.State.DONE:
                    response = Response(existing.response_body, status=existing.response_status)
                    response["Idempotent-Replayed"] = "true"
                    return response
                if _stale(existing) and _take_over(existing):
                    continue  # the first request died mid-way: run this one instead
                raise ConflictError(
                    ErrorCode.IDEMPOTENCY_IN_PROGRESS,
                    _("A request with this Idempotency-Key is still being processed."),
                ) from None
        if record is None:  # pragma: no cover - lost the takeover race twice
            raise ConflictError(
                ErrorCode.IDEMPOTENCY_IN_PROGRESS,
                _("A request with this Idempotency-Key is still being processed."),
            )

        try:
            response = view_method(self, request, *args, **kwargs)
        except Exception:
            IdempotencyRecord.objects.for_tenant(record.tenant_id).filter(pk=record.pk).delete()
            raise
        if response.status_code >= 500 or not hasattr(response, "data"):
            # Not replayable (a server error the client may retry, or not a DRF answer).
            IdempotencyRecord.objects.for_tenant(record.tenant_id).filter(pk=record.pk).delete()
            return response
        IdempotencyRecord.objects.for_tenant(record.tenant_id).filter(pk=record.pk).update(
            state=IdempotencyRecord.State.DONE,
            response_status=response.status_code,
            response_body=json.loads(json.dumps(response.data, default=str)),
        )
        return response

    wrapper.idempotent = True  # type: ignore[attr-defined]
    return wrapper


def _stale(record: IdempotencyRecord) -> bool:
    """In progress for longer than any request can live (workers time out well before)."""
    age = timezone.now() - record.created_at
    return age.total_seconds() > settings.IDEMPOTENCY_STALE_SECONDS


def _take_over(record: IdempotencyRecord) -> bool:
    """Drop a stale in-progress record, only if nobody finished or took it over meanwhile."""
    deleted, _by_model = IdempotencyRecord.objects.filter(
        pk=record.pk, state=IdempotencyRecord.State.IN_PROGRESS, created_at=record.created_at
    ).delete()
    return deleted > 0


def idempotency_purge_expired() -> int:
    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)
    deleted, _by_model = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
