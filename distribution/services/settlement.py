"""Settlement: pending commissions of completed orders become settled and credit the ledger.

Set-based, in batches, one transaction per batch:

1. ``UPDATE commission SET status='settled', settle_batch=<token> WHERE id IN (<due ids,
   FOR UPDATE SKIP LOCKED on PostgreSQL>) AND status='pending'`` — a row another worker holds
   is skipped, a row another worker settled no longer matches: each row is settled once;
2. ``INSERT INTO ledger ... SELECT ... FROM commission WHERE settle_batch=<token>`` (references
   ``commission:<id>`` are unique per kind, a second credit is impossible);
3. one ``UPDATE distributor SET balance = balance + (SELECT SUM ...)`` for the batch;
4. one ``commission.settled`` outbox event per distributor of the batch.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, DecimalField, ExpressionWrapper, F, OuterRef, Subquery, Sum
from django.utils import timezone

from distribution.models import Commission, Distributor, LedgerEntry
from mall.events.services import EventName, event_record
from mall.money import ZERO

DEFAULT_BATCH = 50_000

_NET = ExpressionWrapper(
    F("amount") - F("reversed_amount"), output_field=DecimalField(max_digits=12, decimal_places=2)
)


@dataclass(frozen=True)
class SettleResult:
    count: int
    amount: Decimal
    distributors: int


def commissions_due(*, tenant_id: int | None = None):  # type: ignore[no-untyped-def]
    """Pending commissions whose order completed (its after-sale window closed)."""
    from orders.models import Order

    due = Commission.objects.filter(
        status=Commission.Status.PENDING, order__status=Order.Status.COMPLETED
    )
    if tenant_id is not None:
        due = due.filter(tenant_id=tenant_id)
    return due


def _settle_batch(*, tenant_id: int | None, now: datetime, batch_size: int) -> SettleResult:
    token = uuid.uuid4().hex
    with transaction.atomic():
        ids = commissions_due(tenant_id=tenant_id).order_by("pk").values("pk")[:batch_size]
        if connection.features.has_select_for_update_skip_locked:
            ids = ids.select_for_update(skip_locked=True, of=("self",))
        settled = Commission.objects.filter(pk__in=ids, status=Commission.Status.PENDING).update(
            status=Commission.Status.SETTLED, settled_at=now, settle_batch=token
        )
        if not settled:
            return SettleResult(0, ZERO, 0)
        commission_table = Commission._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {LedgerEntry._meta.db_table} "  # noqa: S608 (table names only)
                "(tenant_id, distributor_id, kind, amount, reference, note, created_at) "
                "SELECT tenant_id, beneficiary_id, %s, amount - reversed_amount, "
                "'commission:' || CAST(id AS VARCHAR(20)), '', %s "
                f"FROM {commission_table} WHERE settle_batch = %s "
                "AND amount > reversed_amount",
                [LedgerEntry.Kind.CREDIT, now, token],
            )
        batch = Commission.objects.filter(settle_batch=token)
        per_distributor = (
            batch.filter(beneficiary=OuterRef("pk"))
            .order_by()
            .values("beneficiary")
            .annotate(total=Sum(_NET))
            .values("total")
        )
        Distributor.objects.filter(pk__in=batch.values("beneficiary_id")).update(
            balance=F("balance") + Subquery(per_distributor)
        )
        groups = list(
            batch.order_by()
            .values("tenant_id", "beneficiary_id")
            .annotate(count=Count("pk"), total=Sum(_NET))
            .order_by("tenant_id", "beneficiary_id")
        )
        amount = ZERO
        for group in groups:
            amount += group["total"]
            event_record(
                tenant=group["tenant_id"],
                name=EventName.COMMISSION_SETTLED,
                subject=f"distributor:{group['beneficiary_id']}",
                payload={
                    "distributor_id": group["beneficiary_id"],
                    "count": group["count"],
                    "amount": str(group["total"]),
                    "batch": token,
                    "settled_at": now.isoformat(),
                },
            )
    return SettleResult(settled, amount, len(groups))


def commissions_settle_due(
    *,
    tenant_id: int | None = None,
    now: datetime | None = None,
    batch_size: int = DEFAULT_BATCH,
    dry_run: bool = False,
) -> SettleResult:
    """Settle everything due now (optionally one tenant). Safe to run twice or concurrently."""
    now = now or timezone.now()
    if dry_run:
        totals = commissions_due(tenant_id=tenant_id).aggregate(
            count=Count("pk"), amount=Sum(_NET), distributors=Count("beneficiary", distinct=True)
        )
        return SettleResult(totals["count"], totals["amount"] or ZERO, totals["distributors"])
    count, amount, distributors = 0, ZERO, 0
    while True:
        result = _settle_batch(tenant_id=tenant_id, now=now, batch_size=batch_size)
        if not result.count:
            break
        count += result.count
        amount += result.amount
        distributors += result.distributors
    return SettleResult(count, amount, distributors)
