"""Row-level security through a real login as the application's role (PostgreSQL only).

``test_row_level_security.py`` checks every table with ``SET LOCAL ROLE`` inside the test's
transaction. Here a separate connection logs in as a role made like ``mall_app`` in
``scripts/db_roles.sql`` (LOGIN, not a superuser, no ``BYPASSRLS``, owns nothing, row
privileges only) and sends the tenant scope exactly as the project's backend does
(``mall.db.postgresql.SET_SCOPE_SQL``). A query with no tenant filter, on every tenant-owned
table, returns only the current tenant's rows (nothing without a scope); an insert or update
labelled with another tenant's id is refused by the database.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction

from mall.db.postgresql.base import SET_SCOPE_SQL
from mall.tenancy.scoping import tenant_owned_models
from members.models import Member
from tests.security.factories import MODEL_FACTORIES, make_tenant

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row-level security is PostgreSQL's"
    ),
]


class AppSession:
    """One login connection as the app role, autocommit, with the backend's scope setting."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def scope(self, tenant_id: int | None, every: bool = False) -> None:
        self.conn.execute(
            SET_SCOPE_SQL, ("" if tenant_id is None else str(tenant_id), "on" if every else "off")
        )

    def rows(self, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
        with self.conn.cursor() as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall()) if cursor.description else []


@pytest.fixture
def app_session(db: Any) -> Iterator[AppSession]:
    role = f"mall_app_test_{uuid.uuid4().hex[:8]}"
    password = uuid.uuid4().hex
    settings = connection.settings_dict
    with connection.cursor() as cursor:
        cursor.execute(
            f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE '
            f"NOINHERIT PASSWORD '{password}'"  # hex digits: nothing to escape
        )
        cursor.execute(f'GRANT CONNECT ON DATABASE "{settings["NAME"]}" TO "{role}"')
        cursor.execute(f'GRANT USAGE ON SCHEMA public TO "{role}"')
        cursor.execute(
            f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{role}"'
        )
        cursor.execute(f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{role}"')
    conn = psycopg.connect(
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        dbname=settings["NAME"],
        user=role,
        password=password,
        autocommit=True,
    )
    try:
        yield AppSession(conn)
    finally:
        conn.close()
        with connection.cursor() as cursor:
            cursor.execute(f'DROP OWNED BY "{role}"')
            cursor.execute(f'DROP ROLE "{role}"')


def test_the_app_role_is_no_superuser_and_cannot_bypass_rls(app_session: AppSession) -> None:
    assert app_session.rows(
        "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
    ) == [(False, False)]


def test_unscoped_selects_through_the_app_role_see_one_tenant(
    app_session: AppSession, _tenant_query_guard: Any
) -> None:
    models = {model._meta.label: model for model in tenant_owned_models()}
    assert set(models) == set(MODEL_FACTORIES)
    with _tenant_query_guard.paused():
        for n, (label, factory) in enumerate(sorted(MODEL_FACTORIES.items())):
            # Two fresh tenants per table; B's row is skipped where the factory's fixed values
            # are unique across tenants (an API key prefix, a platform identity).
            tenant_a, tenant_b = make_tenant(f"login-a{n}"), make_tenant(f"login-b{n}")
            factory(tenant_a)
            try:
                with transaction.atomic():
                    factory(tenant_b)
            except IntegrityError:
                pass
            table = models[label]._meta.db_table
            sql = f'SELECT DISTINCT tenant_id FROM "{table}"'  # no tenant filter, on purpose
            with connection.cursor() as cursor:  # the suite's superuser sees every row
                cursor.execute(sql)
                everything = {row[0] for row in cursor.fetchall()}
            assert tenant_a.pk in everything, label
            app_session.scope(tenant_a.pk)
            assert app_session.rows(sql) == [(tenant_a.pk,)], label
            app_session.scope(tenant_b.pk)
            assert {r[0] for r in app_session.rows(sql)} == {tenant_b.pk} & everything, label
            app_session.scope(None)  # a forgotten tenant scope: nothing at all
            assert app_session.rows(sql) == [], label
            app_session.scope(None, every=True)  # all_tenants(): a platform-wide sweep
            assert {r[0] for r in app_session.rows(sql)} == everything, label


def test_writes_labelled_with_another_tenant_are_refused(
    app_session: AppSession, _tenant_query_guard: Any
) -> None:
    tenant_a, tenant_b = make_tenant("login-a"), make_tenant("login-b")
    mine = Member.objects.create(tenant=tenant_a, nickname="mine")
    columns = [
        f.column
        for f in Member._meta.concrete_fields
        if not f.primary_key and f.column != "tenant_id"
    ]
    names = ", ".join(f'"{c}"' for c in ["tenant_id", *columns])
    values = ", ".join(["%s", *(f'"{c}"' for c in columns)])
    copy = f"INSERT INTO members_member ({names}) SELECT {values} FROM members_member WHERE id = %s"
    app_session.scope(tenant_a.pk)
    app_session.rows(copy, [tenant_a.pk, mine.pk])  # a copy for its own tenant is allowed
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        app_session.rows(copy, [tenant_b.pk, mine.pk])  # labelled as another tenant's
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        app_session.rows(
            "UPDATE members_member SET tenant_id = %s WHERE id = %s", [tenant_b.pk, mine.pk]
        )
    with _tenant_query_guard.paused(), connection.cursor() as cursor:
        cursor.execute("SELECT tenant_id, nickname FROM members_member ORDER BY id")
        assert cursor.fetchall() == [(tenant_a.pk, "mine"), (tenant_a.pk, "mine")]
