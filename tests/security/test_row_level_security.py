"""Row-level security, PostgreSQL only: the database itself keeps tenants apart.

The queries run as a role like the application's (``scripts/db_roles.sql``): not a superuser,
no ``BYPASSRLS``, owns nothing, only row privileges. It is created inside the test's
transaction (rolled back with it) and taken with ``SET LOCAL ROLE``, for which PostgreSQL
checks privileges and policies exactly as for a session that logged in as that role. The
tenant setting is sent by the backend from ``tenant_context()``, as in a request.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError, IntegrityError

from mall.tenancy.rls import POLICY_NAME, tables_without_rls
from mall.tenancy.scoping import all_tenants, tenant_context, tenant_owned_models
from tests.security.factories import MODEL_FACTORIES, make_tenant

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row-level security is PostgreSQL's"
    ),
]

LABELS = sorted(model._meta.label for model in tenant_owned_models())


@pytest.fixture
def app_role(db: Any) -> str:
    name = f"{connection.settings_dict['NAME']}_rls_app"[:63]
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE ROLE "{name}" NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT')
        cursor.execute(f'GRANT USAGE ON SCHEMA public TO "{name}"')
        cursor.execute(
            f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{name}"'
        )
        cursor.execute(f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{name}"')
    return name


def _as(role: str, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
    """Run ``sql`` as ``role`` (in a savepoint, so a refusal leaves the test's transaction)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f'SET LOCAL ROLE "{role}"')
        cursor.execute(sql, params)  # an error rolls the savepoint (and the role) back
        rows = list(cursor.fetchall()) if cursor.description else []
        cursor.execute("RESET ROLE")
        return rows


def test_every_tenant_owned_table_has_row_level_security_forced() -> None:
    tables = [model._meta.db_table for model in tenant_owned_models()]
    assert tables_without_rls(connection, tables) == [], (
        "tenant-owned tables without ENABLE/FORCE ROW LEVEL SECURITY and the "
        f"{POLICY_NAME} policy (mall/tenancy/rls.py; post_migrate applies it)"
    )


@pytest.mark.parametrize("label", LABELS)
def test_unscoped_select_sees_only_the_current_tenant(
    label: str, app_role: str, _tenant_query_guard: Any
) -> None:
    model = next(m for m in tenant_owned_models() if m._meta.label == label)
    table = model._meta.db_table
    tenant_a, tenant_b = make_tenant("rls-a"), make_tenant("rls-b")
    MODEL_FACTORIES[label](tenant_a)
    try:
        with transaction.atomic():
            MODEL_FACTORIES[label](tenant_b)
            both = [tenant_a.pk, tenant_b.pk]
    except IntegrityError:  # a factory with fixed unique values (API key, identity): one row
        both = [tenant_a.pk]
    sql = f'SELECT DISTINCT tenant_id FROM "{table}"'  # no tenant filter, on purpose
    with _tenant_query_guard.paused():
        # The superuser the suite runs as sees every row (RLS does not apply to it) ...
        assert set(both) <= {row[0] for row in _raw(sql)}
        # ... the application role only the tenant of its scope, or nothing without one.
        with tenant_context(tenant_a):
            assert _as(app_role, sql) == [(tenant_a.pk,)]
        with tenant_context(tenant_b):
            assert _as(app_role, sql) == ([(tenant_b.pk,)] if len(both) == 2 else [])
        assert _as(app_role, sql) == []
        with all_tenants():
            assert {row[0] for row in _as(app_role, sql)} >= set(both)


@pytest.mark.parametrize("label", LABELS)
def test_insert_with_another_tenants_id_is_refused(
    label: str, app_role: str, _tenant_query_guard: Any
) -> None:
    model = next(m for m in tenant_owned_models() if m._meta.label == label)
    table = model._meta.db_table
    tenant_a, tenant_b = make_tenant("rls-a"), make_tenant("rls-b")
    obj = MODEL_FACTORIES[label](tenant_a)
    columns = [
        f.column
        for f in model._meta.concrete_fields
        if not f.primary_key and f.column != "tenant_id"
    ]
    names = ", ".join(f'"{c}"' for c in ["tenant_id", *columns])
    values = ", ".join(["%s", *(f'"{c}"' for c in columns)])
    # A copy of tenant A's row, labelled as tenant B's, written while acting as tenant A.
    sql = f'INSERT INTO "{table}" ({names}) SELECT {values} FROM "{table}" WHERE id = %s'
    with (
        _tenant_query_guard.paused(),
        tenant_context(tenant_a),
        pytest.raises(DatabaseError, match="row-level security"),
    ):
        _as(app_role, sql, [tenant_b.pk, obj.pk])
    # Without a tenant the row to copy is not even visible: nothing is written.
    with _tenant_query_guard.paused():
        assert _as(app_role, sql.replace("%s", "tenant_id", 1), [obj.pk]) == []
        assert _as(app_role, f'SELECT count(*) FROM "{table}"') == [(0,)]


def _raw(sql: str) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return list(cursor.fetchall())
