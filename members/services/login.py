"""Member login: platform code -> platform user -> (new or existing) member of the tenant."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mall.errors import ConflictError, ForbiddenError, InvalidInputError
from mall.events.services import EventName, event_record
from mall.tenancy.models import Channel
from members.errors import MemberErrorCode
from members.hooks import login_scene_handlers
from members.models import Member, MemberIdentity
from members.platforms import PlatformUser
from members.platforms.alipay import alipay_user_for_auth_code
from members.platforms.sandbox import sandbox_user_for_code
from members.platforms.wechat import wechat_user_for_code
from members.services.tokens import MemberTokens, member_tokens_issue

_IDENTITY_PLATFORM = {
    Channel.Platform.WECHAT: MemberIdentity.Platform.WECHAT,
    Channel.Platform.ALIPAY: MemberIdentity.Platform.ALIPAY,
    Channel.Platform.H5: MemberIdentity.Platform.H5,
}


@dataclass(frozen=True)
class LoginResult:
    member: Member
    tokens: MemberTokens
    created: bool


def _check_platform(channel: Channel, expected: str) -> None:
    # Sandbox channels of any platform answer both logins (front-end development, H5 demo).
    if channel.is_sandbox or channel.platform == expected:
        return
    raise InvalidInputError(
        MemberErrorCode.PLATFORM_MISMATCH,
        _("This app id belongs to a %(platform)s channel, not %(expected)s.")
        % {"platform": channel.platform, "expected": expected},
        details={"channel_platform": channel.platform},
    )


def member_get_or_create_for_identity(
    *, channel: Channel, user: PlatformUser, scene: str = ""
) -> tuple[Member, bool]:
    """The member behind this platform user in the channel's tenant, created on first login.

    Lookup by (app id, openid); else by unionid among the tenant's identities (the same person
    on another app of the platform); else a new member. Safe against concurrent first logins.
    """
    now = timezone.now()
    for _attempt in range(3):
        identity = (
            MemberIdentity.objects.for_tenant(channel.tenant_id)
            .select_related("member")
            .filter(app_id=channel.app_id, openid=user.openid)
            .first()
        )
        if identity is not None:
            updates: dict[str, object] = {"last_login_at": now}
            if user.unionid and identity.unionid != user.unionid:
                updates["unionid"] = user.unionid
            MemberIdentity.objects.for_tenant(channel.tenant_id).filter(pk=identity.pk).update(
                **updates
            )
            return identity.member, False
        try:
            with transaction.atomic():
                member: Member | None = None
                if user.unionid:
                    sibling = (
                        MemberIdentity.objects.for_tenant(channel.tenant_id)
                        .select_related("member")
                        .filter(unionid=user.unionid, member__merged_into__isnull=True)
                        .order_by("id")
                        .first()
                    )
                    member = sibling.member if sibling is not None else None
                created = member is None
                if member is None:
                    member = Member.objects.create(
                        tenant_id=channel.tenant_id, source_scene=scene[:64]
                    )
                MemberIdentity.objects.create(
                    tenant_id=channel.tenant_id,
                    member=member,
                    platform=_IDENTITY_PLATFORM[Channel.Platform(channel.platform)],
                    app_id=channel.app_id,
                    openid=user.openid,
                    unionid=user.unionid,
                    last_login_at=now,
                )
                if created:
                    event_record(
                        tenant=channel.tenant_id,
                        name=EventName.MEMBER_CREATED,
                        payload={
                            "member_id": member.pk,
                            "platform": channel.platform,
                            "app_id": channel.app_id,
                        },
                        subject=f"member:{member.pk}",
                    )
            return member, created
        except IntegrityError:
            # Another request created this identity first: loop and read it.
            continue
    raise ConflictError(  # pragma: no cover - needs three lost races in a row
        MemberErrorCode.MERGE_CONFLICT, _("Login collided with another request; retry.")
    )


def _finish(channel: Channel, user: PlatformUser, scene: str) -> LoginResult:
    member, created = member_get_or_create_for_identity(channel=channel, user=user, scene=scene)
    if not member.is_active or member.merged_into_id is not None:
        raise ForbiddenError(MemberErrorCode.MEMBER_DISABLED, _("This account is disabled."))
    if scene:
        # A share link or poster scene (``members.hooks``: distribution may bind the shopper to
        # a distributor); never fails login.
        for handler in login_scene_handlers():
            handler(tenant=channel.tenant, member=member, scene=scene)
    return LoginResult(member=member, tokens=member_tokens_issue(member=member), created=created)


def member_login_wechat(*, channel: Channel, code: str, scene: str = "") -> LoginResult:
    """Log in with a ``wx.login()`` code (code2session), creating the member on first login."""
    _check_platform(channel, Channel.Platform.WECHAT)
    if channel.is_sandbox:
        user = sandbox_user_for_code(app_id=channel.app_id, code=code)
    else:
        user = wechat_user_for_code(channel=channel, code=code)
    return _finish(channel, user, scene)


def member_login_alipay(*, channel: Channel, auth_code: str, scene: str = "") -> LoginResult:
    """Log in with a ``my.getAuthCode`` auth code, creating the member on first login."""
    _check_platform(channel, Channel.Platform.ALIPAY)
    if channel.is_sandbox:
        user = sandbox_user_for_code(app_id=channel.app_id, code=auth_code)
    else:
        user = alipay_user_for_auth_code(channel=channel, auth_code=auth_code)
    return _finish(channel, user, scene)
