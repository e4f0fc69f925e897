"""Every row lock is findable in an app's ``lock_objects.py``: an ORM ``select_for_update`` is
written there and nowhere else, a raw ``FOR UPDATE`` lives in the app's ``sql.py`` (and is
named in its ``lock_objects.py``)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction

ROOT = Path(settings.BASE_DIR)
SKIPPED_DIRS = {".venv", "tests", "migrations", "node_modules", ".git", "__pycache__"}
ALLOWED_FILES = {"lock_objects.py", "sql.py"}
# ``FOR UPDATE`` as SQL: not quoted as code in prose (`FOR UPDATE SKIP LOCKED` in a help text).
RAW_LOCK = re.compile(r"(?<!`)\bFOR\s+UPDATE\b")


def _code_files() -> list[Path]:
    return sorted(
        path
        for path in ROOT.rglob("*.py")
        if not SKIPPED_DIRS.intersection(path.relative_to(ROOT).parts)
    )


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _row_locks(source: str) -> list[tuple[int, str]]:
    """(line, what) of each ``select_for_update`` call and SQL ``FOR UPDATE`` in ``source``
    (docstrings and comments are prose, not locks)."""
    tree = ast.parse(source)
    docstrings = _docstrings(tree)
    locks = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "select_for_update"
        ):
            locks.append((node.lineno, "select_for_update()"))
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
            and RAW_LOCK.search(node.value)
        ):
            locks.append((node.lineno, "FOR UPDATE"))
    return sorted(locks)


def test_the_scan_finds_both_kinds_of_lock_and_skips_prose() -> None:
    source = (
        '"""Locks rows with SELECT ... FOR UPDATE."""\n'
        "# FOR UPDATE in a comment\n"
        "rows = Sku.objects.select_for_update().filter(pk=1)\n"
        'sql = "SELECT id FROM t ORDER BY id FOR UPDATE"\n'
        'help = "picks rows `FOR UPDATE SKIP LOCKED`"\n'
    )

    assert _row_locks(source) == [(3, "select_for_update()"), (4, "FOR UPDATE")]


def test_every_row_lock_is_in_lock_objects_or_sql() -> None:
    files = _code_files()
    assert any(p.name == "lock_objects.py" for p in files)  # the scan sees app code

    outside = [
        f"{path.relative_to(ROOT)}:{line}: {what}"
        for path in files
        if path.name not in ALLOWED_FILES
        for line, what in _row_locks(path.read_text(encoding="utf-8"))
    ]

    assert outside == []


def test_every_app_with_raw_sql_locks_names_them_in_its_lock_objects() -> None:
    for path in _code_files():
        if path.name == "sql.py" and _row_locks(path.read_text(encoding="utf-8")):
            lock_objects = path.with_name("lock_objects.py")
            assert lock_objects.exists(), path
            text = lock_objects.read_text(encoding="utf-8")
            assert f"{path.parent.name}.sql" in text, f"{lock_objects} does not name {path}"


@pytest.mark.django_db
def test_the_bench_lock_of_a_commission_reads_across_tenants() -> None:
    from distribution import lock_objects
    from distribution.models import Commission

    with transaction.atomic(), pytest.raises(Commission.DoesNotExist):
        lock_objects.commission_for_update_any_tenant(pk=0)
