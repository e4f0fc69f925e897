"""Django's PostgreSQL backend with a health check that costs no round trip when it can.

With ``CONN_HEALTH_CHECKS`` Django sends ``SELECT 1`` before the first query of every request
that reuses a persistent connection: a round trip (and ~0.1 ms of CPU) on every shopper request.
Here the check first looks at the connection's socket without blocking. A connection the server
closed or is closing (restart, ``pg_terminate_backend``, idle timeout) has its FATAL message
or end of stream waiting there, and so does one with a notice or notification pending: in
those cases, and whenever the connection is not idle outside a transaction, Django's own
``SELECT 1`` decides as before. A quiet, idle socket means the server has said nothing since the
last answer, and the connection is reused at once. (The same idea as the non-blocking read with
which Go's database drivers check a pooled connection.) A host that vanished without closing
its sockets is found by neither check until TCP gives up.

``is_usable`` itself is unchanged: after an error during a request Django still runs the full
check.

Tenant scope for row-level security: before a cursor is handed out, the connection makes sure
the session settings ``mall.tenant_id`` and ``mall.all_tenants`` (read by the RLS policies)
match the scope of the code running (``mall.tenancy.scoping``), with one ``set_config`` round
trip when they differ (a persistent connection serving the same tenant again sends nothing).
The settings are session-level, so they hold across transactions; a rollback (which may
undo a ``set_config`` sent inside the transaction) and a new connection mark them unknown, so
the next cursor sends them again. The ``set_config`` goes through the driver's own cursor: it
is not counted as a query and no execute wrapper sees it.
"""

from __future__ import annotations

import select
from typing import Any

from django.db.backends.postgresql import base
from psycopg import pq

from mall.tenancy.scope import TenantScope, current_scope

SET_SCOPE_SQL = (
    "SELECT set_config('mall.tenant_id', %s, false), set_config('mall.all_tenants', %s, false)"
)


class DatabaseWrapper(base.DatabaseWrapper):
    health_check_done: bool
    tenant_scope_sent: TenantScope | None = None

    def apply_tenant_scope(self, scope: TenantScope | None = None) -> None:
        """Send ``scope`` (default: the current one) unless the session already has it."""
        scope = current_scope() if scope is None else scope
        if scope == self.tenant_scope_sent or self.connection is None or self.needs_rollback:
            return
        if self.connection.pgconn.transaction_status == pq.TransactionStatus.INERROR:
            return
        tenant_id = "" if scope.tenant_id is None else str(scope.tenant_id)
        with self.connection.cursor() as cursor:
            cursor.execute(SET_SCOPE_SQL, (tenant_id, "on" if scope.every else "off"))
        self.tenant_scope_sent = scope

    def _cursor(self, name: Any = None) -> Any:
        cursor = super()._cursor(name)  # type: ignore[misc]  # private backend API, not in the stubs
        if current_scope() != self.tenant_scope_sent:
            self.apply_tenant_scope()
        return cursor

    def init_connection_state(self) -> None:
        self.tenant_scope_sent = None
        super().init_connection_state()

    def _rollback(self) -> None:
        self.tenant_scope_sent = None
        super()._rollback()  # type: ignore[misc]  # private backend API, not in the stubs

    def _savepoint_rollback(self, sid: str) -> None:
        self.tenant_scope_sent = None
        super()._savepoint_rollback(sid)  # type: ignore[misc]  # private backend API, not in the stubs

    def close_if_health_check_failed(self) -> None:
        if (
            self.pool
            or self.connection is None
            or not self.health_check_enabled  # type: ignore[attr-defined]  # Django 5.1+, not in the stubs
            or self.health_check_done
        ):
            return
        if not self.socket_is_quiet() and not self.is_usable():
            self.close()
        self.health_check_done = True

    def socket_is_quiet(self) -> bool:
        """Open, idle outside a transaction, and nothing from the server waiting unread."""
        connection = self.connection
        if connection is None or connection.closed:
            return False
        pgconn = connection.pgconn
        if pgconn.status != pq.ConnStatus.OK:
            return False
        if pgconn.transaction_status != pq.TransactionStatus.IDLE:
            return False
        if not hasattr(select, "poll"):  # Windows: Django's SELECT 1 decides
            return False
        poller = select.poll()
        poller.register(pgconn.socket, select.POLLIN | select.POLLPRI)
        return not poller.poll(0)
