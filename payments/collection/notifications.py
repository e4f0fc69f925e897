"""Gateway notifications: verify, match against our records, then apply through the same
transition services as every other path. Anything unverifiable is logged and changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from mall.money import to_fen
from mall.tenancy.models import Tenant
from payments.collection.services import TradeMismatch, payment_apply_state
from payments.gateways import alipay, wechat
from payments.gateways.wechat import NotificationRejected
from payments.models import Gateway, GatewayConfig, Payment, Payout, Refund
from payments.payouts.services import PayoutMismatch, payout_apply_state
from payments.refunds.services import refund_finalise

logger = logging.getLogger("payments.notifications")


@dataclass(frozen=True)
class NotificationAnswer:
    ok: bool
    status: int
    message: str = ""


def _reject(gateway: str, slug: str, status: int, reason: str, **ctx: Any) -> NotificationAnswer:
    logger.warning(
        "rejected %s notification for tenant %r: %s %s", gateway, slug[:60], reason, ctx or ""
    )
    return NotificationAnswer(ok=False, status=status, message=reason)


def _config(slug: str, gateway: str) -> GatewayConfig | None:
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        return None
    return (
        GatewayConfig.objects.for_tenant(tenant)
        .select_related("tenant")
        .filter(gateway=gateway, is_active=True)
        .first()
    )


def notification_handle_wechat(
    *,
    tenant_slug: str,
    headers: dict[str, str],
    body: str,
    kind: str = "payment",
    gateway: str = Gateway.WECHAT,
) -> NotificationAnswer:
    """A WeChat Pay (or sandbox, same format and checks) payment or refund notification."""
    config = _config(tenant_slug, gateway)
    if config is None:
        return _reject(gateway, tenant_slug, 404, "no such tenant or gateway not configured")
    try:
        verified = wechat.notification_verify(config, headers, body)
    except NotificationRejected as exc:
        return _reject(gateway, tenant_slug, exc.status, exc.reason)
    resource = verified["resource"]
    if kind == "refund" or verified["event_type"].startswith("REFUND."):
        return _wechat_refund(config, tenant_slug, resource)
    state = wechat.trade_state_from(resource)
    payment = (
        Payment.objects.for_tenant(config.tenant)
        .filter(out_trade_no=state.out_trade_no, gateway=gateway)
        .first()
    )
    if payment is None:
        return _reject(
            gateway, tenant_slug, 404, "unknown out_trade_no", out_trade_no=state.out_trade_no[:64]
        )
    try:
        payment_apply_state(payment=payment, state=state, config=config, source="notification")
    except TradeMismatch as exc:
        return _reject(
            gateway,
            tenant_slug,
            400,
            f"does not match our record: {exc}",
            out_trade_no=payment.out_trade_no,
        )
    return NotificationAnswer(ok=True, status=204)


def _wechat_refund(config: GatewayConfig, slug: str, resource: dict) -> NotificationAnswer:
    state = wechat.refund_state_from(resource)
    if str(resource.get("mchid") or "") != config.mch_id:
        return _reject(config.gateway, slug, 400, "refund notification for another mch id")
    refund = (
        Refund.objects.for_tenant(config.tenant)
        .select_related("payment")
        .filter(out_refund_no=state.out_refund_no)
        .first()
    )
    if refund is None or refund.payment.gateway != config.gateway:
        return _reject(config.gateway, slug, 404, "unknown out_refund_no")
    if str(
        resource.get("out_trade_no") or ""
    ) != refund.payment.out_trade_no or state.amount_fen != to_fen(refund.amount):
        return _reject(
            config.gateway,
            slug,
            400,
            "refund notification does not match our record",
            out_refund_no=refund.out_refund_no,
        )
    if state.state == "processing":
        return NotificationAnswer(ok=True, status=204)
    refund_finalise(
        tenant=config.tenant_id, refund_id=refund.pk, state=state, source="notification"
    )
    return NotificationAnswer(ok=True, status=204)


def notification_handle_alipay(*, tenant_slug: str, form: dict[str, str]) -> NotificationAnswer:
    """An Alipay async notification (form fields)."""
    config = _config(tenant_slug, Gateway.ALIPAY)
    if config is None:
        return _reject("alipay", tenant_slug, 404, "no such tenant or gateway not configured")
    try:
        data = alipay.notification_verify(config, form)
    except NotificationRejected as exc:
        return _reject("alipay", tenant_slug, exc.status, exc.reason)
    if data.get("app_id") != config.app_id:
        return _reject(
            "alipay",
            tenant_slug,
            400,
            "notification for another app id",
            app_id=str(data.get("app_id"))[:64],
        )
    state = alipay.trade_state_from(data)
    payment = (
        Payment.objects.for_tenant(config.tenant)
        .filter(out_trade_no=state.out_trade_no, gateway=Gateway.ALIPAY)
        .first()
    )
    if payment is None:
        return _reject("alipay", tenant_slug, 404, "unknown out_trade_no")
    if data.get("out_biz_no") or data.get("refund_fee"):
        # A refund notice (Alipay refunds answer synchronously; nothing to apply here).
        return NotificationAnswer(ok=True, status=200)
    try:
        payment_apply_state(payment=payment, state=state, config=config, source="notification")
    except TradeMismatch as exc:
        return _reject(
            "alipay",
            tenant_slug,
            400,
            f"does not match our record: {exc}",
            out_trade_no=payment.out_trade_no,
        )
    return NotificationAnswer(ok=True, status=200)


def notification_handle_wechat_transfer(
    *, tenant_slug: str, headers: dict[str, str], body: str
) -> NotificationAnswer:
    """A WeChat Pay merchant transfer notification (``MCHTRANSFER.BILL.FINISHED``): same
    verification as payments, then mch id, out_bill_no (known), amount and payee checked."""
    gateway = Gateway.WECHAT
    config = _config(tenant_slug, gateway)
    if config is None:
        return _reject(gateway, tenant_slug, 404, "no such tenant or gateway not configured")
    try:
        verified = wechat.notification_verify(config, headers, body)
    except NotificationRejected as exc:
        return _reject(gateway, tenant_slug, exc.status, exc.reason)
    state = wechat.payout_state_from(verified["resource"])
    if state.mch_id != config.mch_id:
        return _reject(gateway, tenant_slug, 400, "transfer notification for another mch id")
    payout = (
        Payout.objects.for_tenant(config.tenant)
        .filter(out_bill_no=state.out_bill_no, gateway=gateway)
        .first()
    )
    if payout is None:
        return _reject(gateway, tenant_slug, 404, "unknown out_bill_no")
    if state.amount_fen is None:
        return _reject(gateway, tenant_slug, 400, "transfer notification without an amount")
    try:
        payout_apply_state(payout_id=payout.pk, state=state, source="notification")
    except PayoutMismatch as exc:
        return _reject(
            gateway,
            tenant_slug,
            400,
            f"does not match our record: {exc}",
            out_bill_no=payout.out_bill_no,
        )
    return NotificationAnswer(ok=True, status=204)
