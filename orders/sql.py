"""The orders app's raw SQL: what the ORM cannot say in one statement (the campaign results
of the dashboard unnest each order's JSON list), and the order conditions other apps' raw
statements need (``order_status_condition``), so that no other app names ``orders_order``.
Only the orders app's own tables; a campaign's name is asked of ``promotions.sql``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connection

from mall.rawsql import fetch_all
from orders.models import Order
from promotions.sql import campaign_name_expression


def order_status_condition(order_id: str, status: str) -> str:
    """A SQL condition for another app's statement: the order whose id is the SQL expression
    ``order_id`` (a column of that statement) has the status of the placeholder ``status``
    (``%s`` or ``%(name)s``; the caller passes the value)."""
    table = connection.ops.quote_name(Order._meta.db_table)
    # Identifiers and placeholders chosen by the calling code, never values.
    return f"EXISTS (SELECT 1 FROM {table} o WHERE o.id = {order_id} AND o.status = {status})"  # noqa: S608


_CAMPAIGN_SQL = {
    "postgresql": """
        SELECT x.campaign_id, {name}, x.discount, x.orders, x.paid
        FROM (
            SELECT CAST(e.value ->> 0 AS bigint) AS campaign_id,
                   SUM(CAST(e.value ->> 1 AS numeric)) AS discount,
                   COUNT(DISTINCT o.id) AS orders,
                   SUM(o.paid_amount) AS paid
            FROM {order} o CROSS JOIN LATERAL jsonb_array_elements(
                CASE WHEN jsonb_typeof(o.campaign_discounts) = 'array'
                     THEN o.campaign_discounts ELSE '[]'::jsonb END) AS e(value)
            WHERE o.tenant_id = %s AND o.paid_at >= %s AND o.paid_at < %s
            GROUP BY 1
        ) x
        ORDER BY x.discount DESC, x.campaign_id
        LIMIT %s
    """,
    "sqlite": """
        SELECT x.campaign_id, {name}, x.discount, x.orders, x.paid
        FROM (
            SELECT CAST(json_extract(e.value, '$[0]') AS INTEGER) AS campaign_id,
                   SUM(CAST(json_extract(e.value, '$[1]') AS NUMERIC)) AS discount,
                   COUNT(DISTINCT o.id) AS orders,
                   SUM(o.paid_amount) AS paid
            FROM {order} o, json_each(o.campaign_discounts) e
            WHERE o.tenant_id = %s AND o.paid_at >= %s AND o.paid_at < %s
            GROUP BY 1
        ) x
        ORDER BY x.discount DESC, x.campaign_id
        LIMIT %s
    """,
}


def campaign_discount_totals(
    *, tenant_id: int, start: datetime, end: datetime, limit: int
) -> list[tuple[Any, ...]]:
    """(campaign id, campaign name or None, discount, orders, paid amount) of the ``limit``
    campaigns that gave most over orders paid in [start, end), one statement."""
    name_sql, name_params = campaign_name_expression(
        tenant_id=tenant_id, campaign_id="x.campaign_id"
    )
    sql = _CAMPAIGN_SQL[connection.vendor].format(
        order=connection.ops.quote_name(Order._meta.db_table), name=name_sql
    )
    adapt = connection.ops.adapt_datetimefield_value
    return fetch_all(sql, [*name_params, tenant_id, adapt(start), adapt(end), limit])
