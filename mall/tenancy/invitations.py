"""Staff invitations: the only way a user joins a tenant's staff from the console.

- An owner or administrator invites an e-mail address with a role (only an owner invites an
  owner). A random token goes into the accept link that is mailed; only its SHA-256 hash is
  stored. A new invitation to the same address replaces the pending one (which is revoked).
- The answer to the inviter is the same whether or not the address has an account: the
  difference shows only on the accept page, which only the mailbox's owner can open.
- The invitee accepts once, before ``expires_at`` (``CONSOLE_INVITATION_DAYS``): an existing
  account proves its password, a new address sets one (the account is created then). The
  membership is created (or a deactivated one reactivated) with the invited role.
"""

from __future__ import annotations

import logging
import secrets
import smtplib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from mall import lock_objects
from mall.errors import (
    ApplicationError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    UnavailableError,
)
from mall.tenancy.models import Staff, StaffInvitation, Tenant

logger = logging.getLogger(__name__)


def normalize_email(email: str) -> str:
    return email.strip().lower()


def invitee_user(*, email: str) -> Any:
    """The account an invitation to ``email`` belongs to, if there is one."""
    email = normalize_email(email)
    return (
        get_user_model()
        .objects.filter(Q(email__iexact=email) | Q(username__iexact=email))
        .order_by("id")
        .first()
    )


def _invitation_mail(invitation: StaffInvitation, link: str) -> tuple[str, str]:
    tenant = invitation.tenant
    subject = _("You are invited to the %(shop)s console") % {"shop": tenant.name}
    body = _(
        "You have been invited to join the staff of %(shop)s as %(role)s.\n\n"
        "Open this link to accept (you will sign in, or choose a password if you have no "
        "account yet):\n\n%(link)s\n\n"
        "The link can be used once and expires on %(expires)s. If you did not expect this "
        "invitation, ignore this e-mail."
    ) % {
        "shop": tenant.name,
        "role": invitation.get_role_display(),
        "link": link,
        "expires": timezone.localtime(invitation.expires_at).strftime("%Y-%m-%d %H:%M %Z"),
    }
    return subject, body


def staff_invite(
    *,
    tenant: Tenant,
    email: str,
    role: str,
    invited_by: Any,
    actor_role: str | None,
    accept_url: Callable[[str], str],
) -> StaffInvitation:
    """Create an invitation and mail its accept link (``accept_url(raw_token)``).

    Refused: an unknown role, the owner role by a non-owner, an address that is already an
    active staff member of this tenant (visible to the inviter in the staff list anyway).
    """
    email = normalize_email(email)
    if role not in Staff.Role.values:
        raise ApplicationError("validation_error", _("Unknown role."), details={"role": role})
    if role == Staff.Role.OWNER and actor_role != Staff.Role.OWNER:
        raise ForbiddenError("permission_denied", _("Only an owner can invite an owner."))
    if (
        Staff.objects.for_tenant(tenant)
        .filter(Q(user__email__iexact=email) | Q(user__username__iexact=email), is_active=True)
        .exists()
    ):
        raise ApplicationError(
            "already_staff", _("This address is already a staff member of this shop.")
        )
    raw = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        StaffInvitation.objects.for_tenant(tenant).filter(
            email=email, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now)
        invitation = StaffInvitation.objects.create(
            tenant=tenant,
            email=email,
            role=role,
            token_hash=StaffInvitation.hash_token(raw),
            invited_by=invited_by,
            expires_at=now + timedelta(days=settings.CONSOLE_INVITATION_DAYS),
        )
        subject, body = _invitation_mail(invitation, accept_url(raw))
        try:
            send_mail(subject, body, None, [email])
        except (OSError, smtplib.SMTPException) as exc:
            # No mail, no invitation: the transaction rolls back and the inviter retries.
            logger.warning("Staff invitation mail to tenant %s failed: %s", tenant.pk, exc)
            raise UnavailableError(
                "mail_failed", _("The invitation e-mail could not be sent. Try again later.")
            ) from exc
    return invitation


def staff_invitation_revoke(*, tenant: Tenant, invitation_id: int) -> bool:
    """Revoke a pending invitation of ``tenant``; False when it is not pending."""
    updated = (
        StaffInvitation.objects.for_tenant(tenant)
        .filter(pk=invitation_id, accepted_at__isnull=True, revoked_at__isnull=True)
        .update(revoked_at=timezone.now())
    )
    return bool(updated)


def staff_invitation_for_token(*, raw_token: str) -> StaffInvitation | None:
    """The pending, unexpired invitation of an active tenant with this token, else None."""
    if not raw_token or len(raw_token) > 200:
        return None
    invitation = (
        StaffInvitation.objects.select_related("tenant")
        .filter(token_hash=StaffInvitation.hash_token(raw_token))
        .first()
    )
    if invitation is None or not invitation.tenant.is_active:
        return None
    if invitation.status_at(timezone.now()) != StaffInvitation.Status.PENDING:
        return None
    return invitation


def _invalid() -> ApplicationError:
    return NotFoundError(
        _("This invitation link is invalid, has expired, was revoked or was already used."),
        code="invitation_invalid",
    )


def _accept_locked(*, raw_token: str, user_for: Callable[[StaffInvitation], Any]) -> Staff:
    with transaction.atomic():
        invitation = lock_objects.invitation_qs_for_update(
            token_hash=StaffInvitation.hash_token(raw_token)
        ).first()
        now = timezone.now()
        if (
            invitation is None
            or not invitation.tenant.is_active
            or invitation.status_at(now) != StaffInvitation.Status.PENDING
        ):
            raise _invalid()
        user = user_for(invitation)
        staff, created = Staff.objects.get_or_create(
            tenant=invitation.tenant,
            user=user,
            defaults={"role": invitation.role, "is_active": True},
        )
        if not created:
            staff.role = invitation.role
            staff.is_active = True
            staff.save(update_fields=["role", "is_active"])
        invitation.accepted_at = now
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
    return staff


def staff_invitation_accept(*, raw_token: str, user: Any) -> Staff:
    """Accept for an existing account (its password already checked by the caller)."""

    def check(invitation: StaffInvitation) -> Any:
        if invitee_user(email=invitation.email) != user or not user.is_active:
            raise _invalid()
        return user

    return _accept_locked(raw_token=raw_token, user_for=check)


def staff_invitation_accept_new_user(*, raw_token: str, password: str) -> Staff:
    """Accept for an address without an account: the account is created with ``password``."""

    def create(invitation: StaffInvitation) -> Any:
        if invitee_user(email=invitation.email) is not None:
            raise ConflictError(
                "account_exists", _("An account with this address exists now: sign in to accept.")
            )
        try:
            with transaction.atomic():
                return get_user_model().objects.create_user(
                    username=invitation.email, email=invitation.email, password=password
                )
        except IntegrityError as exc:  # created concurrently
            raise ConflictError(
                "account_exists", _("An account with this address exists now: sign in to accept.")
            ) from exc

    return _accept_locked(raw_token=raw_token, user_for=create)
