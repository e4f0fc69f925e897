"""Sandbox channels answer logins and phone numbers themselves (demo, front-end development).

The same code always gives the same user, so a front end can log in repeatedly as one member.
"""

from __future__ import annotations

import hashlib
import re

from django.utils.translation import gettext_lazy as _

from mall.errors import InvalidInputError
from members.errors import MemberErrorCode
from members.platforms import PlatformUser

SANDBOX_PHONE_PREFIX = "sandbox:"
_DIGITS = re.compile(r"^\d{6,20}$")


def sandbox_user_for_code(*, app_id: str, code: str) -> PlatformUser:
    digest = hashlib.sha256(f"{app_id}:{code}".encode()).hexdigest()
    return PlatformUser(openid=f"sandbox_{digest[:24]}")


def sandbox_phone_for_code(*, code: str) -> str:
    """``sandbox:<digits>`` binds ``<digits>``."""
    digits = code[len(SANDBOX_PHONE_PREFIX) :] if code.startswith(SANDBOX_PHONE_PREFIX) else ""
    if not _DIGITS.match(digits):
        raise InvalidInputError(
            MemberErrorCode.INVALID_PHONE,
            _("On a sandbox channel the phone code must be 'sandbox:<6 to 20 digits>'."),
        )
    return digits
