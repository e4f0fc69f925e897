"""Row-locking querysets of the members domain (always in pk order)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from mall.tenancy.models import Tenant
from members.models import Member


def members_for_update(*, tenant: Tenant | int, ids: Iterable[int]) -> QuerySet[Member]:
    return (
        Member.objects.for_tenant(tenant)
        .select_for_update()
        .filter(pk__in=sorted(set(ids)))
        .order_by("pk")
    )
