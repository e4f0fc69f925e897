"""Alipay mini program login: exchange an ``auth_code`` for the Alipay user id.

Through python-alipay-sdk (RSA2-signed request, answer verified with the channel's Alipay public
key) against ``settings.ALIPAY_GATEWAY_URL``. The channel's key pair is the app's only one:
payments read it from here too (``configure_payments``/``create_tenant`` set it).

Phone numbers: ``my.getPhoneNumber`` gives the mini program a JSON string ``{"response": <base64
ciphertext>, "sign": ..., "sign_type": "RSA2", "encrypt_type": "AES", ...}``; the shopper app posts
that string whole as the phone ``code``. :func:`alipay_phone_for_payload` checks the RSA2 signature
with Alipay's public key (over the ciphertext in double quotes, as Alipay signs encrypted content),
decrypts with the channel's AES key (AES-CBC, zero IV, PKCS#7 padding) and reads ``mobile``.
"""

from __future__ import annotations

import base64
import binascii
import http.client
import json
import logging
from typing import Any

from alipay import AliPay
from alipay.exceptions import AliPayException, AliPayValidationError
from alipay.utils import AliPayConfig
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from mall.errors import InvalidInputError, UnavailableError, UpstreamError
from mall.tenancy.models import Channel
from members.errors import MemberErrorCode
from members.platforms import PlatformUser

logger = logging.getLogger(__name__)

OAUTH_TOKEN_METHOD = "alipay.system.oauth.token"


def alipay_client(channel: Channel) -> AliPay:
    """An AliPay client for this channel's keys, talking to ``ALIPAY_GATEWAY_URL``."""
    if not channel.alipay_app_private_key or not channel.alipay_public_key:
        raise UnavailableError(
            MemberErrorCode.CHANNEL_NOT_CONFIGURED,
            _("This Alipay mini program has no keys configured."),
        )
    try:
        client = AliPay(
            appid=channel.app_id,
            app_private_key_string=channel.alipay_app_private_key,
            alipay_public_key_string=channel.alipay_public_key,
            sign_type="RSA2",
            config=AliPayConfig(timeout=settings.EXTERNAL_HTTP_TIMEOUT),
        )
    except (ValueError, IndexError, TypeError) as exc:
        logger.error("Alipay keys of channel %s cannot be loaded: %r", channel.pk, exc)
        raise UnavailableError(
            MemberErrorCode.CHANNEL_NOT_CONFIGURED,
            _("This Alipay mini program's keys are invalid."),
        ) from exc
    client._gateway = settings.ALIPAY_GATEWAY_URL
    return client


def _error_details(exc: AliPayException) -> dict[str, Any]:
    code = getattr(exc, "_AliPayException__code", None)
    raw = getattr(exc, "_AliPayException__message", "")
    details: dict[str, Any] = {"code": str(code) if code is not None else None}
    try:
        body = json.loads(raw)
        error = body.get("error_response") or body.get("alipay_system_oauth_token_response") or {}
        if error.get("sub_code"):
            details["sub_code"] = str(error["sub_code"])[:100]
    except (TypeError, ValueError, AttributeError):
        pass
    return details


def alipay_user_for_auth_code(*, channel: Channel, auth_code: str) -> PlatformUser:
    """alipay.system.oauth.token: the user behind a ``my.getAuthCode`` auth code."""
    client = alipay_client(channel)
    try:
        result = client.server_api(
            OAUTH_TOKEN_METHOD, grant_type="authorization_code", code=auth_code
        )
    except AliPayException as exc:
        raise InvalidInputError(
            MemberErrorCode.ALIPAY_LOGIN_FAILED,
            _("Alipay refused the auth code."),
            details=_error_details(exc),
        ) from exc
    except AliPayValidationError as exc:
        logger.warning("Alipay answer for channel %s failed signature verification", channel.pk)
        raise UpstreamError(
            MemberErrorCode.UPSTREAM_INVALID, _("Alipay's answer could not be verified.")
        ) from exc
    except (OSError, http.client.HTTPException) as exc:  # URLError, timeouts, resets
        logger.warning("Alipay gateway unreachable: %r", exc)
        raise UpstreamError(
            MemberErrorCode.UPSTREAM_UNAVAILABLE, _("Alipay could not be reached; try again.")
        ) from exc
    except (ValueError, KeyError, TypeError, AttributeError) as exc:  # unparseable answer
        logger.warning("Alipay gateway answered something unexpected: %r", exc)
        raise UpstreamError(
            MemberErrorCode.UPSTREAM_INVALID, _("Alipay answered something unexpected; try again.")
        ) from exc
    if not isinstance(result, dict):
        raise UpstreamError(
            MemberErrorCode.UPSTREAM_INVALID, _("Alipay answered something unexpected.")
        )
    if str(result.get("code", "10000")) != "10000":
        raise InvalidInputError(
            MemberErrorCode.ALIPAY_LOGIN_FAILED,
            _("Alipay refused the auth code."),
            details={
                "code": str(result.get("code")),
                "sub_code": str(result.get("sub_code", ""))[:100],
            },
        )
    user_id = result.get("user_id") or result.get("open_id")
    if not isinstance(user_id, str) or not user_id or len(user_id) > 128:
        raise UpstreamError(
            MemberErrorCode.UPSTREAM_INVALID, _("Alipay answered without a user id.")
        )
    return PlatformUser(openid=user_id, unionid=str(result.get("union_id") or "")[:128])


