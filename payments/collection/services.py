"""Payment use cases: start (the buyer's /pay), the one paid transition, close, sync."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mall.errors import ApplicationError
from mall.money import to_fen
from mall.tenancy.models import Channel, Tenant
from mall.transitions import transition_allowed
from members.models import Member, MemberIdentity
from payments import lock_objects
from payments.common import (
    event_add,
    gateway_application_error,
    handler_for,
    new_out_no,
    notify_url,
)
from payments.errors import PaymentErrorCode
from payments.gateways import adapter_for
from payments.gateways.base import AlreadyPaid, GatewayError, TradeState
from payments.gateways.config import config_for_gateway
from payments.models import PAYMENT_TRANSITIONS, Gateway, GatewayConfig, Payment, Refund
from payments.refunds.services import refund_auto_create, refund_submit_later

logger = logging.getLogger(__name__)

# A prepay (WeChat prepay_id: 2 hours) is reused for a repeated /pay within this window.
PREPAY_REUSE = timedelta(minutes=90)

NOTIFY_NAMES = {
    Gateway.WECHAT: "notify-wechat",
    Gateway.ALIPAY: "notify-alipay",
    Gateway.SANDBOX: "notify-sandbox",
}


@dataclass(frozen=True)
class PayStarted:
    payment: Payment
    answer: dict[str, Any]
    reused: bool


def _payer_id(*, tenant: Tenant, member: Member, config: GatewayConfig, channel: Any) -> str:
    if config.gateway == Gateway.SANDBOX:
        identity = (
            MemberIdentity.objects.for_tenant(tenant)
            .filter(member=member, app_id=getattr(channel, "app_id", ""))
            .first()
        )
        return identity.openid if identity is not None else f"sandbox-member-{member.pk}"
    if (
        channel is not None
        and channel.platform == config.gateway
        and channel.app_id != config.app_id
    ):
        raise ApplicationError(
            PaymentErrorCode.GATEWAY_NOT_CONFIGURED,
            _("This mini program is not bound to the shop's payment account."),
        )
    identity = (
        MemberIdentity.objects.for_tenant(tenant)
        .filter(member=member, platform=config.gateway, app_id=config.app_id)
        .order_by("-last_login_at", "-id")
        .first()
    )
    if identity is None:
        raise ApplicationError(
            PaymentErrorCode.PAYER_UNKNOWN,
            _("Log in through the %(gateway)s mini program to pay with %(gateway)s.")
            % {"gateway": config.gateway},
        )
    return identity.openid


def payment_start(
    *,
    tenant: Tenant,
    member: Member,
    purpose: str,
    reference: str,
    gateway: str,
    channel: Channel | None = None,
) -> PayStarted:
    """The buyer asks to pay: create (or reuse) the gateway payment, answer the client params."""
    handler = handler_for(purpose)
    payable = handler.payable_for_member(tenant=tenant, member=member, reference=reference)
    config = config_for_gateway(tenant=tenant, gateway=gateway)
    payer_id = _payer_id(tenant=tenant, member=member, config=config, channel=channel)
    adapter = adapter_for(config)

    reusable = (
        Payment.objects.for_tenant(tenant)
        .filter(
            purpose=purpose,
            reference=reference,
            gateway=config.gateway,
            status=Payment.Status.PENDING,
            amount=payable.amount,
            member=member,
            payer_id=payer_id,
            app_id=config.app_id,
            created_at__gte=timezone.now() - PREPAY_REUSE,
        )
        .exclude(prepay_id="")
        .order_by("-id")
        .first()
    )
    if reusable is not None:
        return PayStarted(reusable, adapter.pay_answer(payment=reusable), reused=True)

    with transaction.atomic():
        payment = Payment.objects.create(
            tenant=tenant,
            purpose=purpose,
            reference=reference,
            member=member,
            gateway=config.gateway,
            out_trade_no=new_out_no("P"),
            amount=payable.amount,
            subject=payable.subject[:128],
            app_id=config.app_id,
            mch_id=config.mch_id,
            payer_id=payer_id,
        )
        event_add(payment=payment, kind="created", to_status=payment.status, source="api")

    # The gateway call runs outside any transaction or lock.
    try:
        prepay = adapter.prepay(
            payment=payment,
            payer_id=payer_id,
            notify_url=notify_url(tenant=tenant, name=NOTIFY_NAMES[Gateway(config.gateway)]),
            expires_at=payable.expires_at,
        )
    except GatewayError as exc:
        logger.warning("prepay of %s failed: %s", payment.out_trade_no, exc)
        _transition_simple(
            payment, Payment.Status.FAILED, kind="prepay_failed", data={"error": str(exc)}
        )
        raise gateway_application_error(exc) from exc

    with transaction.atomic():
        updated = (
            Payment.objects.for_tenant(tenant)
            .filter(pk=payment.pk, status=Payment.Status.CREATED)
            .update(status=Payment.Status.PENDING, prepay_id=prepay.prepay_id)
        )
        if updated:
            event_add(
                payment=payment,
                kind="prepaid",
                from_status="created",
                to_status="pending",
                source="api",
                data={"prepay_id": prepay.prepay_id},
            )
    payment.refresh_from_db()
    return PayStarted(payment, adapter.pay_answer(payment=payment), reused=False)


def _transition_simple(
    payment: Payment, to_status: str, *, kind: str, source: str = "", data: dict | None = None
) -> bool:
    """A non-success transition (failed/closed) if allowed from the current status."""
    with transaction.atomic():
        locked = lock_objects.payment_for_update(tenant=payment.tenant_id, pk=payment.pk)
        if not transition_allowed(PAYMENT_TRANSITIONS, locked.status, to_status):
            return False
        from_status = locked.status
        locked.status = to_status
        if to_status == Payment.Status.CLOSED:
            locked.closed_at = timezone.now()
        locked.save(update_fields=["status", "closed_at", "updated_at"])
        event_add(
            payment=locked,
            kind=kind,
            from_status=from_status,
            to_status=to_status,
            source=source,
            data=data,
        )
    payment.refresh_from_db()
    return True


class TradeMismatch(Exception):
    """A verified gateway answer that does not match our record: nothing may change."""


def trade_state_check(*, payment: Payment, state: TradeState, config: GatewayConfig) -> None:
    """mch id, app id, out_trade_no and amount of a verified gateway state against our record."""
    problems = []
    if state.out_trade_no != payment.out_trade_no:
        problems.append("out_trade_no")
    if state.app_id and state.app_id != config.app_id:
        problems.append("app_id")
    if state.app_id != (payment.app_id or state.app_id):
        problems.append("app_id (payment)")
    succeeded = state.state == "succeeded"
    checks_mch = config.gateway != Gateway.ALIPAY and (state.mch_id or succeeded)
    if checks_mch and state.mch_id != config.mch_id:
        problems.append("mch_id")
    if succeeded and not state.app_id:
        problems.append("app_id missing")
    if state.state == "succeeded" and state.amount_fen != to_fen(payment.amount):
        problems.append("amount")
    if problems:
        raise TradeMismatch(", ".join(problems))


@dataclass(frozen=True)
class PaidResult:
    payment: Payment
    changed: bool
    auto_refund: Refund | None = None


def payment_apply_success(
    *, tenant: Tenant | int, payment_id: int, state: TradeState, source: str
) -> PaidResult:
    """The one paid transition: idempotent; the first verified success calls ``on_paid``.

    Runs in one transaction with the payment row locked. A repeat is a no-op. When the
    payable refuses the money (cancelled meanwhile, or paid by another payment), the payment is
    still recorded as succeeded and an automatic refund is requested exactly once (created
    here, submitted to the gateway after commit, outside the locks).
    """
    with transaction.atomic():
        payment = lock_objects.payment_for_update(tenant=tenant, pk=payment_id)
        if payment.status == Payment.Status.SUCCEEDED:
            return PaidResult(payment, changed=False)
        from_status = payment.status
        payment.status = Payment.Status.SUCCEEDED
        payment.transaction_id = state.transaction_id
        if state.payer_id:
            payment.payer_id = state.payer_id
        payment.raw_notification = state.raw or None
        payment.paid_at = state.paid_at or timezone.now()
        payment.save()
        event_add(
            payment=payment,
            kind="succeeded",
            from_status=from_status,
            to_status="succeeded",
            source=source,
            data={"transaction_id": state.transaction_id},
        )
        accepted = bool(
            handler_for(payment.purpose).on_paid(
                tenant=payment.tenant,
                reference=payment.reference,
                payment=payment,
                amount=payment.amount,
            )
        )
        payment.purpose_accepted = accepted
        payment.save(update_fields=["purpose_accepted", "updated_at"])
        refund = None
        if not accepted:
            refund = refund_auto_create(payment=payment)
            refund_submit_later(refund)
    return PaidResult(payment, changed=True, auto_refund=refund)


def payment_apply_state(
    *, payment: Payment, state: TradeState, config: GatewayConfig, source: str
) -> PaidResult:
    """Apply a verified gateway state (notification or query) after checking it matches."""
    trade_state_check(payment=payment, state=state, config=config)
    if state.state == "succeeded":
        return payment_apply_success(
            tenant=payment.tenant_id, payment_id=payment.pk, state=state, source=source
        )
    if state.state in ("closed", "failed"):
        _transition_simple(
            payment,
            state.state,
            kind=f"gateway_{state.state}",
            source=source,
            data={"raw": state.raw} if state.raw else None,
        )
    return PaidResult(payment, changed=False)


def payment_close(*, payment: Payment, reason: str = "") -> Payment:
    """Close one unpaid payment at the gateway, then here. A payment the payer completed
    meanwhile is applied as a success instead (and refunded if the payable refuses it)."""
    if payment.status not in (Payment.Status.CREATED, Payment.Status.PENDING):
        return payment
    config = config_for_gateway(tenant=payment.tenant, gateway=payment.gateway)
    adapter = adapter_for(config)
    if payment.status == Payment.Status.PENDING:
        try:
            adapter.close(payment=payment)
        except AlreadyPaid:
            state = adapter.query(payment=payment)
            payment_apply_state(payment=payment, state=state, config=config, source="close")
            payment.refresh_from_db()
            return payment
    _transition_simple(
        payment, Payment.Status.CLOSED, kind="closed", source="close", data={"reason": reason}
    )
    return payment


def payment_close_for(tenant: Tenant, purpose: str, reference: str) -> list[Payment]:
    """Close every unpaid payment of a payable (the order was cancelled). Gateway errors are
    logged and left to the fallback query task, which closes what is gone."""
    payments = list(
        Payment.objects.for_tenant(tenant).filter(
            purpose=purpose,
            reference=reference,
            status__in=[Payment.Status.CREATED, Payment.Status.PENDING],
        )
    )
    closed = []
    for payment in payments:
        try:
            closed.append(payment_close(payment=payment, reason="payable gone"))
        except (GatewayError, ApplicationError) as exc:
            logger.warning("closing %s failed: %s", payment.out_trade_no, exc)
    return closed


def payment_sync(*, payment: Payment) -> Payment:
    """Ask the gateway about a pending payment and apply the answer (lost notifications);
    close it when its payable is gone."""
    config = config_for_gateway(tenant=payment.tenant, gateway=payment.gateway)
    adapter = adapter_for(config)
    Payment.objects.for_tenant(payment.tenant_id).filter(pk=payment.pk).update(
        last_queried_at=timezone.now()
    )
    state = adapter.query(payment=payment)
    try:
        payment_apply_state(payment=payment, state=state, config=config, source="query")
    except TradeMismatch as exc:
        logger.error("query answer for %s does not match: %s", payment.out_trade_no, exc)
        return payment
    payment.refresh_from_db()
    if payment.status == Payment.Status.PENDING:
        payable = handler_for(payment.purpose).payable_get(
            tenant=payment.tenant, reference=payment.reference
        )
        if payable is None:
            payment_close(payment=payment, reason="payable gone")
            payment.refresh_from_db()
    return payment


def payments_sync_pending(*, older_than_minutes: int | None = None, limit: int = 200) -> int:
    """The fallback query: payments pending longer than N minutes (and younger than 2 days)."""
    minutes = older_than_minutes or getattr(settings, "PAYMENTS_QUERY_AFTER_MINUTES", 5)
    now = timezone.now()
    due = (
        Payment.objects.select_related("tenant")
        .filter(
            status=Payment.Status.PENDING,
            created_at__lte=now - timedelta(minutes=minutes),  # type: ignore[arg-type]  # an int setting
            created_at__gte=now - timedelta(days=2),
        )
        .order_by("last_queried_at", "pk")[:limit]
    )
    count = 0
    for payment in due:
        try:
            payment_sync(payment=payment)
            count += 1
        except (GatewayError, ApplicationError) as exc:
            logger.warning("fallback query of %s failed: %s", payment.out_trade_no, exc)
    return count
