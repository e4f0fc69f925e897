"""The distribution app's raw SQL: the attribution settings read on every checkout and the
set-based settlement (``distribution.services.settlement``). Only the distribution app's own
tables; the order's status is asked of ``orders.sql``. Fixed SQL text, every value a
parameter (table names come from the models)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection

from distribution.models import Commission, Distributor, LedgerEntry
from orders.models import Order
from orders.sql import order_status_condition


def attribution_settings_row(*, tenant_id: int) -> tuple[Any, ...] | None:
    """(enabled, rules_version, tiers, self_purchase_commission) of the tenant's settings
    row, None when it does not exist yet. Hot path: every checkout."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT enabled, rules_version, tiers, self_purchase_commission "
            "FROM distribution_distributionsettings WHERE tenant_id = %s",
            [tenant_id],
        )
        return cursor.fetchone()


def commissions_pick_and_settle(
    *, tenant_id: int | None, now: datetime, token: str, batch_size: int
) -> list[tuple[int, int, int, Decimal]]:
    """PostgreSQL, one statement: lock up to ``batch_size`` pending commissions of completed
    orders (skipping rows another worker holds), settle them, write their credits; returns
    (tenant id, distributor id, count, net total) per distributor."""
    commission, ledger = Commission._meta.db_table, LedgerEntry._meta.db_table
    tenant_filter = "AND c.tenant_id = %(tenant)s" if tenant_id is not None else ""
    completed = order_status_condition("c.order_id", "%(completed)s")
    query = f"""
        WITH picked AS (
            SELECT c.id FROM {commission} AS c
            WHERE c.status = %(pending)s AND {completed} {tenant_filter}
            LIMIT %(limit)s
            FOR UPDATE OF c SKIP LOCKED
        ), settled AS (
            UPDATE {commission} AS c
            SET status = %(settled)s, settled_at = %(now)s, settle_batch = %(token)s
            WHERE c.id = ANY(ARRAY(SELECT id FROM picked)) AND c.status = %(pending)s
            RETURNING c.id, c.tenant_id, c.beneficiary_id, c.amount - c.reversed_amount AS net
        ), credits AS (
            INSERT INTO {ledger}
                (tenant_id, distributor_id, kind, amount, reference, note, created_at)
            SELECT tenant_id, beneficiary_id, %(credit)s, net, 'commission:' || id, '', %(now)s
            FROM settled WHERE net > 0
        )
        SELECT tenant_id, beneficiary_id, COUNT(*), SUM(net) FROM settled
        GROUP BY tenant_id, beneficiary_id ORDER BY tenant_id, beneficiary_id
    """  # noqa: S608 (table names only)
    with connection.cursor() as cursor:
        cursor.execute(
            query,
            {
                "pending": Commission.Status.PENDING,
                "settled": Commission.Status.SETTLED,
                "completed": Order.Status.COMPLETED,
                "credit": LedgerEntry.Kind.CREDIT,
                "tenant": tenant_id,
                "limit": batch_size,
                "now": now,
                "token": token,
            },
        )
        return [(t, d, n, total) for t, d, n, total in cursor.fetchall()]


def ledger_credits_of_batch(*, token: str, now: datetime) -> None:
    """One ``credit`` ledger entry per commission settled under ``token`` with a positive net
    (other databases than PostgreSQL: the second of three statements)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {LedgerEntry._meta.db_table} "  # noqa: S608 (table names only)
            "(tenant_id, distributor_id, kind, amount, reference, note, created_at) "
            "SELECT tenant_id, beneficiary_id, %s, amount - reversed_amount, "
            "'commission:' || CAST(id AS VARCHAR(20)), '', %s "
            f"FROM {Commission._meta.db_table} WHERE settle_batch = %s "
            "AND amount > reversed_amount",
            [LedgerEntry.Kind.CREDIT, now, token],
        )


def distributor_balances_add(moves: Sequence[tuple[int, Decimal]]) -> None:
    """PostgreSQL: lock the distributors in id order (two workers never deadlock on them) and
    add each one's total to its cached balance, in two statements."""
    ids = [d for d, _ in moves]
    table = Distributor._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {table} WHERE id = ANY(%s) ORDER BY id FOR NO KEY UPDATE",  # noqa: S608
            [ids],
        )
        cursor.execute(
            f"UPDATE {table} AS d SET balance = d.balance + m.total "  # noqa: S608
            "FROM unnest(%s::bigint[], %s::numeric[]) AS m(id, total) WHERE d.id = m.id",
            [ids, [total for _, total in moves]],
        )
