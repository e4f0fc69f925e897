"""The import contracts (pyproject.toml ``[tool.importlinter]``, docs/architecture.md "Layers")
hold on the code, and an upward import breaks them.

Each check runs ``lint-imports`` with the project's own contracts on a copy of the seven app
packages in a temporary directory, so a deliberately added import never touches the tree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ("mall", "members", "catalog", "promotions", "payments", "orders", "distribution")


def _lint_imports() -> str:
    found = Path(sys.executable).parent / "lint-imports"
    return str(found) if found.exists() else (shutil.which("lint-imports") or "lint-imports")


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """The Python modules of the apps and the project's pyproject.toml, nothing else."""
    for app in APPS:
        shutil.copytree(
            ROOT / app,
            tmp_path / app,
            ignore=lambda folder, names: (
                [n for n in names if not n.endswith(".py") and not (Path(folder) / n).is_dir()]
                + [n for n in names if n in ("__pycache__", "templates", "static", "locale")]
            ),
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def run_lint(copy: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(copy), "COLUMNS": "200"}
    return subprocess.run(
        [_lint_imports(), "--no-cache", "--config", str(copy / "pyproject.toml")],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def append(path: Path, code: str) -> None:
    path.write_text(path.read_text() + "\n" + code + "\n")


def test_the_contracts_hold_on_the_code(project_copy: Path) -> None:
    result = run_lint(project_copy)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


def test_an_upward_import_at_module_level_breaks_the_layers(project_copy: Path) -> None:
    append(project_copy / "mall" / "money.py", "import distribution  # noqa")

    result = run_lint(project_copy)

    assert result.returncode == 1
    assert "mall is not allowed to import distribution" in result.stdout
    assert "mall.money -> distribution" in result.stdout


def test_an_upward_import_inside_a_function_breaks_the_layers(project_copy: Path) -> None:
    append(
        project_copy / "catalog" / "selectors.py",
        "def _upward():\n    from promotions.selectors import pricing_snapshot  # noqa\n",
    )

    result = run_lint(project_copy)

    assert result.returncode == 1
    assert "catalog is not allowed to import promotions" in result.stdout


def test_a_service_imported_by_models_or_an_api_imported_by_a_service_breaks_the_rules(
    project_copy: Path,
) -> None:
    append(project_copy / "orders" / "models" / "order.py", "import orders.services  # noqa")
    append(project_copy / "members" / "selectors.py", "import members.api.views  # noqa")

    result = run_lint(project_copy)

    assert result.returncode == 1
    assert "Models import no services BROKEN" in result.stdout
    assert "Domain modules import no API, admin or console module BROKEN" in result.stdout
    assert "members.selectors -> members.api.views" in result.stdout
