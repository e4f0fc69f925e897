"""The promotions app's raw SQL: what every quote and checkout reads or writes, written out
instead of compiled by the ORM (see ``mall.rawsql``). Only the promotions app's own tables;
fixed SQL text, every value a parameter. Read paths return scalar SQL expressions
(``(sql, params)``) so the quote adds them to its one SKU statement (``catalog.sql``) without
a round trip of their own."""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db import connection

from mall.rawsql import placeholders, scalar_values

# --- counters (never cached) ------------------------------------------------------------


def counter_columns(
    flash_row_ids: Sequence[int], budgeted_ids: Sequence[int], *, tenant_id: int
) -> list[tuple[str, Sequence[Any]]]:
    """The fresh counters as scalar subqueries: ``sold`` of each flash-sale row, then
    ``discount_given`` of each budgeted campaign (a deleted row reads as NULL). Read back with
    ``promotions.selectors.inputs.counters_from_columns`` in the same order."""
    columns: list[tuple[str, Sequence[Any]]] = [
        (
            "SELECT sold FROM promotions_flashsalesku WHERE tenant_id = %s AND id = %s",
            [tenant_id, pk],
        )
        for pk in flash_row_ids
    ]
    columns += [
        (
            "SELECT discount_given FROM promotions_campaign WHERE tenant_id = %s AND id = %s",
            [tenant_id, pk],
        )
        for pk in budgeted_ids
    ]
    return columns


def counter_values(
    flash_row_ids: Sequence[int], budgeted_ids: Sequence[int], *, tenant_id: int
) -> tuple[Any, ...]:
    """The values of ``counter_columns`` in one statement of their own."""
    return scalar_values(counter_columns(flash_row_ids, budgeted_ids, tenant_id=tenant_id))


# --- the member's chosen coupons ---------------------------------------------------------

# The chosen coupons with their templates, as one JSON array (a scalar column of the SKUs'
# statement); numbers parse as Decimal, timestamps by ``datetime.fromisoformat`` (C), which also
# skips the timezone-aware loader Django installs in psycopg (Python).
_COUPON_FIELDS = (
    "c.id, c.template_id, c.status, c.valid_from, c.valid_until, t.kind, t.name, t.amount,"
    " t.percent_off, t.max_discount, t.threshold, t.scope_type"
)
_COUPON_JSON = {
    "postgresql": f"SELECT CAST(json_agg(json_build_array({_COUPON_FIELDS})) AS TEXT)",
    "sqlite": f"SELECT json_group_array(json_array({_COUPON_FIELDS}))",
}
_COUPON_FROM = (
    " FROM promotions_coupon c INNER JOIN promotions_coupontemplate t ON t.id = c.template_id"
    " WHERE c.tenant_id = %s AND c.member_id = %s AND c.id IN ({ids})"
)


def member_coupons_column(
    *, tenant_id: int, member_id: int, coupon_ids: Sequence[int]
) -> tuple[str, list[Any]]:
    """The member's coupons among ``coupon_ids`` with their templates, as one JSON column;
    ``member_coupons_from_column`` reads it."""
    select = _COUPON_JSON[connection.vendor]
    return (
        select + _COUPON_FROM.format(ids=placeholders(len(coupon_ids))),
        [tenant_id, member_id, *coupon_ids],
    )


def member_coupons_from_column(value: str | None) -> dict[int, list[Any]]:
    """Coupon id -> its row (the columns of ``_COUPON_FIELDS``), from the JSON array (NULL or
    "[]" when none is the member's)."""
    found = json.loads(value, parse_float=Decimal) if value else []
    return {row[0]: row for row in found}


# --- campaign budgets (every checkout with a budgeted campaign) -------------------------


def campaign_budget_add(*, tenant_id: int, campaign_id: int, amount: Decimal) -> bool:
    """Add ``amount`` to the campaign's ``discount_given`` if it stays within the budget: the
    ORM's guarded ``UPDATE`` written out (the casts are the ones Django emits for decimals on
    SQLite). False when it would exceed the budget."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE promotions_campaign"
            " SET discount_given = CAST(discount_given + CAST(%s AS NUMERIC) AS NUMERIC)"
            " WHERE tenant_id = %s AND id = %s AND (budget IS NULL"
            " OR budget >= CAST(discount_given + CAST(%s AS NUMERIC) AS NUMERIC))",
            [amount, tenant_id, campaign_id, amount],
        )
        return cursor.rowcount > 0


# --- names for other apps' statements ----------------------------------------------------


def campaign_name_expression(*, tenant_id: int, campaign_id: str) -> tuple[str, list[Any]]:
    """The name of the tenant's campaign whose id is the SQL expression ``campaign_id`` (a
    column of the caller's statement), as a scalar subquery (NULL for a deleted campaign)."""
    return (
        f"(SELECT name FROM promotions_campaign WHERE id = {campaign_id} AND tenant_id = %s)",  # noqa: S608
        [tenant_id],
    )