PHONE_PAYLOAD_MAX = 8192


def _phone_payload_fields(payload: str) -> tuple[str, str]:
    """The ciphertext and signature of a ``my.getPhoneNumber`` answer (400 when malformed)."""
    bad = InvalidInputError(
        MemberErrorCode.ALIPAY_PHONE_FAILED,
        _("The phone number payload from Alipay is malformed."),
    )
    if len(payload) > PHONE_PAYLOAD_MAX:
        raise bad
    try:
        body = json.loads(payload)
    except ValueError as exc:
        raise bad from exc
    if not isinstance(body, dict):
        raise bad
    response, sign = body.get("response"), body.get("sign")
    if not isinstance(response, str) or not response or not isinstance(sign, str) or not sign:
        raise bad
    if str(body.get("sign_type", "RSA2")) != "RSA2":
        raise bad
    return response, sign


def _aes_decrypt(key_b64: str, ciphertext_b64: str) -> bytes:
    key = base64.b64decode(key_b64, validate=True)
    data = base64.b64decode(ciphertext_b64, validate=True)
    decryptor = Cipher(algorithms.AES(key), modes.CBC(bytes(16))).decryptor()
    padded = decryptor.update(data) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(padded) + unpadder.finalize()


def alipay_phone_for_payload(*, channel: Channel, payload: str) -> str:
    """The phone number in a ``my.getPhoneNumber`` answer, after its signature is verified."""
    response, sign = _phone_payload_fields(payload)
    if not channel.alipay_aes_key:
        raise UnavailableError(
            MemberErrorCode.CHANNEL_NOT_CONFIGURED,
            _("This Alipay mini program has no AES key configured for phone numbers."),
        )
    client = alipay_client(channel)
    try:
        # Alipay signs encrypted content as the JSON string value, quotes included. The SDK's
        # verification of a raw string is private API (there is no public one for raw content).
        verified = client._verify(f'"{response}"', sign)
    except (ValueError, TypeError, binascii.Error):
        verified = False
    if not verified:
        logger.warning("Alipay phone payload for channel %s failed its signature", channel.pk)
        raise InvalidInputError(
            MemberErrorCode.ALIPAY_PHONE_FAILED,
            _("The phone number payload from Alipay could not be verified."),
        )
    try:
        plain = json.loads(_aes_decrypt(channel.alipay_aes_key, response))
    except (ValueError, TypeError, binascii.Error) as exc:
        # A wrong AES key (the merchant's configuration) or a payload for another app.
        logger.warning("Alipay phone payload for channel %s does not decrypt: %r", channel.pk, exc)
        raise InvalidInputError(
            MemberErrorCode.ALIPAY_PHONE_FAILED,
            _("The phone number from Alipay could not be decrypted; check the app's AES key."),
        ) from exc
    if not isinstance(plain, dict) or str(plain.get("code")) != "10000":
        details = plain if isinstance(plain, dict) else {}
        raise InvalidInputError(
            MemberErrorCode.ALIPAY_PHONE_FAILED,
            _("Alipay did not share the phone number."),
            details={
                "code": str(details.get("code"))[:20],
                "sub_code": str(details.get("subCode") or details.get("sub_code") or "")[:100],
            },
        )
    mobile = plain.get("mobile")
    if not isinstance(mobile, str) or not mobile:
        raise UpstreamError(
            MemberErrorCode.UPSTREAM_INVALID, _("Alipay answered without a phone number.")
        )
    return mobile
