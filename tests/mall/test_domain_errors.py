"""Domain errors know no HTTP; the one exception handler gives each kind its status."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from mall.api.errors import STATUS_BY_KIND, exception_handler, status_for
from mall.errors import (
    ApplicationError,
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    ServiceUnavailableError,
    UnauthenticatedError,
    UnavailableError,
    UpstreamError,
)

ROOT = Path(__file__).resolve().parents[2]
APPS = ("mall", "members", "catalog", "promotions", "payments", "orders", "distribution")
# Wiring and HTTP entry points outside the API packages that may import them: the URLconf,
# settings (dotted paths), the app config (OpenAPI extensions), the tenant middleware (answers
# API errors itself), the model registry and the purge task of the idempotency records (API
# plumbing's own table).
MAY_IMPORT_API = {
    "mall/urls.py",
    "mall/models.py",
    "mall/tasks.py",
    "mall/tenancy/middleware.py",
}


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (ApplicationError("rule", "Refused."), 422),
        (InvalidInputError("bad", "Bad."), 400),
        (UnauthenticatedError("token_invalid", "Who?"), 401),
        (ForbiddenError("permission_denied", "No."), 403),
        (NotFoundError(), 404),
        (ConflictError("sold_out", "Gone."), 409),
        (UpstreamError("upstream_invalid", "WeChat said nonsense."), 502),
        (UnavailableError("channel_not_configured", "Not configured."), 503),
        (ServiceUnavailableError(), 503),
    ],
)
def test_each_kind_answers_its_status_in_the_error_shape(error: Any, status: int) -> None:
    response = exception_handler(error, {})

    assert response is not None
    assert (response.status_code, status_for(error)) == (status, status)
    assert response.data == {
        "error": {"code": error.code, "message": str(error.message), "details": error.details}
    }


def test_the_table_names_every_kind_once() -> None:
    assert sorted(STATUS_BY_KIND.values()) == [400, 401, 403, 404, 409, 422, 502, 503]


def test_a_subclass_takes_its_nearest_kinds_status() -> None:
    class ImportProblem(InvalidInputError):
        pass

    assert status_for(ImportProblem("import_invalid", "2 problems.")) == 400
    assert status_for(ServiceUnavailableError()) == 503


def test_retry_after_only_when_the_error_knows_it(settings: Any) -> None:
    settings.MALL_RETRY_AFTER_SECONDS = 7
    plain = exception_handler(UnavailableError("mail_failed", "Later."), {})
    timed = exception_handler(UnavailableError("busy", "Later.", retry_after=30), {})
    ours = exception_handler(ServiceUnavailableError(), {})

    assert plain is not None and "Retry-After" not in plain
    assert timed is not None and timed["Retry-After"] == "30"
    assert ours is not None and ours["Retry-After"] == "7"
    assert ours.data["error"]["details"] == {"retry_after_seconds": 7}


def test_not_found_defaults_its_code_and_message() -> None:
    error = NotFoundError(details={"id": 3})

    assert (error.code, str(error.message), error.details) == ("not_found", "Not found.", {"id": 3})


def _imports(tree: ast.AST) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
    return names


def test_the_domain_errors_module_imports_no_http() -> None:
    tree = ast.parse((ROOT / "mall" / "errors.py").read_text())

    http = [
        name
        for name in _imports(tree)
        if name.startswith(("rest_framework", "django.http", "mall.api"))
    ]

    assert http == []


def _domain_modules() -> list[Path]:
    return [
        path
        for app in APPS
        for path in sorted((ROOT / app).rglob("*.py"))
        if "api" not in path.relative_to(ROOT).parts
        and "migrations" not in path.parts
        and "settings" not in path.parts
    ]


def test_no_domain_module_passes_an_http_status() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in _domain_modules()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call) and any(k.arg == "status_code" for k in node.keywords)
    ]

    assert offenders == []


def test_no_domain_module_imports_the_api_layer() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in _domain_modules()
        if str(path.relative_to(ROOT)) not in MAY_IMPORT_API
        # App wiring: an AppConfig fills the API layer's hooks (docs/architecture.md, Layers).
        and path.name != "apps.py"
        for name in _imports(ast.parse(path.read_text()))
        if name.split(".")[1:2] == ["api"] and name.split(".")[0] in APPS
    ]

    assert offenders == []
