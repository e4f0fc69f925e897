"""Row-level security on every tenant-owned table (PostgreSQL only; nothing on SQLite).

Each table that carries ``tenant_id`` gets ``ENABLE`` and ``FORCE ROW LEVEL SECURITY`` (so the
owner is held to it too; only superusers and ``BYPASSRLS`` roles are not) and one policy,
``tenant_isolation``: a row is visible and writable when its ``tenant_id`` is the session's
``mall.tenant_id``, or when ``mall.all_tenants`` is ``on`` (``all_tenants()``). Without a
setting nothing is visible and nothing can be written. The settings are sent by the backend
(``mall.db.postgresql``) from the scope of the running code (``mall.tenancy.scope``).

Applied by the migration ``mall.0007_row_level_security`` and again after every ``migrate``
(``post_migrate``), so a table added by a later migration gets it too;
``tests/security/test_row_level_security.py`` fails when one has not.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

POLICY_NAME = "tenant_isolation"
POLICY_CONDITION = (
    "current_setting('mall.all_tenants', true) = 'on' "
    "OR tenant_id = NULLIF(current_setting('mall.tenant_id', true), '')::bigint"
)


def rls_statements(table: str) -> list[str]:
    quoted = f'"{table}"'
    return [
        f"ALTER TABLE {quoted} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {quoted} FORCE ROW LEVEL SECURITY",
        f"DROP POLICY IF EXISTS {POLICY_NAME} ON {quoted}",
        f"CREATE POLICY {POLICY_NAME} ON {quoted} "
        f"USING ({POLICY_CONDITION}) WITH CHECK ({POLICY_CONDITION})",
    ]


def tenant_owned_tables_of(models: Iterable[Any]) -> list[str]:
    """Tables of the models (current or historical) with a ``tenant`` FK to ``mall.Tenant``."""
    tables = []
    for model in models:
        if model._meta.proxy or not model._meta.managed:
            continue
        field: Any = next((f for f in model._meta.fields if f.name == "tenant"), None)
        related = getattr(field, "related_model", None)
        if related is not None and related._meta.label_lower == "mall.tenant":
            tables.append(model._meta.db_table)
    return sorted(set(tables))


def tables_without_rls(connection: Any, tables: Iterable[str]) -> list[str]:
    """Those of ``tables`` that lack ENABLE/FORCE or the policy."""
    wanted = list(tables)
    if connection.vendor != "postgresql" or not wanted:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relname = ANY(%s) "
            "AND c.relrowsecurity AND c.relforcerowsecurity AND EXISTS ("
            "SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = %s)",
            [wanted, POLICY_NAME],
        )
        done = {row[0] for row in cursor.fetchall()}
    return [table for table in wanted if table not in done]


def enable_row_level_security(connection: Any, tables: Iterable[str]) -> list[str]:
    """Enable, force and (re)create the policy on those of ``tables`` that lack it."""
    missing = tables_without_rls(connection, tables)
    if missing:
        with connection.cursor() as cursor:
            for table in missing:
                for statement in rls_statements(table):
                    cursor.execute(statement)
    return missing


def enable_row_level_security_after_migrate(
    sender: Any, *, using: str = "default", apps: Any = None, **kwargs: Any
) -> None:
    """``post_migrate``: every tenant-owned table of the migrated state has RLS."""
    from django.db import connections

    connection = connections[using]
    if connection.vendor != "postgresql" or apps is None:
        return
    existing = set(connection.introspection.table_names())
    tables = [t for t in tenant_owned_tables_of(apps.get_models()) if t in existing]
    enable_row_level_security(connection, tables)
