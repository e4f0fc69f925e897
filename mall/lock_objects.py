"""Row-locking querysets of the platform (select_for_update; call inside a transaction)."""

from __future__ import annotations

from django.db.models import QuerySet

from mall.followups.models import FollowUp
from mall.tenancy.models import Channel, StaffInvitation, Tenant


def alipay_channel_qs_for_update(*, tenant: Tenant | int, app_id: str) -> QuerySet[Channel]:
    return (
        Channel.objects.for_tenant(tenant)
        .select_for_update()
        .filter(platform=Channel.Platform.ALIPAY, app_id=app_id)
    )


def invitation_qs_for_update(*, token_hash: str) -> QuerySet[StaffInvitation]:
    """Found by its token alone (the invitee has no tenant yet), with its tenant."""
    return (
        StaffInvitation.objects.select_for_update()
        .select_related("tenant")
        .filter(token_hash=token_hash)
    )


def followup_qs_for_update(*, tenant: Tenant | int, key: str) -> QuerySet[FollowUp]:
    return FollowUp.objects.for_tenant(tenant).select_for_update().filter(key=key)
