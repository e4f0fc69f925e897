"""The sandbox gateway: answers payments itself, for the demo and front-end work.

It behaves like WeChat Pay with keys generated per tenant: ``/pay`` answers signed
``wx.requestPayment``-style params, and "completing" a sandbox payment builds a WeChat Pay
style notification (RSA-SHA256 signature with the sandbox's signing key, AES-256-GCM resource
with its APIv3 key) that goes through :func:`payments.gateways.wechat.notification_verify`
and the same transition service as a real one. Refused unless DEBUG or MALL_ALLOW_SANDBOX.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.utils import timezone

from mall.money import to_fen
from payments.gateways.base import PayoutState, Prepay, RefundState, TradeState
from payments.gateways.wechat import SIGNATURE_TYPE, jsapi_params
from payments.models import GatewayConfig, Payment, Payout, Refund


def generate_private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def public_pem_of(private_pem: str) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


class SandboxAdapter:
    def __init__(self, config: GatewayConfig) -> None:
        self.config = config

    def prepay(
        self, *, payment: Payment, payer_id: str, notify_url: str, expires_at: datetime | None
    ) -> Prepay:
        return Prepay(prepay_id=f"sandbox_{secrets.token_hex(12)}")

    def pay_answer(self, *, payment: Payment) -> dict[str, Any]:
        return {
            "gateway": "sandbox",
            "params": jsapi_params(self.config, payment.prepay_id),
            "trade_no": payment.prepay_id,
            "sandbox": True,
        }

    def query(self, *, payment: Payment) -> TradeState:
        # The sandbox only pays when told to (demo endpoint or command): nothing happened.
        return TradeState(state="pending", out_trade_no=payment.out_trade_no)

    def close(self, *, payment: Payment) -> None:
        return None

    def refund(self, *, refund: Refund, payment: Payment, notify_url: str) -> RefundState:
        return RefundState(
            state="succeeded",
            out_refund_no=refund.out_refund_no,
            gateway_refund_id=f"sandbox-refund-{secrets.token_hex(8)}",
            amount_fen=to_fen(refund.amount),
        )

    def query_refund(self, *, refund: Refund, payment: Payment) -> RefundState:
        return RefundState(state="succeeded", out_refund_no=refund.out_refund_no)

    def transfer(self, *, payout: Payout, notify_url: str) -> PayoutState:
        """The sandbox pays out at once (no member confirmation)."""
        return PayoutState(
            state="succeeded",
            out_bill_no=payout.out_bill_no,
            transfer_bill_no=f"sandbox-transfer-{secrets.token_hex(8)}",
            amount_fen=to_fen(payout.amount),
            openid=payout.payee_openid,
            mch_id=self.config.mch_id,
        )

    def query_transfer(self, *, payout: Payout) -> PayoutState:
        return self.transfer(payout=payout, notify_url="")


def encrypt_resource(
    api_v3_key: str, plain: dict[str, Any], associated_data: str
) -> dict[str, str]:
    """AEAD_AES_256_GCM as WeChat Pay encrypts notification resources."""
    nonce = secrets.token_hex(6)  # 12 characters, used as bytes like WeChat's
    ciphertext = AESGCM(api_v3_key.encode()).encrypt(
        nonce.encode(), json.dumps(plain).encode(), associated_data.encode()
    )
    return {
        "algorithm": "AEAD_AES_256_GCM",
        "ciphertext": base64.b64encode(ciphertext).decode(),
        "associated_data": associated_data,
        "original_type": associated_data,
        "nonce": nonce,
    }


def sign_notification(private_pem: str, serial: str, body: str) -> dict[str, str]:
    """The Wechatpay-* headers of ``body``: RSA-SHA256 over timestamp\\nnonce\\nbody\\n."""
    timestamp = str(int(time.time()))
    nonce = secrets.token_hex(16)
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)  # the sandbox's own RSA key
    signature = key.sign(
        f"{timestamp}\n{nonce}\n{body}\n".encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    return {
        "Wechatpay-Serial": serial,
        "Wechatpay-Signature": base64.b64encode(signature).decode(),
        "Wechatpay-Timestamp": timestamp,
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Signature-Type": SIGNATURE_TYPE,
    }


def sandbox_notification(config: GatewayConfig, payment: Payment) -> tuple[dict[str, str], str]:
    """The signed notification the sandbox delivers when the payer "pays" ``payment``."""
    resource = {
        "mchid": config.mch_id,
        "appid": config.app_id,
        "out_trade_no": payment.out_trade_no,
        "transaction_id": f"sandbox{secrets.token_hex(10)}",
        "trade_type": "JSAPI",
        "trade_state": "SUCCESS",
        "trade_state_desc": "sandbox payment",
        "success_time": timezone.now().isoformat(timespec="seconds"),
        "payer": {"openid": payment.payer_id},
        "amount": {
            "total": to_fen(payment.amount),
            "payer_total": to_fen(payment.amount),
            "currency": "CNY",
            "payer_currency": "CNY",
        },
    }
    envelope = {
        "id": secrets.token_hex(16),
        "create_time": timezone.now().isoformat(timespec="seconds"),
        "resource_type": "encrypt-resource",
        "event_type": "TRANSACTION.SUCCESS",
        "summary": "sandbox payment succeeded",
        "resource": encrypt_resource(config.api_v3_key, resource, "transaction"),
    }
    body = json.dumps(envelope, separators=(",", ":"))
    return sign_notification(config.sandbox_signing_key, config.public_key_id, body), body
