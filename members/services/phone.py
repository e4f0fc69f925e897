"""Binding a phone number to a member; the same phone on another member merges the two."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mall.errors import ApplicationError, ConflictError, ForbiddenError, InvalidInputError
from mall.tenancy.models import Channel
from members.errors import MemberErrorCode
from members.lock_objects import members_for_update
from members.models import Member, MemberMerge, phone_validator
from members.platforms.alipay import alipay_phone_for_payload
from members.platforms.sandbox import sandbox_phone_for_code
from members.platforms.wechat import wechat_phone_for_code
from members.services.merge import member_merge_locked


@dataclass(frozen=True)
class PhoneBindResult:
    member: Member  # the member to continue as (the survivor after a merge)
    merged: bool
    merge: MemberMerge | None = None


class _Retry(Exception):
    """The phone's holder changed between the read and the lock."""


def _bind_once(member: Member, phone: str) -> PhoneBindResult:
    tenant_id = member.tenant_id
    holder_id = (
        Member.objects.for_tenant(tenant_id)
        .filter(phone=phone, merged_into__isnull=True)
        .exclude(pk=member.pk)
        .values_list("pk", flat=True)
        .first()
    )
    ids = [member.pk] if holder_id is None else [member.pk, holder_id]
    locked = {m.pk: m for m in members_for_update(tenant=tenant_id, ids=ids)}
    current = locked.get(member.pk)
    if current is None or current.merged_into_id is not None:
        raise ConflictError(
            MemberErrorCode.MEMBER_MERGED,
            _("This account was merged into another one; log in again."),
        )
    if not current.is_active:
        raise ForbiddenError(MemberErrorCode.MEMBER_DISABLED, _("This account is disabled."))
    if current.phone == phone:
        return PhoneBindResult(member=current, merged=False)
    if holder_id is None:
        Member.objects.for_tenant(current.tenant_id).filter(pk=current.pk).update(
            phone=phone, updated_at=timezone.now()
        )
        current.refresh_from_db()
        return PhoneBindResult(member=current, merged=False)
    holder = locked[holder_id]
    if holder.phone != phone or holder.merged_into_id is not None:
        raise _Retry
    if not holder.is_active:
        raise ConflictError(
            MemberErrorCode.PHONE_UNAVAILABLE,
            _("This phone number belongs to a disabled account; contact the shop."),
        )
    merge = member_merge_locked(survivor=holder, loser=current, phone=phone)
    holder.refresh_from_db()
    return PhoneBindResult(member=holder, merged=True, merge=merge)


def member_bind_phone(*, member: Member, phone: str) -> PhoneBindResult:
    """Bind ``phone``. If another active member of the tenant has it, merge into that member."""
    try:
        phone_validator(phone)
    except ValidationError as exc:
        raise InvalidInputError(
            MemberErrorCode.INVALID_PHONE, _("Not a valid phone number.")
        ) from exc
    for _attempt in range(3):
        try:
            with transaction.atomic():
                return _bind_once(member, phone)
        except (_Retry, IntegrityError):
            continue  # a concurrent bind or merge changed who holds the phone: look again
    raise ConflictError(
        MemberErrorCode.MERGE_CONFLICT,
        _("The phone number changed hands while binding; try again."),
    )


def member_phone_from_code(*, channel: Channel, code: str) -> str:
    """The phone number behind a platform phone code (no locks held: this calls the platform)."""
    if channel.is_sandbox:
        return sandbox_phone_for_code(code=code)
    if channel.platform == Channel.Platform.WECHAT:
        return wechat_phone_for_code(channel=channel, code=code)
    if channel.platform == Channel.Platform.ALIPAY:
        return alipay_phone_for_payload(channel=channel, payload=code)
    raise ApplicationError(
        MemberErrorCode.NOT_SUPPORTED,
        _("Phone binding is not supported on %(platform)s channels yet.")
        % {"platform": channel.platform},
        details={"platform": channel.platform},
    )


def member_bind_phone_by_code(*, channel: Channel, member: Member, code: str) -> PhoneBindResult:
    """Resolve the phone through the channel's platform, then bind it (merging if needed)."""
    phone = member_phone_from_code(channel=channel, code=code)
    return member_bind_phone(member=member, phone=phone)
