"""Browser tests: Playwright for Python driving Debian's Chromium (no browser download) against
the console served by pytest-django's live server, clicked through as a merchant would.

Screenshots of each step go to ``BROWSER_ARTIFACTS`` (default ``test-artifacts/browser``).
They skip, saying why, where ``/usr/bin/chromium`` is missing; ``.ci/run`` installs it.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("BROWSER_ARTIFACTS", "test-artifacts/browser"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.browser


def pytest_collection_modifyitems(items: list[Any]) -> None:
    if shutil.which(CHROMIUM) is None:
        skip = pytest.mark.skip(reason=f"needs Chromium at {CHROMIUM} (apt-get install chromium)")
        for item in items:
            if "tests/browser" in str(item.fspath):
                item.add_marker(skip)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module, stopped before the next module runs."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls of the tests
    # themselves are synchronous and safe. Only while the browser runs: a leaked variable
    # would fail ``check --deploy`` in later tests' subprocesses.
    saved = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if saved is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = saved


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser context; JavaScript errors of the page are collected in
    ``page.js_errors`` (the tests assert there are none)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    context.set_default_timeout(15_000)
    new_page = context.new_page()
    errors: list[str] = []
    new_page.on("pageerror", lambda exc: errors.append(str(exc)))
    new_page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    new_page.js_errors = errors  # type: ignore[attr-defined]
    yield new_page
    context.close()


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Callable[[Any, str], Path]:
    """``shot(page, "step name")`` writes a full-page screenshot under the test's folder."""
    folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    folder.mkdir(parents=True, exist_ok=True)
    counter = iter(range(1, 1000))

    def take(page: Any, name: str) -> Path:
        slug = re.sub(r"[^\w.-]+", "_", name)
        path = folder / f"{next(counter):02d}-{slug}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
