"""Read paths of the members domain."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from mall.tenancy.models import Tenant
from members import sql
from members.models import Address, Member


def address_list_for_member(*, member: Member) -> QuerySet[Address]:
    """The member's addresses, default first, then newest first."""
    return (
        Address.objects.for_tenant(member.tenant_id)
        .filter(member_id=member.pk)
        .order_by("-is_default", "-created_at", "-id")
    )


def address_of_member(*, tenant: Tenant, member: Member, address_id: int) -> Address | None:
    """The member's address ``address_id`` in this shop, or None (another member's or shop's).

    Hot path (every quote and checkout with delivery): a raw read (``members.sql``).
    """
    return sql.address_of_member(tenant_id=tenant.pk, member_id=member.pk, address_id=address_id)


def member_list_for_sync(
    *, tenant: Tenant, updated_since: dt.datetime | None = None
) -> QuerySet[Member]:
    """Members for the open API sync (merged and disabled ones included), oldest change first."""
    qs = (
        Member.objects.for_tenant(tenant)
        .select_related("tier_state__tier")
        .prefetch_related("identities")
    )
    if updated_since is not None:
        qs = qs.filter(updated_at__gte=updated_since)
    return qs.order_by("updated_at", "id")


def member_get_for_sync(*, tenant: Tenant, member_id: int) -> Member | None:
    return (
        Member.objects.for_tenant(tenant)
        .select_related("tier_state__tier")
        .prefetch_related("identities")
        .filter(pk=member_id)
        .first()
    )
