"""Row-locking querysets of distribution (select_for_update, ordered by pk; call inside a
transaction). Orders and members lock their own rows (``orders.lock_objects``,
``members.lock_objects``).

Raw SQL locks (kept with the app's other SQL in ``distribution/sql.py``):
- ``distribution.sql.commissions_pick_and_settle``: set-based settlement on PostgreSQL picks
  the due pending commissions ``FOR UPDATE OF c SKIP LOCKED`` and settles them in the same
  statement (``distribution.services.settlement``).
"""

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


def commission_for_update_any_tenant(*, pk: int) -> Commission:
    """One commission, locked, whatever its tenant: the row-by-row settlement baseline of
    ``bench/settlement.py`` (platform-wide, like the settlement beat)."""
    return Commission.objects.all_tenants().select_for_update().get(pk=pk)
