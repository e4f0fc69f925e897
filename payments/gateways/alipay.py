"""Alipay mini program payments through python-alipay-sdk (RSA2), at ALIPAY_GATEWAY_URL.

``alipay.trade.create`` with the buyer's Alipay user id answers the ``trade_no`` that
``my.tradePay`` needs. Calls go through ``server_api`` (the ``api_alipay_trade_create`` helper
crashes on unsigned error replies); business failures come back as dicts with
``code != "10000"``, and answers are verified with the tenant's Alipay public key by the SDK.
"""

from __future__ import annotations

import http.client
import logging
from decimal import Decimal, InvalidOperation
from typing import Any

from alipay import AliPay
from alipay.exceptions import AliPayException, AliPayValidationError
from alipay.utils import AliPayConfig
from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from mall.money import quantize, to_fen
from mall.tenancy.models import Channel
from payments.gateways.base import AlreadyPaid, GatewayError, Prepay, RefundState, TradeState
from payments.gateways.wechat import NotificationRejected
from payments.models import GatewayConfig, Payment, Refund

logger = logging.getLogger(__name__)

SUCCESS_CODE = "10000"
_TRADE_STATES = {
    "TRADE_SUCCESS": "succeeded",
    "TRADE_FINISHED": "succeeded",
    "WAIT_BUYER_PAY": "pending",
    "TRADE_CLOSED": "closed",
}


def alipay_app_keys(config: GatewayConfig) -> tuple[str, str]:
    """The app's private key and Alipay's public key: the one key pair of the app, kept on the
    tenant's Alipay channel of ``config.app_id`` (login and phone numbers use it too)."""
    keys = (
        Channel.objects.for_tenant(config.tenant_id)
        .filter(platform=Channel.Platform.ALIPAY, app_id=config.app_id)
        .values_list("alipay_app_private_key", "alipay_public_key")
        .first()
    )
    if keys is None or not keys[0] or not keys[1]:
        raise GatewayError(
            GatewayError.INVALID, f"The Alipay channel {config.app_id!r} has no keys configured."
        )
    return keys[0], keys[1]


def alipay_client(config: GatewayConfig) -> AliPay:
    private_key, public_key = alipay_app_keys(config)
    try:
        client = AliPay(
            appid=config.app_id,
            app_private_key_string=private_key,
            alipay_public_key_string=public_key,
            sign_type="RSA2",
            config=AliPayConfig(timeout=settings.EXTERNAL_HTTP_TIMEOUT),
        )
    except (ValueError, IndexError, TypeError) as exc:
        raise GatewayError(GatewayError.INVALID, f"Alipay keys cannot be loaded: {exc!r}") from exc
    client._gateway = settings.ALIPAY_GATEWAY_URL
    return client


def _server_api(config: GatewayConfig, method: str, biz: dict[str, Any], **kw: Any) -> dict:
    client = alipay_client(config)
    try:
        result = client.server_api(method, biz_content=biz, **kw)
    except AliPayValidationError as exc:
        raise GatewayError(GatewayError.INVALID, "Alipay answer failed verification.") from exc
    except AliPayException as exc:
        raise GatewayError(GatewayError.REFUSED, f"Alipay refused {method}.") from exc
    except (OSError, http.client.HTTPException) as exc:
        raise GatewayError(GatewayError.UNAVAILABLE, f"Alipay unreachable: {exc!r}") from exc
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise GatewayError(GatewayError.INVALID, f"Alipay answered oddly: {exc!r}") from exc
    if not isinstance(result, dict):
        raise GatewayError(GatewayError.INVALID, "Alipay answered something unexpected.")
    return result


def _refused(result: dict) -> GatewayError:
    return GatewayError(
        GatewayError.REFUSED,
        str(result.get("sub_msg") or result.get("msg") or "refused")[:200],
        code=str(result.get("sub_code") or result.get("code") or ""),
    )


def _fen(value: Any) -> int | None:
    try:
        return to_fen(Decimal(str(value)))
    except (InvalidOperation, ValueError, TypeError):
        return None


def _paid_at(value: Any) -> Any:
    if not isinstance(value, str):
        return None
    parsed = parse_datetime(value.replace(" ", "T"))
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)  # Alipay times are Beijing time (TIME_ZONE)
    return parsed


def trade_state_from(data: dict[str, Any]) -> TradeState:
    return TradeState(
        state=_TRADE_STATES.get(str(data.get("trade_status")), "pending"),
        out_trade_no=str(data.get("out_trade_no") or ""),
        amount_fen=_fen(data.get("total_amount")),
        transaction_id=str(data.get("trade_no") or "")[:64],
        payer_id=str(data.get("buyer_id") or data.get("buyer_open_id") or "")[:128],
        app_id=str(data.get("app_id") or ""),
        paid_at=_paid_at(data.get("gmt_payment") or data.get("send_pay_date")),
        raw=data,
    )


