"""Read paths of the distributor centre."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils.translation import gettext_lazy as _

from distribution.errors import DistributionErrorCode
from distribution.models import Commission, Distributor
from distribution.services.distributors import team_queryset
from mall.errors import NotFoundError
from mall.tenancy.models import Tenant
from members.models import Member


def distributor_for_member(*, tenant: Tenant, member: Member) -> Distributor:
    found = (
        Distributor.objects.for_tenant(tenant)
        .select_related("grade", "parent__member")
        .filter(member=member)
        .first()
    )
    if found is None:
        raise NotFoundError(
            _("You are not a distributor."), code=DistributionErrorCode.NOT_A_DISTRIBUTOR
        )
    return found


def distributor_summary(*, tenant: Tenant, distributor: Distributor) -> dict[str, Any]:
    totals = (
        Commission.objects.for_tenant(tenant)
        .filter(beneficiary=distributor)
        .aggregate(
            pending=Sum("amount", filter=Q(status="pending")),
            pending_reversed=Sum("reversed_amount", filter=Q(status="pending")),
            settled=Sum("amount", filter=Q(status__in=["settled", "reversed"])),
        )
    )
    pending = (totals["pending"] or 0) - (totals["pending_reversed"] or 0)
    team = team_queryset(tenant=tenant, distributor=distributor).aggregate(
        total=Count("pk"), direct=Count("pk", filter=Q(parent=distributor))
    )
    return {"pending_amount": pending, "team_size": team["total"], "direct_size": team["direct"]}


def team_list(*, tenant: Tenant, distributor: Distributor) -> QuerySet[Distributor]:
    return (
        team_queryset(tenant=tenant, distributor=distributor)
        .select_related("member", "grade")
        .order_by("-id")
    )


def commission_list(
    *, tenant: Tenant, distributor: Distributor, status: str | None = None
) -> QuerySet[Commission]:
    qs = (
        Commission.objects.for_tenant(tenant)
        .filter(beneficiary=distributor)
        .select_related("order", "order_line")
        .order_by("-id")
    )
    if status:
        qs = qs.filter(status=status)
    return qs


def approved_distributor_member_ids(tenant_id: int) -> QuerySet[Any]:
    """``member_id`` of the tenant's approved distributors (one column): the subquery behind the
    members segment condition "is a distributor" (``members.segments.hooks``)."""
    approved = Distributor.objects.for_tenant(tenant_id).filter(status=Distributor.Status.APPROVED)
    return approved.values("member_id")
