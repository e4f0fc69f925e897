"""Member profile edits by the member themselves."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mall.errors import InvalidInputError
from members.models import Member

EDITABLE_FIELDS = frozenset({"nickname", "avatar", "birthday", "gender"})
_UNSET = object()


def member_update_profile(
    *,
    member: Member,
    nickname: str | object = _UNSET,
    avatar: str | object = _UNSET,
    birthday: dt.date | object | None = _UNSET,
    gender: str | object = _UNSET,
) -> Member:
    """Change the given profile fields (phone, points and growth are not editable here)."""
    changes = {
        name: value
        for name, value in (
            ("nickname", nickname),
            ("avatar", avatar),
            ("birthday", birthday),
            ("gender", gender),
        )
        if value is not _UNSET
    }
    birthday_value = changes.get("birthday")
    if isinstance(birthday_value, dt.date) and birthday_value > timezone.localdate():
        raise InvalidInputError(
            "validation_error",
            _("Birthday cannot be in the future."),
            details={"birthday": [gettext("Birthday cannot be in the future.")]},
        )
    if "gender" in changes and changes["gender"] not in Member.Gender.values:
        raise InvalidInputError(
            "validation_error", _("Unknown gender."), details={"gender": ["Unknown gender."]}
        )
    if not changes:
        return member
    with transaction.atomic():
        for name, value in changes.items():
            setattr(member, name, value)
        member.save(update_fields=[*changes, "updated_at"])
    return member
