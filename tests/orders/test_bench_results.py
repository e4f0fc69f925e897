"""bench/RESULTS.md is shared by several benchmarks: each one rewrites only its own section."""

from __future__ import annotations

import os
from typing import Any

import pytest

OTHERS = (
    "<!-- checkout:start -->\n# Checkout benchmark\nold checkout\n<!-- checkout:end -->\n\n"
    "<!-- pricing:start -->\n# Pricing\nkept\n<!-- pricing:end -->\n"
)


@pytest.fixture
def bench(monkeypatch: Any) -> Any:
    # The bench modules set DATABASE_URL/REDIS_URL defaults on import: keep them out of the
    # environment of the rest of the test session.
    monkeypatch.setattr(os, "environ", os.environ.copy())
    import bench.catalog
    import bench.checkout

    return bench


def test_catalog_section_replaces_the_legacy_unmarked_text_and_keeps_the_others(
    bench: Any,
) -> None:
    legacy = "# Catalog API benchmark\n\nold catalog table\n\n" + OTHERS
    section = "<!-- catalog:start -->\n# Catalog API benchmark\nnew\n<!-- catalog:end -->"

    once = bench.catalog.results_merge(legacy, section)
    twice = bench.catalog.results_merge(once, section.replace("new", "newer"))

    assert "old catalog table" not in once
    assert once.startswith(section) and OTHERS.strip() in once
    assert twice == once.replace("\nnew\n", "\nnewer\n")


def test_catalog_section_keeps_unknown_text_and_fills_an_empty_file(bench: Any) -> None:
    section = "<!-- catalog:start -->\nc\n<!-- catalog:end -->"
    assert bench.catalog.results_merge("", section) == section + "\n"
    merged = bench.catalog.results_merge("# Something else\n", section)
    assert merged == section + "\n\n# Something else\n"


def test_checkout_section_is_replaced_in_place(bench: Any) -> None:
    text = "# Catalog\n\n" + OTHERS
    section = "<!-- checkout:start -->\n# Checkout benchmark\nnew\n<!-- checkout:end -->"

    merged = bench.checkout.results_merge(text, section)

    assert merged == text.replace("# Checkout benchmark\nold checkout", "# Checkout benchmark\nnew")
    assert bench.checkout.results_merge("# Catalog\n", section) == "# Catalog\n\n" + section + "\n"
