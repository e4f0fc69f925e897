"""Read paths of the members domain."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from mall.tenancy.models import Tenant
from members.models import Address, Member


def address_list_for_member(*, member: Member) -> QuerySet[Address]:
    """The member's addresses, default first, then newest first."""
    return (
        Address.objects.for_tenant(member.tenant_id)
        .filter(member_id=member.pk)
        .order_by("-is_default", "-created_at", "-id")
    )


def member_list_for_sync(
    *, tenant: Tenant, updated_since: dt.datetime | None = None
) -> QuerySet[Member]:
    """Members for the open API sync (merged and disabled ones included), oldest change first."""
    qs = Member.objects.for_tenant(tenant).prefetch_related("identities")
    if updated_since is not None:
        qs = qs.filter(updated_at__gte=updated_since)
    return qs.order_by("updated_at", "id")


def member_get_for_sync(*, tenant: Tenant, member_id: int) -> Member | None:
    return (
        Member.objects.for_tenant(tenant)
        .prefetch_related("identities")
        .filter(pk=member_id)
        .first()
    )
