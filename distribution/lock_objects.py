"""Row-locking querysets of distribution (select_for_update, ordered by pk; call inside a
transaction). Orders and members lock their own rows (``orders.lock_objects``,
``members.lock_objects``)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from distribution.models import Commission, Distributor, Withdrawal
from mall.tenancy.models import Tenant


def distributor_for_update(*, tenant: Tenant | int, pk: int) -> Distributor:
    return Distributor.objects.for_tenant(tenant).select_for_update().get(pk=pk)


def withdrawal_qs_for_update(*, tenant: Tenant | int, pk: int) -> QuerySet[Withdrawal]:
    return Withdrawal.objects.for_tenant(tenant).select_for_update().filter(pk=pk)


def commissions_of_lines_for_update(
    *, tenant: Tenant | int, order_id: int, line_ids: Iterable[int]
) -> QuerySet[Commission]:
    return (
        Commission.objects.for_tenant(tenant)
        .select_for_update()
        .filter(order_id=order_id, order_line_id__in=list(line_ids))
        .order_by("pk")
    )
