"""Member tokens: short-lived access + refresh JWTs, both carrying the tenant."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import RefreshToken

from mall.errors import ApplicationError, UnauthenticatedError
from mall.tenancy.models import Tenant
from members.errors import MemberErrorCode
from members.models import Member

TENANT_CLAIM = "tenant_id"


@dataclass(frozen=True)
class MemberTokens:
    access: str
    refresh: str | None


def _new_refresh(member: Member) -> RefreshToken:
    refresh = RefreshToken()
    refresh[TENANT_CLAIM] = member.tenant_id
    refresh[api_settings.USER_ID_CLAIM] = member.pk
    return refresh


def member_tokens_issue(*, member: Member) -> MemberTokens:
    """A fresh access/refresh pair for this member."""
    refresh = _new_refresh(member)
    return MemberTokens(access=str(refresh.access_token), refresh=str(refresh))


def _unauthorized(code: str, message: str | Promise) -> ApplicationError:
    return UnauthenticatedError(code, message)


def member_tokens_refresh(*, tenant: Tenant, raw_refresh: str) -> tuple[Member, MemberTokens]:
    """A new access token for a valid refresh token of this tenant's active, unmerged member.

    With ``SIMPLE_JWT["ROTATE_REFRESH_TOKENS"]`` a new refresh token is issued as well.
    """
    try:
        token = RefreshToken(raw_refresh)  # type: ignore[arg-type]
    except TokenError as exc:
        raise _unauthorized(
            MemberErrorCode.INVALID_TOKEN, _("Refresh token is invalid or expired.")
        ) from exc
    if token.get(TENANT_CLAIM) != tenant.pk:
        raise _unauthorized(
            MemberErrorCode.TOKEN_TENANT_MISMATCH, _("This token was issued for another shop.")
        )
    member_id = token.get(api_settings.USER_ID_CLAIM)
    member = (
        Member.objects.for_tenant(tenant).filter(pk=member_id).first()
        if isinstance(member_id, int)
        else None
    )
    if member is None:
        raise _unauthorized(MemberErrorCode.INVALID_TOKEN, _("Member not found."))
    if member.merged_into_id is not None:
        raise _unauthorized(
            MemberErrorCode.MEMBER_MERGED,
            _("This account was merged into another one; log in again."),
        )
    if not member.is_active:
        raise _unauthorized(MemberErrorCode.MEMBER_DISABLED, _("This account is disabled."))
    if api_settings.ROTATE_REFRESH_TOKENS:
        return member, member_tokens_issue(member=member)
    return member, MemberTokens(access=str(token.access_token), refresh=None)
