"""The distributor ledger: every balance change is an entry plus an F() update of the cache."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import F, Sum

from distribution.models import Distributor, LedgerEntry
from mall.money import ZERO, quantize


def ledger_add(
    *,
    tenant_id: int,
    distributor_id: int,
    kind: str,
    amount: Decimal,
    reference: str,
    note: str = "",
) -> LedgerEntry:
    """Write one entry and move the cached balance by the same amount (caller's transaction).

    ``(tenant, kind, reference)`` is unique, so an entry can never be written twice."""
    entry = LedgerEntry.objects.create(
        tenant_id=tenant_id,
        distributor_id=distributor_id,
        kind=kind,
        amount=amount,
        reference=reference[:128],
        note=note[:200],
    )
    Distributor.objects.for_tenant(tenant_id).filter(pk=distributor_id).update(
        balance=F("balance") + amount
    )
    return entry


def ledger_balance(*, distributor: Distributor) -> Decimal:
    """The balance recomputed from the ledger (the cache must always equal it)."""
    total = (
        LedgerEntry.objects.for_tenant(distributor.tenant_id)
        .filter(distributor=distributor)
        .aggregate(total=Sum("amount"))["total"]
    )
    return quantize(total) if total is not None else ZERO
