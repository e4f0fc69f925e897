"""RSA key texts as operators paste or upload them, normalized to what both SDKs load."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives import serialization
from django.utils.translation import gettext_lazy as _

from mall.errors import InvalidInputError


def normalize_private_key(pem: str) -> str:
    """Any PEM RSA private key (PKCS#1 or PKCS#8) as unencrypted PKCS#8 (what both SDKs load)."""
    try:
        key = serialization.load_pem_private_key(pem.strip().encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise InvalidInputError(
            "invalid_key", _("Not a PEM private key without password.")
        ) from exc
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def normalize_public_key(pem: str) -> str:
    """A PEM public key (SubjectPublicKeyInfo), from a key or an X.509 certificate."""
    text = pem.strip()
    try:
        if "CERTIFICATE" in text:
            from cryptography.x509 import load_pem_x509_certificate

            key: Any = load_pem_x509_certificate(text.encode()).public_key()
        else:
            if "BEGIN" not in text:  # a bare base64 key as the Alipay console shows it
                text = f"-----BEGIN PUBLIC KEY-----\n{text}\n-----END PUBLIC KEY-----"
            key = serialization.load_pem_public_key(text.encode())
    except (ValueError, TypeError) as exc:
        raise InvalidInputError("invalid_key", _("Not a PEM public key or certificate.")) from exc
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
