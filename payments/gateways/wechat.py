"""WeChat Pay APIv3 (mini program JSAPI) through wechatpayv3 in public-key mode.

The library signs our requests (merchant key) and verifies the gateway's answers (platform
public key). We wrap it so that:

- its base URL (the private ``_core._gate_way``) is ``settings.WECHATPAY_API_BASE_URL``;
- it never downloads platform certificates: in public-key mode an unknown ``Wechatpay-Serial``
  would make it call ``/v3/certificates``; we replace that with a no-op, so an answer signed
  under an unknown serial simply fails verification;
- notifications are verified by :func:`notification_verify` step by step (serial, timestamp
  window, RSA-SHA256 signature, AES-256-GCM decryption), with the library's primitives.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.utils.dateparse import parse_datetime
from wechatpayv3 import WeChatPay, WeChatPayType
from wechatpayv3.utils import aes_decrypt, load_public_key, rsa_verify

from mall.money import to_fen
from payments.gateways.base import (
    AlreadyPaid,
    GatewayError,
    PayoutState,
    Prepay,
    RefundState,
    TradeState,
)
from payments.models import (
    GatewayConfig,
    Payment,
    Payout,
    ProfitSharingOrder,
    ProfitSharingReceiver,
    Refund,
)

logger = logging.getLogger(__name__)

REPLAY_WINDOW_SECONDS = 300
SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"

_TRADE_STATES = {
    "SUCCESS": "succeeded",
    "REFUND": "succeeded",  # paid, then (partly) refunded
    "NOTPAY": "pending",
    "USERPAYING": "pending",
    "CLOSED": "closed",
    "REVOKED": "closed",
    "PAYERROR": "failed",
}
_REFUND_STATES = {
    "SUCCESS": "succeeded",
    "PROCESSING": "processing",
    "ABNORMAL": "failed",
    "CLOSED": "failed",
}


def _no_certificate_download() -> None:
    """Replaces Core._update_certificates: never fetch certificates over the network."""
    logger.warning("WeChat Pay answer signed with an unknown serial; not downloading certificates")


def wechatpay_client(config: GatewayConfig, *, notify_url: str | None = None) -> WeChatPay:
    """A WeChatPay client for this configuration, talking to WECHATPAY_API_BASE_URL."""
    try:
        client = WeChatPay(
            wechatpay_type=WeChatPayType.MINIPROG,
            mchid=config.mch_id,
            private_key=config.private_key,
            cert_serial_no=config.serial_no,
            appid=config.app_id,
            apiv3_key=config.api_v3_key,
            notify_url=notify_url,
            timeout=settings.EXTERNAL_HTTP_TIMEOUT,
            public_key=config.public_key,
            public_key_id=config.public_key_id,
        )
    except Exception as exc:
        raise GatewayError(
            GatewayError.INVALID, f"WeChat Pay keys cannot be loaded: {exc}"
        ) from exc
    client._core._gate_way = settings.WECHATPAY_API_BASE_URL.rstrip("/")
    client._core._update_certificates = _no_certificate_download
    return client


def _call(fn: Any, *args: Any, **kwargs: Any) -> tuple[int, Any]:
    try:
        code, text = fn(*args, **kwargs)
    except requests.RequestException as exc:
        raise GatewayError(GatewayError.UNAVAILABLE, f"WeChat Pay unreachable: {exc!r}") from exc
    except Exception as exc:
        raise GatewayError(GatewayError.INVALID, f"WeChat Pay answer rejected: {exc}") from exc
    body: Any = {}
    if text:
        try:
            body = json.loads(text)
        except (TypeError, ValueError):
            body = {}
    if not 200 <= code < 300:
        body = body if isinstance(body, dict) else {}
        kind = GatewayError.UNAVAILABLE if code >= 500 else GatewayError.REFUSED
        raise GatewayError(
            kind, str(body.get("message") or f"HTTP {code}"), code=str(body.get("code") or code)
        )
    return code, body if isinstance(body, dict) else {}


def _parse_time(value: Any) -> datetime | None:
    return parse_datetime(value) if isinstance(value, str) else None


def trade_state_from(resource: dict[str, Any]) -> TradeState:
    """A transaction (query answer or decrypted notification resource) as a TradeState."""
    amount = found if isinstance(found := resource.get("amount"), dict) else {}
    payer = found if isinstance(found := resource.get("payer"), dict) else {}
    total = amount.get("total")
    return TradeState(
        state=_TRADE_STATES.get(str(resource.get("trade_state")), "pending"),
        out_trade_no=str(resource.get("out_trade_no") or ""),
        amount_fen=total if isinstance(total, int) and not isinstance(total, bool) else None,
        transaction_id=str(resource.get("transaction_id") or "")[:64],
        payer_id=str(payer.get("openid") or "")[:128],
        app_id=str(resource.get("appid") or ""),
        mch_id=str(resource.get("mchid") or ""),
        paid_at=_parse_time(resource.get("success_time")),
        raw=resource,
    )


def refund_state_from(resource: dict[str, Any]) -> RefundState:
    amount = found if isinstance(found := resource.get("amount"), dict) else {}
    refund = amount.get("refund")
    status = resource.get("refund_status") or resource.get("status")
    return RefundState(
        state=_REFUND_STATES.get(str(status), "processing"),
        out_refund_no=str(resource.get("out_refund_no") or ""),
        gateway_refund_id=str(resource.get("refund_id") or "")[:64],
        amount_fen=refund if isinstance(refund, int) and not isinstance(refund, bool) else None,
        message=str(status or ""),
        raw=resource,
    )


class WeChatPayAdapter:
    def __init__(self, config: GatewayConfig) -> None:
        self.config = config

    def _client(self, notify_url: str | None = None) -> WeChatPay:
        return wechatpay_client(self.config, notify_url=notify_url)

    def prepay(
        self, *, payment: Payment, payer_id: str, notify_url: str, expires_at: datetime | None
    ) -> Prepay:
        client = self._client(notify_url)
        kwargs: dict[str, Any] = {}
        if profit_sharing_enabled(payment.tenant_id):
            # Funds stay frozen for profit sharing (unfrozen by the sharing order).
            kwargs["settle_info"] = {"profit_sharing": True}
        if expires_at is not None:
            kwargs["time_expire"] = expires_at.isoformat(timespec="seconds")
        _, body = _call(
            client.pay,
            description=(payment.subject or payment.reference)[:127],
            out_trade_no=payment.out_trade_no,
            amount={"total": to_fen(payment.amount), "currency": "CNY"},
            payer={"openid": payer_id},
            pay_type=WeChatPayType.JSAPI,
            **kwargs,
        )
        prepay_id = body.get("prepay_id")
        if not isinstance(prepay_id, str) or not prepay_id:
            raise GatewayError(GatewayError.INVALID, "WeChat Pay answered without a prepay_id.")
        return Prepay(prepay_id=prepay_id[:128])

    def pay_answer(self, *, payment: Payment) -> dict[str, Any]:
        """The parameters of wx.requestPayment, signed with the merchant key (RSA)."""
        return {"gateway": "wechat", "params": jsapi_params(self.config, payment.prepay_id)}

    def query(self, *, payment: Payment) -> TradeState:
        _, body = _call(self._client().query, out_trade_no=payment.out_trade_no)
        return trade_state_from(body)

    def close(self, *, payment: Payment) -> None:
        try:
            _call(self._client().close, out_trade_no=payment.out_trade_no)
        except GatewayError as exc:
            if exc.code == "ORDERPAID":
                raise AlreadyPaid(exc.message) from exc
            raise

    def refund(self, *, refund: Refund, payment: Payment, notify_url: str) -> RefundState:
        _, body = _call(
            self._client(notify_url).refund,
            out_refund_no=refund.out_refund_no,
            amount={
                "refund": to_fen(refund.amount),
                "total": to_fen(payment.amount),
                "currency": "CNY",
            },
            out_trade_no=payment.out_trade_no,
            reason=refund.reason[:80] or None,
            notify_url=notify_url,
        )
        return refund_state_from(body)

    def query_refund(self, *, refund: Refund, payment: Payment) -> RefundState:
        _, body = _call(self._client().query_refund, out_refund_no=refund.out_refund_no)
        return refund_state_from(body)

    # --- Merchant transfers (payouts to a member's WeChat balance) ---------------------

    def transfer(self, *, payout: Payout, notify_url: str) -> PayoutState:
        """``POST /v3/fund-app/mch-transfer/transfer-bills`` (idempotent per out_bill_no)."""
        scene = str(getattr(settings, "WECHATPAY_TRANSFER_SCENE_ID", "1005"))
        reports = getattr(settings, "WECHATPAY_TRANSFER_SCENE_REPORT_INFOS", TRANSFER_REPORTS)
        _, body = _call(
            self._client(notify_url).mch_transfer_bills,
            out_bill_no=payout.out_bill_no,
            transfer_scene_id=scene,
            openid=payout.payee_openid,
            transfer_amount=to_fen(payout.amount),
            transfer_remark=(payout.reason or "Payout")[:32],
            transfer_scene_report_infos=reports,
            notify_url=notify_url,
        )
        return payout_state_from(body)

    def query_transfer(self, *, payout: Payout) -> PayoutState:
        try:
            _, body = _call(self._client().mch_transfer_bills_query, out_bill_no=payout.out_bill_no)
        except GatewayError as exc:
            if exc.code == "NOT_FOUND":
                return PayoutState(state="not_found", out_bill_no=payout.out_bill_no)
            raise
        return payout_state_from(body)

    # --- Bills (reconciliation) -------------------------------------------------------

    def trade_bill(self, *, bill_date: str) -> bytes:
        """The day's trade bill (``GET /v3/bill/tradebill`` then its ``download_url``),
        ungzipped and checked against the announced SHA1."""
        client = self._client()
        _, answer = _call(client.trade_bill, bill_date=bill_date, bill_type="ALL")
        url = answer.get("download_url")
        if not isinstance(url, str) or not url:
            raise GatewayError(GatewayError.INVALID, "WeChat Pay answered without a download_url.")
        # Download from the configured base URL (the library would prefix it to a full URL).
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        try:
            code, content = client._core.request(path, skip_verify=True)
        except requests.RequestException as exc:
            raise GatewayError(GatewayError.UNAVAILABLE, f"bill download failed: {exc!r}") from exc
        if not 200 <= code < 300:
            raise GatewayError(GatewayError.UNAVAILABLE, f"bill download HTTP {code}")
        data = content.encode() if isinstance(content, str) else bytes(content)
        if data[:2] == b"\x1f\x8b":
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError) as exc:
                raise GatewayError(GatewayError.INVALID, "the bill is not valid gzip") from exc
        expected = str(answer.get("hash_value") or "").lower()
        if expected and hashlib.sha1(data).hexdigest() != expected:  # noqa: S324 - WeChat's hash
            raise GatewayError(GatewayError.INVALID, "the bill does not match its SHA1 hash")
        return data

    # --- Profit sharing ---------------------------------------------------------------

    def add_receiver(self, *, receiver: ProfitSharingReceiver) -> None:
        """``POST /v3/profitsharing/receivers/add`` (the name is RSA-encrypted by the SDK
        with the platform public key). Adding an existing receiver again is accepted."""
        _call(
            self._client().profitsharing_add_receiver,
            account_type=receiver.type,
            account=receiver.account,
            relation_type=receiver.relation_type,
            name=receiver.name or None,
        )

    def delete_receiver(self, *, receiver: ProfitSharingReceiver) -> None:
        """``POST /v3/profitsharing/receivers/delete``: the receiver gets no further shares
        (sharing orders WeChat already accepted are not affected)."""
        _call(
            self._client().profitsharing_delete_receiver,
            account_type=receiver.type,
            account=receiver.account,
        )

    def profit_share(self, *, order: ProfitSharingOrder) -> ProfitSharingState:
        """``POST /v3/profitsharing/orders`` (idempotent per out_order_no at WeChat);
        unsplit funds are unfrozen to the merchant."""
        receivers = [
            {
                "type": r["type"],
                "account": r["account"],
                "amount": r["amount_fen"],
                "description": r.get("description") or "Supplier share",
            }
            for r in order.receivers
        ]
        _, body = _call(
            self._client().profitsharing_order,
            transaction_id=order.transaction_id,
            out_order_no=order.out_order_no,
            receivers=receivers,
            unfreeze_unsplit=True,
        )
        return profit_sharing_state_from(body)

    def profit_share_query(self, *, order: ProfitSharingOrder) -> ProfitSharingState:
        try:
            _, body = _call(
                self._client().profitsharing_order_query,
                transaction_id=order.transaction_id,
                out_order_no=order.out_order_no,
            )
        except GatewayError as exc:
            if exc.code in {"RESOURCE_NOT_EXISTS", "NOT_FOUND"}:
                return ProfitSharingState(state="not_found", order_id="", receivers=[], raw={})
            raise
        return profit_sharing_state_from(body)


@dataclass(frozen=True)
class ProfitSharingState:
    state: str  # processing | finished | failed | not_found
    order_id: str
    receivers: list[dict[str, Any]]
    raw: dict[str, Any]


def profit_sharing_state_from(body: dict[str, Any]) -> ProfitSharingState:
    """FINISHED with every receiver SUCCESS: finished; any receiver CLOSED: failed."""
    receivers = found if isinstance(found := body.get("receivers"), list) else []
    results = [str(r.get("result") or "") for r in receivers if isinstance(r, dict)]
    if "CLOSED" in results:
        state = "failed"
    elif body.get("state") == "FINISHED" and all(x == "SUCCESS" for x in results):
        state = "finished"
    else:
        state = "processing"
    return ProfitSharingState(
        state=state,
        order_id=str(body.get("order_id") or "")[:64],
        receivers=[r for r in receivers if isinstance(r, dict)],
        raw=body,
    )


def profit_sharing_enabled(tenant_id: int) -> bool:
    return ProfitSharingReceiver.objects.for_tenant(tenant_id).filter(is_active=True).exists()


TRANSFER_REPORTS = [
    {"info_type": "岗位类型", "info_content": "分销员"},
    {"info_type": "报酬说明", "info_content": "佣金提现"},
]

_PAYOUT_STATES = {
    "ACCEPTED": "processing",
    "PROCESSING": "processing",
    "TRANSFERING": "processing",
    "CANCELING": "processing",
    "WAIT_USER_CONFIRM": "waiting_confirmation",
    "SUCCESS": "succeeded",
    "FAIL": "failed",
    "CANCELLED": "failed",
}


def payout_state_from(resource: dict[str, Any]) -> PayoutState:
    """A transfer bill (answer, query or decrypted notification) as a PayoutState."""
    amount = resource.get("transfer_amount")
    state = str(resource.get("state") or "")
    return PayoutState(
        state=_PAYOUT_STATES.get(state, "processing"),
        out_bill_no=str(resource.get("out_bill_no") or ""),
        transfer_bill_no=str(resource.get("transfer_bill_no") or "")[:64],
        amount_fen=amount if isinstance(amount, int) and not isinstance(amount, bool) else None,
        openid=str(resource.get("openid") or "")[:128],
        mch_id=str(resource.get("mch_id") or resource.get("mchid") or ""),
        package_info=str(resource.get("package_info") or "")[:1024],
        fail_reason=str(resource.get("fail_reason") or (state if state == "CANCELLED" else ""))[
            :200
        ],
        raw=resource,
    )


def jsapi_params(config: GatewayConfig, prepay_id: str) -> dict[str, str]:
    """appId, timeStamp, nonceStr, package, signType, paySign for wx.requestPayment."""
    from wechatpayv3.utils import load_private_key, rsa_sign

    timestamp = str(int(time.time()))
    nonce = secrets.token_hex(16)
    package = f"prepay_id={prepay_id}"
    message = f"{config.app_id}\n{timestamp}\n{nonce}\n{package}\n"
    try:
        signature = rsa_sign(load_private_key(config.private_key), message)
    except Exception as exc:
        raise GatewayError(GatewayError.INVALID, "The merchant private key cannot sign.") from exc
    return {
        "appId": config.app_id,
        "timeStamp": timestamp,
        "nonceStr": nonce,
        "package": package,
        "signType": "RSA",
        "paySign": signature,
    }


class NotificationRejected(Exception):
    """A notification failed verification; ``status`` is what we answer the gateway."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def notification_verify(
    config: GatewayConfig, headers: dict[str, str], body: str, *, now: float | None = None
) -> dict[str, Any]:
    """Verify a WeChat Pay (or sandbox) notification; answer its decrypted resource.

    1. ``Wechatpay-Serial`` must be the configured platform public key id (else 401: the
       library would try to download certificates);
    2. ``Wechatpay-Timestamp`` within ``REPLAY_WINDOW_SECONDS`` of now (else 401);
    3. ``Wechatpay-Signature`` is RSA-SHA256 over ``timestamp\\nnonce\\nbody\\n`` with the
       platform public key (else 401);
    4. the ``resource`` is AEAD_AES_256_GCM with the APIv3 key and its associated data
       (else 400).
    """
    lower = {k.lower(): v for k, v in headers.items()}
    serial = lower.get("wechatpay-serial", "")
    signature = lower.get("wechatpay-signature", "")
    timestamp = lower.get("wechatpay-timestamp", "")
    nonce = lower.get("wechatpay-nonce", "")
    sig_type = lower.get("wechatpay-signature-type", SIGNATURE_TYPE)
    if not (serial and signature and timestamp and nonce):
        raise NotificationRejected(401, "missing Wechatpay-* signature headers")
    if sig_type != SIGNATURE_TYPE:
        raise NotificationRejected(401, f"unsupported signature type {sig_type[:40]!r}")
    if not config.public_key_id or serial != config.public_key_id:
        raise NotificationRejected(401, f"unknown Wechatpay-Serial {serial[:64]!r}")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise NotificationRejected(401, "malformed Wechatpay-Timestamp") from None
    current = time.time() if now is None else now
    if abs(current - sent_at) > REPLAY_WINDOW_SECONDS:
        raise NotificationRejected(401, f"stale Wechatpay-Timestamp ({int(current - sent_at)}s)")
    try:
        public_key = load_public_key(config.public_key)
    except Exception:  # noqa: BLE001 - the library raises bare Exception on bad keys
        raise NotificationRejected(500, "the configured platform public key is invalid") from None
    if public_key is None or not rsa_verify(timestamp, nonce, body, signature, public_key):
        raise NotificationRejected(401, "invalid Wechatpay-Signature")
    try:
        envelope = json.loads(body)
        resource = envelope["resource"]
        if resource.get("algorithm") != "AEAD_AES_256_GCM":
            raise NotificationRejected(400, "unsupported resource algorithm")
        plain = aes_decrypt(
            nonce=str(resource["nonce"]),
            ciphertext=str(resource["ciphertext"]),
            associated_data=str(resource.get("associated_data") or ""),
            apiv3_key=config.api_v3_key,
        )
    except NotificationRejected:
        raise
    except (ValueError, KeyError, TypeError, AttributeError):
        raise NotificationRejected(400, "malformed notification body") from None
    if plain is None:
        raise NotificationRejected(400, "resource cannot be decrypted with the APIv3 key")
    try:
        decrypted = json.loads(plain)
    except ValueError:
        raise NotificationRejected(400, "decrypted resource is not JSON") from None
    if not isinstance(decrypted, dict):
        raise NotificationRejected(400, "decrypted resource is not an object")
    return {
        "event_type": str(envelope.get("event_type") or ""),
        "id": envelope.get("id"),
        "resource": decrypted,
    }
