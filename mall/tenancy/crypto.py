"""Secrets at rest: a text field encrypted with Fernet (MultiFernet for key rotation)."""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    if keys:
        return MultiFernet([Fernet(k.encode()) for k in keys])
    derived = base64.urlsafe_b64encode(
        hashlib.sha256(b"mall-field-key:" + secret_key.encode()).digest()
    )
    return MultiFernet([Fernet(derived)])


def get_fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS), settings.SECRET_KEY)


def encrypt_str(value: str) -> str:
    return get_fernet().encrypt(value.encode()).decode()


def decrypt_str(token: str) -> str:
    try:
        return get_fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:  # wrong key: refuse loudly rather than return garbage
        raise ValueError("cannot decrypt secret: FIELD_ENCRYPTION_KEYS changed?") from exc


def mask_secret(value: str) -> str:
    """What the console and commands show of a secret: never the whole value."""
    if not value:
        return ""
    if len(value) <= 8:
        return "****"
    return f"{value[:3]}****{value[-3:]}"


class EncryptedTextField(models.TextField):
    """Stores the Fernet token; Python code sees the plain text."""

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value in (None, ""):
            return value
        return decrypt_str(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return encrypt_str(value)
