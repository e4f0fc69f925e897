"""Payouts: money to a member's WeChat balance (merchant transfer) or through the sandbox.

``payout_request`` is idempotent per ``reference`` (``withdrawal:12``): it records the payout
and submits it after commit (Celery), outside any lock. The gateway's answer, the transfer
notification and the fallback query all go through :func:`payout_apply_state`, which locks
the row and finalises it exactly once, telling the purpose's handler (distribution) whether the
money went out (``on_payout_succeeded``) or not (``on_payout_failed``: it gives the amount
back). A request the gateway refused never created a transfer, so it fails at once; a request
whose outcome is unknown (network) stays ``created`` and is retried with the same
``out_bill_no`` after a query (WeChat de-duplicates by it).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mall.errors import ApplicationError, ConflictError, InvalidInputError
from mall.followups.services import follow_up
from mall.money import quantize, to_fen
from mall.tenancy.models import Tenant
from mall.tenancy.sandbox import sandbox_allowed
from mall.transitions import transition_apply
from members.models import Member, MemberIdentity
from payments import lock_objects
from payments.common import new_out_no, notify_url
from payments.errors import PaymentErrorCode
from payments.gateways import adapter_for
from payments.gateways.base import GatewayError, PayoutState
from payments.gateways.config import gateway_config_get
from payments.models import PAYOUT_TRANSITIONS, Gateway, GatewayConfig, Payout
from payments.purposes import payout_handler

logger = logging.getLogger(__name__)

# WeChat requires the payee's real name from 2,000 CNY; we do not hold real names.
WECHAT_REAL_NAME_FROM = Decimal("2000.00")


class PayoutMismatch(Exception):
    """A gateway answer or notification does not match our payout record."""


def _payee_openid(*, tenant: Tenant, member: Member, config: GatewayConfig) -> str | None:
    if config.gateway == Gateway.SANDBOX:
        identity = (
            MemberIdentity.objects.for_tenant(tenant)
            .filter(member=member, platform=MemberIdentity.Platform.WECHAT)
            .first()
        )
        return identity.openid if identity is not None else f"sandbox-member-{member.pk}"
    identity = (
        MemberIdentity.objects.for_tenant(tenant)
        .filter(member=member, app_id=config.app_id)
        .order_by("pk")
        .first()
    )
    return identity.openid if identity is not None else None


def _payout_config(tenant: Tenant) -> GatewayConfig | None:
    config = gateway_config_get(tenant=tenant, gateway=Gateway.WECHAT)
    if config is not None:
        return config
    if sandbox_allowed():
        return gateway_config_get(tenant=tenant, gateway=Gateway.SANDBOX)
    return None


def payout_gateway_for(*, tenant: Tenant, member: Member) -> str | None:
    """The gateway a payout to ``member`` would use now: ``wechat`` when the tenant has an
    active WeChat Pay configuration and the member an openid under its app; else ``sandbox``
    when the tenant has a sandbox gateway and the sandbox is allowed; else None (offline)."""
    config = _payout_config(tenant)
    if config is None:
        return None
    if _payee_openid(tenant=tenant, member=member, config=config) is None:
        return None
    return config.gateway


def payout_request(
    *,
    tenant: Tenant,
    member: Member,
    amount: Decimal,
    reference: str,
    reason: str,
    gateway: str | None = None,
) -> Payout:
    """Pay ``amount`` to ``member`` once per ``reference`` (``"<purpose>:<id>"``); the same
    reference answers the same Payout (409 ``payout_reference_reused`` when it was used with
    another member or amount). Submitted to the gateway after commit."""
    try:
        amount = quantize(Decimal(str(amount)))
    except (InvalidOperation, ValueError, TypeError):
        raise InvalidInputError(PaymentErrorCode.PAYOUT_INVALID, _("Invalid amount.")) from None
    if amount <= 0:
        raise InvalidInputError(PaymentErrorCode.PAYOUT_INVALID, _("A payout must be positive."))
    purpose, sep, _rest = reference.partition(":")
    if not sep or not purpose or len(reference) > 64 or len(purpose) > 32:
        raise InvalidInputError(
            PaymentErrorCode.PAYOUT_INVALID, _("A payout reference is '<purpose>:<id>'.")
        )
    existing = _existing(tenant, reference, member, amount)
    if existing is not None:
        return existing

    if gateway is None:
        config = _payout_config(tenant)
    elif gateway in (Gateway.WECHAT, Gateway.SANDBOX):
        config = gateway_config_get(tenant=tenant, gateway=gateway)
        if gateway == Gateway.SANDBOX and not sandbox_allowed():
            config = None
    else:
        config = None
    if config is None:
        raise ApplicationError(
            PaymentErrorCode.PAYOUT_NOT_CONFIGURED,
            _("This shop cannot pay out through a gateway (no WeChat Pay configuration)."),
        )
    if config.gateway == Gateway.WECHAT and amount >= WECHAT_REAL_NAME_FROM:
        raise ApplicationError(
            PaymentErrorCode.PAYOUT_NEEDS_REAL_NAME,
            _("WeChat transfers from %(amount)s need the payee's real name; pay this one offline.")
            % {"amount": WECHAT_REAL_NAME_FROM},
        )
    openid = _payee_openid(tenant=tenant, member=member, config=config)
    if openid is None:
        raise ApplicationError(
            PaymentErrorCode.PAYER_UNKNOWN,
            _("The member has no WeChat identity under the shop's payment app."),
        )
    try:
        with transaction.atomic():
            payout = Payout.objects.create(
                tenant=tenant,
                purpose=purpose,
                reference=reference,
                member=member,
                gateway=config.gateway,
                amount=amount,
                reason=reason[:32],
                out_bill_no=new_out_no("T"),
                app_id=config.app_id,
                mch_id=config.mch_id,
                payee_openid=openid,
            )
    except IntegrityError:
        existing = _existing(tenant, reference, member, amount)
        if existing is None:
            raise
        return existing
    payout_submit_later(payout)
    return payout


def _existing(tenant: Tenant, reference: str, member: Member, amount: Decimal) -> Payout | None:
    found = Payout.objects.for_tenant(tenant).filter(reference=reference).first()
    if found is None:
        return None
    if found.member_id != member.pk or found.amount != amount:
        raise ConflictError(
            PaymentErrorCode.PAYOUT_REFERENCE_REUSED,
            _("This payout reference was already used for another payout."),
            details={"out_bill_no": found.out_bill_no},
        )
    return found


def payout_submit_later(payout: Payout) -> None:
    """After commit: send the payout to the gateway (a follow-up of this transaction)."""
    follow_up(
        tenant=payout.tenant_id,
        task="payments.tasks.payout_submit",
        key=f"payout_submit:{payout.pk}",
        kwargs={"payout_id": payout.pk},
    )


def _config_of(payout: Payout) -> GatewayConfig:
    config = (
        GatewayConfig.objects.for_tenant(payout.tenant_id).filter(gateway=payout.gateway).first()
    )
    if config is None:
        raise GatewayError(GatewayError.INVALID, "the payout's gateway is no longer configured")
    return config


def payout_submit(*, payout_id: int) -> Payout:
    """Send a created payout to its gateway (a retry queries first) and apply the answer."""
    # The task names the payout only: finding its tenant is platform-wide.
    payout = Payout.objects.all_tenants().select_related("tenant").get(pk=payout_id)
    if payout.status != Payout.Status.CREATED:
        return payout
    claimed = (
        Payout.objects.for_tenant(payout.tenant_id)
        .filter(pk=payout.pk, status=Payout.Status.CREATED, attempts=payout.attempts)
        .update(attempts=F("attempts") + 1)
    )
    if not claimed:
        return Payout.objects.for_tenant(payout.tenant_id).get(pk=payout.pk)  # another worker
    retry = payout.attempts > 0
    payout.attempts += 1
    try:
        adapter = adapter_for(_config_of(payout))
        state = adapter.query_transfer(payout=payout) if retry else None  # type: ignore[attr-defined]
        if state is None or state.state == "not_found":
            wechat = payout.gateway == Gateway.WECHAT
            name = "notify-wechat-transfer" if wechat else "notify-sandbox"
            state = adapter.transfer(  # type: ignore[attr-defined]
                payout=payout, notify_url=notify_url(tenant=payout.tenant, name=name)
            )
    except GatewayError as exc:
        if exc.kind == GatewayError.REFUSED:
            # Refused at creation: no transfer exists; nothing was paid.
            state = PayoutState(
                state="failed",
                out_bill_no=payout.out_bill_no,
                fail_reason=f"refused: {exc.code} {exc.message}"[:200],
            )
        else:
            logger.warning("payout %s: outcome unknown, will retry: %s", payout.out_bill_no, exc)
            Payout.objects.for_tenant(payout.tenant_id).filter(pk=payout.pk).update(
                last_error=str(exc)[:500]
            )
            payout.refresh_from_db()
            return payout
    try:
        return payout_apply_state(payout_id=payout.pk, state=state, source="api")
    except PayoutMismatch as exc:
        logger.error("payout %s: gateway answer does not match: %s", payout.out_bill_no, exc)
        Payout.objects.for_tenant(payout.tenant_id).filter(pk=payout.pk).update(
            last_error=f"mismatch: {exc}"[:500]
        )
        payout.refresh_from_db()
        return payout


def payout_transition(payout: Payout, to: str) -> bool:
    """The one status change of a (locked) payout, checked against ``PAYOUT_TRANSITIONS``
    (409 when not allowed; ``False`` when already there). The caller saves."""
    return transition_apply(payout, PAYOUT_TRANSITIONS, to, entity="payout")


def payout_apply_state(*, payout_id: int, state: PayoutState, source: str) -> Payout:
    """Apply what the gateway says about a payout; final states apply exactly once."""
    with transaction.atomic():
        payout = lock_objects.payout_for_update(pk=payout_id)
        if payout.status in Payout.FINAL or state.state == "not_found":
            return payout
        if state.out_bill_no and state.out_bill_no != payout.out_bill_no:
            raise PayoutMismatch("out_bill_no differs")
        if state.amount_fen is not None and state.amount_fen != to_fen(payout.amount):
            raise PayoutMismatch("amount differs")
        if state.openid and state.openid != payout.payee_openid:
            raise PayoutMismatch("payee differs")
        if state.mch_id and payout.mch_id and state.mch_id != payout.mch_id:
            raise PayoutMismatch("mch id differs")
        payout.transfer_bill_no = state.transfer_bill_no or payout.transfer_bill_no
        payout.last_error = ""
        if state.raw:
            payout.raw = {**(payout.raw or {}), source: state.raw}
        handler = payout_handler(payout.purpose)
        if state.state == "succeeded":
            payout_transition(payout, Payout.Status.SUCCEEDED)
            payout.finished_at = timezone.now()
            payout.save()
            if handler is not None:
                handler.on_payout_succeeded(
                    tenant=payout.tenant, reference=payout.reference, payout=payout
                )
        elif state.state == "failed":
            payout_transition(payout, Payout.Status.FAILED)
            payout.fail_reason = state.fail_reason or "failed"
            payout.finished_at = timezone.now()
            payout.save()
            if handler is not None:
                handler.on_payout_failed(
                    tenant=payout.tenant, reference=payout.reference, payout=payout
                )
        elif state.state == "waiting_confirmation":
            payout_transition(payout, Payout.Status.WAITING_CONFIRMATION)
            payout.package_info = state.package_info or payout.package_info
            payout.save()
        else:
            payout_transition(payout, Payout.Status.PROCESSING)
            payout.save()
        if handler is None and payout.status in Payout.FINAL:
            logger.error("payout %s finished but no handler for %r", payout.pk, payout.purpose)
    return payout


def payout_confirmation_params(*, payout: Payout) -> dict[str, str] | None:
    """What the mini program passes to ``wx.requestMerchantTransfer`` for a payout waiting
    for the member's confirmation (WeChat's current merchant transfers), else None."""
    if payout.status != Payout.Status.WAITING_CONFIRMATION or not payout.package_info:
        return None
    return {"mchId": payout.mch_id, "appId": payout.app_id, "package": payout.package_info}


def payouts_sync(
    *, created_after_minutes: int = 2, query_after_minutes: int = 5, limit: int = 200
) -> int:
    """Beat: resubmit payouts whose submission has no known outcome, and query those still
    processing or waiting (lost notifications; WeChat cancels unconfirmed ones after 24h)."""
    now = timezone.now()
    count = 0
    stuck = (
        Payout.objects.all_tenants()
        .filter(  # sweep over every tenant
            status=Payout.Status.CREATED,
            updated_at__lte=now - timedelta(minutes=created_after_minutes),
        )
        .order_by("pk")[:limit]
    )
    for payout in stuck:
        payout_submit(payout_id=payout.pk)
        count += 1
    due = (
        Payout.objects.select_related("tenant")
        .filter(
            status__in=[Payout.Status.PROCESSING, Payout.Status.WAITING_CONFIRMATION],
            updated_at__lte=now - timedelta(minutes=query_after_minutes),
        )
        .order_by("pk")[:limit]
    )
    for payout in due:
        try:
            state = adapter_for(_config_of(payout)).query_transfer(payout=payout)  # type: ignore[attr-defined]
            payout_apply_state(payout_id=payout.pk, state=state, source="query")
        except (GatewayError, PayoutMismatch) as exc:
            logger.warning("payout query of %s failed: %s", payout.out_bill_no, exc)
            Payout.objects.for_tenant(payout.tenant_id).filter(pk=payout.pk).update(
                last_error=str(exc)[:500]
            )
            continue
        count += 1
    return count
