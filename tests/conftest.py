"""Shared fixtures: tenants with channels, API clients that carry X-App-Id and tokens."""

from __future__ import annotations

import os
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from mall.tenancy.selectors import channel_cache_clear
from mall.versions import versions_local_clear
from tests.mall.factories import ChannelFactory, StaffFactory, TenantFactory


@pytest.fixture(autouse=True, scope="session")
def _compiled_translations() -> None:
    """The .mo files are not committed: compile them once per session."""
    from django.utils import translation

    from mall.console.catalogue import compile_catalogues

    compile_catalogues()
    translation.trans_real._translations = {}  # reload the freshly compiled catalogues
    translation.trans_real._default = None


@pytest.fixture(autouse=True)
def _travel_if_asked() -> Any:
    """``MALL_TEST_TRAVEL=2026-03-01T00:30:00+08:00 pytest ...`` runs every test with the clock
    moved there (time-machine, ticking): the way to find tests that depend on the time of day
    (e.g. "tomorrow minus an hour" crossing midnight between 00:00 and 01:00 Beijing time)."""
    when = os.environ.get("MALL_TEST_TRAVEL", "")
    if not when:
        yield
        return
    import time_machine

    with time_machine.travel(when, tick=True):
        yield


@pytest.fixture(autouse=True)
def _tenant_query_guard(request: Any) -> Any:
    """Every query on a tenant-owned table names its tenant, or runs inside ``all_tenants()``
    (``mall.tenancy.query_guard``: the rule and what Django's relation machinery may do).
    ``MALL_QUERY_GUARD=report:<file>`` appends the failures to a file instead of failing."""
    from django.db import connection

    from mall.tenancy.query_guard import TenantQueryGuard
    from mall.tenancy.scoping import tenant_owned_tables

    mode = os.environ.get("MALL_QUERY_GUARD", "")
    guard = TenantQueryGuard(tenant_owned_tables(), raise_errors=not mode.startswith("report:"))
    with connection.execute_wrapper(guard):
        yield guard
    if guard.violations:
        if mode.startswith("report:"):
            with open(mode.removeprefix("report:"), "a") as report:
                for violation in guard.violations:
                    report.write(f"{request.node.nodeid}\t{violation}\n")
        else:
            pytest.fail("unscoped queries on tenant-owned tables:\n" + "\n".join(guard.violations))


@pytest.fixture(autouse=True)
def _clear_cache() -> Any:
    cache.clear()
    channel_cache_clear()
    versions_local_clear()
    yield
    cache.clear()
    channel_cache_clear()
    versions_local_clear()


@pytest.fixture
def tenant(db: Any) -> Any:
    return TenantFactory(slug="shop-a", name="Shop A")


@pytest.fixture
def other_tenant(db: Any) -> Any:
    return TenantFactory(slug="shop-b", name="Shop B")


@pytest.fixture
def channel(tenant: Any) -> Any:
    return ChannelFactory(tenant=tenant, app_id="wx-shop-a")


@pytest.fixture
def other_channel(other_tenant: Any) -> Any:
    return ChannelFactory(tenant=other_tenant, app_id="wx-shop-b")


@pytest.fixture
def owner(tenant: Any) -> Any:
    return StaffFactory(tenant=tenant)


def shopper_client(app_id: str, token: str | None = None) -> APIClient:
    """An API client that sends X-App-Id (and a member token) on every call."""
    client = APIClient()
    headers = {"HTTP_X_APP_ID": app_id}
    if token:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    client.credentials(**headers)
    return client


@pytest.fixture
def api(channel: Any) -> APIClient:
    return shopper_client(channel.app_id)


@pytest.fixture(autouse=True)
def _one_heavy_test_at_a_time(request: Any) -> Any:
    """Under pytest-xdist, the tests marked ``postgres`` (up to 100 threads, each with its own
    connection) and ``browser`` (a live server beside Chromium) take a lock shared by the
    workers of the run, so two never run at once and stay under PostgreSQL's ``max_connections``
    (100 by default). The ``xdist_group`` marks below would do it under ``--dist loadgroup``,
    but pytest 9 ignores the group suffix xdist 3.8 writes into node ids; this lock does not
    depend on the scheduler."""
    node = request.node
    heavy = node.get_closest_marker("postgres") or node.get_closest_marker("browser")
    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if heavy is None or not run_id:
        yield
        return
    import fcntl
    import tempfile

    path = os.path.join(tempfile.gettempdir(), f"mall-tests-heavy-{run_id}.lock")
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def pytest_itemcollected(item: pytest.Item) -> None:
    """Under pytest-xdist with ``--dist loadgroup`` (as ``.ci/run`` runs the PostgreSQL suite),
    the tests marked ``postgres`` run on one worker, one after another: each opens up to 100
    connections, and two at once on different workers would exceed ``max_connections``. The
    browser tests also keep to one worker (one Chromium at a time, as in a serial run)."""
    # At collection, before xdist reads the groups (in pytest_collection_modifyitems).
    if item.get_closest_marker("postgres") is not None:
        item.add_marker(pytest.mark.xdist_group("postgres"))
    elif item.get_closest_marker("browser") is not None:
        item.add_marker(pytest.mark.xdist_group("browser"))
