"""Refunds: the after-sale request (idempotent per request_ref), automatic refunds of money a
payable refused, submission to the gateway, finalisation (once), retry of failed ones.

The sum of refunds of a payment never exceeds what it paid: ``Payment.refunded_amount`` is
reserved by a guarded ``F()`` update under the payment row lock (and a CheckConstraint keeps
``refunded_amount <= amount``). A failed refund keeps its reservation, so it can be retried.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mall.errors import ApplicationError, ConflictError, InvalidInputError
from mall.followups.services import follow_up
from mall.money import quantize, to_fen
from mall.tenancy.models import Tenant
from mall.transitions import transition_apply, transition_update
from payments import lock_objects
from payments.common import event_add, handler_for, new_out_no, notify_url
from payments.errors import PaymentErrorCode
from payments.gateways import adapter_for
from payments.gateways.base import GatewayError, RefundState
from payments.gateways.config import config_for_gateway
from payments.models import REFUND_TRANSITIONS, Gateway, Payment, Refund
from payments.selectors import payment_accepted_last

logger = logging.getLogger(__name__)


def _reserve(payment: Payment, amount: Decimal) -> None:
    """Reserve ``amount`` of the (locked) payment for a refund, or refuse with 409."""
    updated = (
        Payment.objects.for_tenant(payment.tenant_id)
        .filter(pk=payment.pk, refunded_amount__lte=F("amount") - amount)
        .update(refunded_amount=F("refunded_amount") + amount)
    )
    if not updated:
        raise ConflictError(
            PaymentErrorCode.REFUND_EXCEEDS_PAID,
            _("The refund would exceed the amount paid."),
            details={
                "paid": str(payment.amount),
                "already_refunded": str(payment.refunded_amount),
                "requested": str(amount),
            },
        )


def refund_transition(refund: Refund, to: str) -> bool:
    """The one status change of a (locked) refund, checked against ``REFUND_TRANSITIONS``
    (409 when not allowed; ``False`` when already there). The caller saves."""
    return transition_apply(refund, REFUND_TRANSITIONS, to, entity="refund")


def refund_request(
    *,
    tenant: Tenant,
    purpose: str,
    reference: str,
    amount: Decimal,
    reason: str,
    request_ref: str,
) -> Refund:
    """Refund ``amount`` of what was paid for a payable (after-sales). Idempotent per
    ``request_ref`` (e.g. ``"after_sale:12"``): the same request answers the same Refund;
    the same ref with another amount or payable is a 409. Over the paid amount: 409."""
    amount = _valid_request(amount, request_ref)
    existing = _existing(tenant, request_ref, purpose, reference, amount)
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            payments = list(
                lock_objects.payments_of_payable_for_update(
                    tenant=tenant, purpose=purpose, reference=reference
                ).filter(status=Payment.Status.SUCCEEDED, purpose_accepted=True)
            )
            if not payments:
                raise ConflictError(
                    PaymentErrorCode.NOTHING_PAID,
                    _("Nothing was paid for this; nothing to refund."),
                )
            payment = payments[-1]
            _reserve(payment, amount)
            refund = Refund.objects.create(
                tenant=tenant,
                payment=payment,
                amount=amount,
                out_refund_no=new_out_no("R"),
                request_ref=request_ref,
                reason=reason[:200],
            )
            event_add(
                payment=payment,
                refund=refund,
                kind="refund_requested",
                to_status="created",
                source="service",
                data={"amount": str(amount), "request_ref": request_ref},
            )
            refund_submit_later(refund)
    except IntegrityError:
        existing = _existing(tenant, request_ref, purpose, reference, amount)
        if existing is None:
            raise
        return existing
    return refund


def _valid_request(amount: Decimal, request_ref: str) -> Decimal:
    try:
        amount = quantize(Decimal(str(amount)))
    except (InvalidOperation, ValueError, TypeError):
        raise InvalidInputError(
            PaymentErrorCode.REFUND_INVALID_AMOUNT, _("Invalid amount.")
        ) from None
    if amount <= 0:
        raise InvalidInputError(
            PaymentErrorCode.REFUND_INVALID_AMOUNT,
            _("A refund amount must be positive."),
            details={"amount": str(amount)},
        )
    if not request_ref or len(request_ref) > 64 or request_ref.startswith(Refund.AUTO_PREFIX):
        raise InvalidInputError("invalid_request_ref", _("Invalid request_ref."))
    return amount


def refund_check(
    *, tenant: Tenant, purpose: str, reference: str, amount: Decimal, request_ref: str
) -> None:
    """Raise what ``refund_request`` would refuse with, without writing anything, so a caller
    can validate inside its own transaction before it changes state and asks after commit:
    an amount <= 0 (400), a ref used for another refund, nothing paid, or more than what is
    left of the payment (409). ``refund_request`` still enforces all of it under its locks."""
    amount = _valid_request(amount, request_ref)
    if _existing(tenant, request_ref, purpose, reference, amount) is not None:
        return  # asking again is the same refund
    payment = payment_accepted_last(tenant=tenant, purpose=purpose, reference=reference)
    if payment is None:
        raise ConflictError(
            PaymentErrorCode.NOTHING_PAID, _("Nothing was paid for this; nothing to refund.")
        )
    if payment.refunded_amount + amount > payment.amount:
        raise ConflictError(
            PaymentErrorCode.REFUND_EXCEEDS_PAID,
            _("The refund would exceed the amount paid."),
            details={
                "paid": str(payment.amount),
                "already_refunded": str(payment.refunded_amount),
                "requested": str(amount),
            },
        )


def _existing(
    tenant: Tenant, request_ref: str, purpose: str, reference: str, amount: Decimal
) -> Refund | None:
    existing = (
        Refund.objects.for_tenant(tenant)
        .select_related("payment")
        .filter(request_ref=request_ref)
        .first()
    )
    if existing is None:
        return None
    if (
        existing.amount != amount
        or existing.payment.purpose != purpose
        or existing.payment.reference != reference
    ):
        raise ConflictError(
            PaymentErrorCode.REFUND_REF_REUSED,
            _("This request_ref was already used for another refund."),
            details={"refund_id": existing.pk},
        )
    return existing


def refund_auto_create(*, payment: Payment) -> Refund:
    """Inside the paid transition: the whole payment goes back, requested exactly once."""
    request_ref = f"{Refund.AUTO_PREFIX}{payment.pk}"
    existing = Refund.objects.for_tenant(payment.tenant_id).filter(request_ref=request_ref).first()
    if existing is not None:
        return existing
    _reserve(payment, payment.amount - payment.refunded_amount)
    refund = Refund.objects.create(
        tenant_id=payment.tenant_id,
        payment=payment,
        amount=payment.amount - payment.refunded_amount,
        out_refund_no=new_out_no("R"),
        request_ref=request_ref,
        reason="Automatic refund: the payable no longer accepts this payment.",
    )
    event_add(
        payment=payment,
        refund=refund,
        kind="auto_refund_requested",
        to_status="created",
        source="paid",
        data={"amount": str(refund.amount)},
    )
    return refund


def refund_submit_later(refund: Refund) -> None:
    """After commit (outside locks): submit the refund to the gateway (a follow-up recorded
    in this transaction, so a broker outage delays it and never loses it)."""
    follow_up(
        tenant=refund.tenant_id,
        task="payments.tasks.refund_submit",
        key=f"refund_submit:{refund.pk}",
        kwargs={"refund_id": refund.pk},
    )


def refund_submit(*, refund_id: int) -> Refund:
    """Send a created (or failed, on retry) refund to its gateway and apply the answer."""
    # The task names the refund only: finding its tenant is platform-wide.
    refund = Refund.objects.all_tenants().select_related("payment", "tenant").get(pk=refund_id)
    claimed = transition_update(
        Refund.objects.for_tenant(refund.tenant_id).filter(pk=refund.pk),
        REFUND_TRANSITIONS,
        Refund.Status.PROCESSING,
        attempts=F("attempts") + 1,
        last_error="",
    )
    if not claimed:
        return refund  # in flight or done
    refund.refresh_from_db()
    payment = refund.payment
    event_add(
        payment=payment,
        refund=refund,
        kind="refund_submitted",
        to_status="processing",
        source="gateway",
        data={"attempt": refund.attempts},
    )
    try:
        config = config_for_gateway(tenant=refund.tenant, gateway=payment.gateway)
        adapter = adapter_for(config)
        name = "notify-wechat-refund" if payment.gateway == Gateway.WECHAT else "notify-sandbox"
        state = adapter.refund(
            refund=refund, payment=payment, notify_url=notify_url(tenant=refund.tenant, name=name)
        )
    except (GatewayError, ApplicationError) as exc:
        logger.warning("refund %s failed: %s", refund.out_refund_no, exc)
        state = RefundState(state="failed", message=str(exc))
    if state.state == "processing":
        if state.gateway_refund_id:
            Refund.objects.for_tenant(refund.tenant_id).filter(pk=refund.pk).update(
                gateway_refund_id=state.gateway_refund_id
            )
        refund.refresh_from_db()
        return refund
    if state.state == "succeeded" and state.amount_fen is None:
        state = replace(state, amount_fen=to_fen(refund.amount))
    return refund_finalise(tenant=refund.tenant_id, refund_id=refund.pk, state=state, source="api")


def refund_finalise(
    *, tenant: Tenant | int, refund_id: int, state: RefundState, source: str
) -> Refund:
    """Apply a refund's final state once: succeeded (-> on_refunded) or failed (retryable)."""
    with transaction.atomic():
        refund = lock_objects.refund_for_update(tenant=tenant, pk=refund_id)
        if refund.status == Refund.Status.SUCCEEDED:
            return refund
        from_status = refund.status
        if state.state == "succeeded":
            if state.amount_fen is not None and state.amount_fen != to_fen(refund.amount):
                raise ValueError("refund amount differs from our record")
            refund_transition(refund, Refund.Status.SUCCEEDED)
            refund.refunded_at = timezone.now()
            refund.gateway_refund_id = state.gateway_refund_id or refund.gateway_refund_id
            refund.raw_notification = state.raw or refund.raw_notification
            refund.last_error = ""
            refund.save()
            event_add(
                payment=refund.payment,
                refund=refund,
                kind="refund_succeeded",
                from_status=from_status,
                to_status="succeeded",
                source=source,
            )
            if not refund.is_automatic:
                handler_for(refund.payment.purpose).on_refunded(
                    tenant=refund.payment.tenant,
                    reference=refund.payment.reference,
                    refund=refund,
                )
        elif state.state == "failed":
            if refund.status == Refund.Status.FAILED:
                return refund
            refund_transition(refund, Refund.Status.FAILED)
            refund.last_error = (state.message or "failed")[:500]
            refund.gateway_refund_id = state.gateway_refund_id or refund.gateway_refund_id
            refund.save()
            event_add(
                payment=refund.payment,
                refund=refund,
                kind="refund_failed",
                from_status=from_status,
                to_status="failed",
                source=source,
                data={"error": refund.last_error},
            )
    return refund


