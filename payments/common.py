"""Helpers shared by the payment services: numbers, notify URLs, events, gateway errors."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mall.errors import ApplicationError, NotFoundError, UpstreamError
from mall.tenancy.models import Tenant
from payments.errors import PaymentErrorCode
from payments.gateways.base import GatewayError
from payments.models import Payment, PaymentEvent, Refund
from payments.purposes import PurposeHandler, purpose_handler


def new_out_no(prefix: str) -> str:
    """27 characters, [0-9A-Za-z] (WeChat allows 6-32): prefix, UTC time, 48 random bits."""
    return f"{prefix}{timezone.now():%Y%m%d%H%M%S}{secrets.token_hex(6)}"


def notify_url(*, tenant: Tenant, name: str) -> str:
    """The absolute callback URL gateways notify (``PAYMENTS_NOTIFY_BASE_URL`` + path)."""
    base = getattr(settings, "PAYMENTS_NOTIFY_BASE_URL", "") or "http://localhost:8000"
    return base.rstrip("/") + reverse(f"payments:{name}", kwargs={"slug": tenant.slug})


def event_add(
    *,
    payment: Payment,
    kind: str,
    from_status: str = "",
    to_status: str = "",
    source: str = "",
    refund: Refund | None = None,
    data: dict[str, Any] | None = None,
) -> PaymentEvent:
    return PaymentEvent.objects.create(
        tenant_id=payment.tenant_id,
        payment=payment,
        refund=refund,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        source=source[:32],
        data=data or {},
    )


def handler_for(purpose: str) -> PurposeHandler:
    try:
        return purpose_handler(purpose)
    except LookupError:
        raise NotFoundError(
            _("Nothing can be paid for %(purpose)s.") % {"purpose": repr(purpose)},
            code=PaymentErrorCode.PURPOSE_UNKNOWN,
        ) from None


def gateway_application_error(exc: GatewayError) -> ApplicationError:
    if exc.kind == GatewayError.REFUSED:
        return ApplicationError(
            PaymentErrorCode.GATEWAY_REFUSED,
            _("The payment gateway refused the request."),
            details={"gateway_code": exc.code, "message": exc.message[:200]},
        )
    if exc.kind == GatewayError.UNAVAILABLE:
        return UpstreamError(
            PaymentErrorCode.GATEWAY_UNAVAILABLE,
            _("The payment gateway could not be reached; try again."),
        )
    return UpstreamError(
        PaymentErrorCode.GATEWAY_INVALID_RESPONSE,
        _("The payment gateway answered something we cannot trust; try again."),
    )