class AlipayAdapter:
    def __init__(self, config: GatewayConfig) -> None:
        self.config = config

    def prepay(
        self, *, payment: Payment, payer_id: str, notify_url: str, expires_at: Any
    ) -> Prepay:
        biz: dict[str, Any] = {
            "out_trade_no": payment.out_trade_no,
            "total_amount": str(quantize(payment.amount)),
            "subject": (payment.subject or payment.reference)[:256],
            "buyer_id": payer_id,
            "product_code": "JSAPI_PAY",
        }
        if expires_at is not None:
            biz["time_expire"] = timezone.localtime(expires_at).strftime("%Y-%m-%d %H:%M:%S")
        result = _server_api(self.config, "alipay.trade.create", biz, notify_url=notify_url)
        if str(result.get("code")) != SUCCESS_CODE:
            raise _refused(result)
        trade_no = result.get("trade_no")
        if not isinstance(trade_no, str) or not trade_no:
            raise GatewayError(GatewayError.INVALID, "Alipay answered without a trade_no.")
        return Prepay(prepay_id=trade_no[:128])

    def pay_answer(self, *, payment: Payment) -> dict[str, Any]:
        return {"gateway": "alipay", "trade_no": payment.prepay_id}

    def query(self, *, payment: Payment) -> TradeState:
        result = _server_api(
            self.config, "alipay.trade.query", {"out_trade_no": payment.out_trade_no}
        )
        if str(result.get("code")) != SUCCESS_CODE:
            if result.get("sub_code") == "ACQ.TRADE_NOT_EXIST":
                return TradeState(state="pending", out_trade_no=payment.out_trade_no, raw=result)
            raise _refused(result)
        return trade_state_from({**result, "app_id": self.config.app_id})

    def close(self, *, payment: Payment) -> None:
        result = _server_api(
            self.config, "alipay.trade.close", {"out_trade_no": payment.out_trade_no}
        )
        code = str(result.get("code"))
        if code == SUCCESS_CODE or result.get("sub_code") == "ACQ.TRADE_NOT_EXIST":
            return
        if result.get("sub_code") == "ACQ.TRADE_STATUS_ERROR":
            state = self.query(payment=payment)
            if state.state == "succeeded":
                raise AlreadyPaid()
            if state.state == "closed":
                return
        raise _refused(result)

    def refund(self, *, refund: Refund, payment: Payment, notify_url: str) -> RefundState:
        result = _server_api(
            self.config,
            "alipay.trade.refund",
            {
                "out_trade_no": payment.out_trade_no,
                "refund_amount": str(quantize(refund.amount)),
                "out_request_no": refund.out_refund_no,
                "refund_reason": refund.reason[:256],
            },
        )
        if str(result.get("code")) != SUCCESS_CODE:
            err = _refused(result)
            return RefundState(state="failed", message=str(err), raw=result)
        # Alipay refunds synchronously; the same out_request_no is idempotent at Alipay.
        return RefundState(
            state="succeeded",
            out_refund_no=refund.out_refund_no,
            gateway_refund_id=str(result.get("trade_no") or "")[:64],
            amount_fen=_fen(result.get("refund_fee")),
            raw=result,
        )

    def query_refund(self, *, refund: Refund, payment: Payment) -> RefundState:
        result = _server_api(
            self.config,
            "alipay.trade.fastpay.refund.query",
            {"out_trade_no": payment.out_trade_no, "out_request_no": refund.out_refund_no},
        )
        if str(result.get("code")) != SUCCESS_CODE:
            return RefundState(state="failed", message=str(_refused(result)), raw=result)
        status = result.get("refund_status")
        if status == "REFUND_SUCCESS" or (status is None and result.get("refund_amount")):
            return RefundState(
                state="succeeded",
                out_refund_no=refund.out_refund_no,
                amount_fen=_fen(result.get("refund_amount")),
                raw=result,
            )
        return RefundState(state="failed", message=str(_("refund not found at Alipay")), raw=result)


def notification_verify(config: GatewayConfig, form: dict[str, str]) -> dict[str, str]:
    """Verify an Alipay async notification (RSA2 over the sorted k=v pairs without sign and
    sign_type) with the tenant's Alipay public key; answer the verified fields."""
    data = dict(form)
    signature = data.pop("sign", "")
    if not signature:
        raise NotificationRejected(400, "missing sign")
    if data.get("sign_type", "RSA2") != "RSA2":
        raise NotificationRejected(400, "unsupported sign_type")
    try:
        client = alipay_client(config)
        valid = client.verify(data, signature)  # pops sign_type
    except GatewayError:
        raise NotificationRejected(500, "the configured Alipay keys are invalid") from None
    except (ValueError, TypeError, IndexError, AliPayException):
        valid = False
    if not valid:
        raise NotificationRejected(400, "invalid Alipay signature")
    return data
