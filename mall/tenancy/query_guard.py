"""Test-time guard: every query on a tenant-owned table names the tenant (``tenant_id``).

Installed for the whole test suite (``tests/conftest.py``) as a database ``execute_wrapper``.
The rule (also in docs/architecture.md, "Tenancy"):

- Only ``SELECT``/``WITH``, ``UPDATE`` and ``DELETE`` are checked; an ``INSERT`` carries
  ``tenant_id`` as a column anyway.
- Every tenant-owned table that a statement reads or writes directly (after ``FROM``, as the
  target of ``UPDATE``/``DELETE``, or joined when the ``FROM`` table is not tenant-owned) must
  have its ``tenant_id`` in a ``WHERE`` of the statement (``"t"."tenant_id"``, an alias's
  ``tenant_id``, or a bare ``tenant_id`` when the statement names one table). Tables joined to a
  tenant-owned ``FROM`` table are reached through that table's rows and need no filter of their
  own.
- Django's relation machinery starts from an object that was itself loaded scoped, so it may
  go by primary or foreign key: loading a foreign key (``line.order``), a reverse manager
  (``order.lines.all()``), ``prefetch_related``, the deletion collector, ``Model.save()``'s
  single-row ``UPDATE ... WHERE id = %s`` and ``refresh_from_db()``, and django-mptt's tree
  maintenance (tree ids are unique platform-wide), and a model form's foreign-key validation
  (``ForeignKey.validate``, after the tenant-scoped form field accepted the value).
- Inside ``all_tenants()`` nothing is checked, and neither are queries that test code sends
  itself (assertions, factories: the innermost project frame is under ``tests/``): the guard
  is about the application's queries.

A failing query raises :class:`UnscopedTenantQuery` and is recorded, so a test fails even when
the code under test catches the exception.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from mall.tenancy.scope import current_scope, reached_through_relation

CHECKED_STATEMENTS = ("SELECT", "WITH", "UPDATE", "DELETE", "(")
RELATION_FRAMES = (
    ("/django/db/models/fields/related_descriptors.py", None),
    ("/django/db/models/deletion.py", None),
    ("/django/db/models/query.py", {"prefetch_related_objects", "prefetch_one_level"}),
    ("/django/db/models/base.py", {"_do_update", "refresh_from_db", "_save_table"}),
    ("/mptt/", None),
    # ForeignKey.validate (a model form's full_clean): the form field's queryset, scoped to
    # the tenant, has already refused a foreign value; this re-checks existence by key.
    ("/django/db/models/fields/related.py", {"validate"}),
)
_KEYWORDS = {
    "WHERE",
    "INNER",
    "LEFT",
    "RIGHT",
    "FULL",
    "CROSS",
    "JOIN",
    "ON",
    "SET",
    "ORDER",
    "GROUP",
    "LIMIT",
    "OFFSET",
    "FOR",
    "HAVING",
    "UNION",
    "USING",
    "AS",
    "RETURNING",
    "WINDOW",
}


class UnscopedTenantQuery(AssertionError):
    pass


def _where_text(sql: str) -> str:
    """The text of every ``WHERE`` (and ``ON``) clause, each up to the end of its parentheses."""
    parts = []
    for match in re.finditer(r"\b(?:WHERE|ON)\b", sql, re.IGNORECASE):
        depth = 0
        end = len(sql)
        for index in range(match.end(), len(sql)):
            char = sql[index]
            if char == "(":
                depth += 1
            elif char == ")":
                depth -= 1
                if depth < 0:
                    end = index
                    break
        parts.append(sql[match.end() : end])
    return " ".join(parts)


def _constrained(where: str, refs: Iterable[str], single_table: bool) -> bool:
    for ref in refs:
        if re.search(rf'(?<![\w"]){re.escape(ref)}\."?tenant_id"?(?!\w)', where):
            return True
    return bool(single_table and re.search(r'(?<![\w".])"?tenant_id"?\s*(?:=|IN\b)', where, re.I))


def _scope_end(sql: str, start: int) -> int:
    """Where the (sub)query that contains ``start`` ends: its closing parenthesis, or the end."""
    depth = 0
    for index in range(start, len(sql)):
        if sql[index] == "(":
            depth += 1
        elif sql[index] == ")":
            depth -= 1
            if depth < 0:
                return index
    return len(sql)


def _from_relation_machinery() -> bool:
    frame: Any = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        for suffix, names in RELATION_FRAMES:
            if suffix in filename and (names is None or frame.f_code.co_name in names):
                return True
        frame = frame.f_back
    return False


_NOT_CALLERS = ("site-packages", "/lib/python", "query_guard", "mall/tenancy/scop", "<frozen")


def _from_test_code() -> bool:
    """The innermost project frame is test code (an assertion or a factory of the test)."""
    frame: Any = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not any(part in filename for part in _NOT_CALLERS):
            return f"{os.sep}tests{os.sep}" in filename
        frame = frame.f_back
    return False


def _caller() -> str:
    """The innermost frames of project code (not the guard, Django or other libraries)."""
    frame: Any = sys._getframe(2)
    found: list[Any] = []
    while frame is not None and len(found) < 3:
        filename = frame.f_code.co_filename
        if not any(part in filename for part in ("site-packages", "query_guard", "/lib/python")):
            found.append(f"{filename}:{frame.f_lineno} {frame.f_code.co_name}")
        frame = frame.f_back
    return " <- ".join(found)


class TenantQueryGuard:
    """``connection.execute_wrapper(TenantQueryGuard(tables))``; ``violations`` lists failures."""

    def __init__(self, tables: Iterable[str], *, raise_errors: bool = True) -> None:
        self.tables = frozenset(tables)
        names = "|".join(sorted((re.escape(t) for t in self.tables), key=len, reverse=True))
        self._table_re = re.compile(rf'(?<![\w."])("?)({names})\1(?![\w."])')
        self._prefix_re = re.compile(r"(\w+)\s*$")
        self._alias_re = re.compile(r'\s+(?:AS\s+)?("?)([A-Za-z_]\w*)\1', re.IGNORECASE)
        self.raise_errors = raise_errors
        self.violations: list[str] = []
        self.active = True

    @contextmanager
    def paused(self) -> Iterator[None]:
        """For tests that send unscoped SQL on purpose (row-level security must stop it)."""
        self.active = False
        try:
            yield
        finally:
            self.active = True

    def problem(self, sql: str) -> str | None:
        """Why ``sql`` is not scoped, or None."""
        head = sql.lstrip()[:8].upper()
        if not head.startswith(CHECKED_STATEMENTS):
            return None
        occurrences = []  # (table, alias, position keyword)
        for match in self._table_re.finditer(sql):
            before = self._prefix_re.search(sql, 0, match.start())
            keyword = before.group(1).upper() if before else ""
            if keyword not in {"FROM", "JOIN", "UPDATE"}:
                if not sql[: match.start()].rstrip().endswith(","):
                    continue
                keyword = "FROM"
            alias = None
            after = self._alias_re.match(sql, match.end())
            if after and after.group(2).upper() not in _KEYWORDS:
                alias = after.group(2)
            occurrences.append((match.group(2), alias, keyword, match.start()))
        if not occurrences:
            return None
        from_owned = any(kw in {"FROM", "UPDATE"} for _t, _a, kw, _p in occurrences)
        where = _where_text(sql)
        failed = [
            o for o in occurrences if not self._scoped(sql, o, occurrences, where, from_owned)
        ]
        for table, _alias, keyword, position in failed:
            # ``UPDATE t ... WHERE t.id IN (SELECT U0.id FROM t U0 WHERE U0.tenant_id = ...)``
            if keyword in {"UPDATE", "FROM"} and any(
                t == table and p > position and (t, a, k, p) not in failed
                for t, a, k, p in occurrences
            ):
                continue
            return table
        return None

    def _scoped(
        self,
        sql: str,
        occurrence: tuple[str, str | None, str, int],
        occurrences: list[tuple[str, str | None, str, int]],
        where: str,
        from_owned: bool,
    ) -> bool:
        table, alias, keyword, position = occurrence
        if keyword == "JOIN" and from_owned:
            return True
        refs = [f'"{table}"', table] + ([alias, f'"{alias}"'] if alias else [])
        if _constrained(where, refs, len(occurrences) == 1):
            return True
        # A subquery: its own WHERE may name tenant_id bare, or correlate with a row of
        # the outer query (``U0."order_id" = ("orders_order"."id")``), reached through it.
        end = _scope_end(sql, position)
        local = _where_text(sql[position:end])
        others = {t for t, _a, _k, p in occurrences if p < position or p >= end}
        inner = [p for _t, _a, _k, p in occurrences if position <= p < end]
        if _constrained(local, refs, len(inner) == 1):
            return True
        return position > 0 and any(f'"{other}".' in local for other in others - {table})

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        if self.active and not current_scope().every and not reached_through_relation():
            table = self.problem(sql)
            if table is not None and not _from_relation_machinery() and not _from_test_code():
                message = (
                    f"query on tenant-owned table {table} without a tenant_id filter"
                    f" (at {_caller()}): {sql}"
                )
                self.violations.append(message)
                if self.raise_errors:
                    raise UnscopedTenantQuery(message)
        return execute(sql, params, many, context)