def refund_retry(*, tenant: Tenant, refund_id: int) -> Refund:
    """Retry a failed refund (console action). A refund the gateway itself closed gets a new
    out_refund_no (the old one is final there); a refund that never reached it keeps its own."""
    with transaction.atomic():
        refund = lock_objects.refund_for_update(tenant=tenant, pk=refund_id)
        if refund.status != Refund.Status.FAILED:
            raise ConflictError(
                PaymentErrorCode.REFUND_NOT_RETRYABLE,
                _("Only failed refunds can be retried (this one is %(status)s).")
                % {"status": refund.status},
            )
        if refund.gateway_refund_id:
            refund.out_refund_no = new_out_no("R")
            refund.gateway_refund_id = ""
            refund.save(update_fields=["out_refund_no", "gateway_refund_id", "updated_at"])
        event_add(payment=refund.payment, refund=refund, kind="refund_retry", source="console")
    return refund_submit(refund_id=refund.pk)


def refunds_sync_processing(*, older_than_minutes: int = 5, limit: int = 200) -> int:
    """Query refunds still processing (lost refund notifications)."""
    from datetime import timedelta

    due = Refund.objects.select_related("payment", "tenant").filter(
        status=Refund.Status.PROCESSING,
        updated_at__lte=timezone.now() - timedelta(minutes=older_than_minutes),
    )[:limit]
    count = 0
    for refund in due:
        try:
            config = config_for_gateway(tenant=refund.tenant, gateway=refund.payment.gateway)
            state = adapter_for(config).query_refund(refund=refund, payment=refund.payment)
        except (GatewayError, ApplicationError) as exc:
            logger.warning("refund query of %s failed: %s", refund.out_refund_no, exc)
            continue
        if state.state != "processing":
            refund_finalise(
                tenant=refund.tenant_id, refund_id=refund.pk, state=state, source="query"
            )
            count += 1
    return count
