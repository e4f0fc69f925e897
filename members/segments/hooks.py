"""What segments ask of the apps above members (see docs/architecture.md, "Layers").

Members never import ``orders`` or ``distribution``; those apps register here in their
``AppConfig.ready()``:

- ``register_paid_orders(source)`` (``orders``): ``source(tenant_id)`` answers a queryset of
  the tenant's paid orders with the values ``member_id``, ``paid_at`` and ``amount`` (paid
  minus refunded; wholly refunded orders left out). ``rfm_refresh`` aggregates it into
  ``MemberRfm`` with one ``INSERT ... SELECT``. Without a source, RFM rows stay empty.
- ``register_distributor_members(source)`` (``distribution``): ``source(tenant_id)`` answers
  a queryset of ``member_id`` values (one column) of the tenant's approved distributors, used
  as a subquery of the segment query. Without a source, nobody is a distributor.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet

PaidOrdersSource = Callable[[int], QuerySet[Any]]
DistributorMembersSource = Callable[[int], QuerySet[Any]]

_paid_orders: list[PaidOrdersSource] = []
_distributor_members: list[DistributorMembersSource] = []


def register_paid_orders(source: PaidOrdersSource) -> None:
    """Set the paid-orders source (one; registering again replaces it)."""
    _paid_orders[:] = [source]


def paid_orders_source() -> PaidOrdersSource | None:
    return _paid_orders[0] if _paid_orders else None


def register_distributor_members(source: DistributorMembersSource) -> None:
    """Set the distributor-members source (one; registering again replaces it)."""
    _distributor_members[:] = [source]


def distributor_members_source() -> DistributorMembersSource | None:
    return _distributor_members[0] if _distributor_members else None
