"""The PostgreSQL health check (mall.db.postgresql): no round trip on a quiet connection, and
a connection the server closed is replaced before the request's first query."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.db import close_old_connections, connection, connections

from tests.conftest import shopper_client
from tests.members.factories import MemberFactory, access_token_for


@pytest.fixture
def postgresql() -> Iterator[None]:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL): checks a real server connection")
    yield


def _new_request_cycle() -> None:
    """What Django does between two requests with CONN_HEALTH_CHECKS: check again."""
    connection.health_check_done = False


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _terminate(pid: int) -> None:
    params = connection.get_connection_params()
    with psycopg.connect(
        dbname=connection.settings_dict["NAME"],
        user=params.get("user"),
        host=params.get("host"),
        port=params.get("port"),
        autocommit=True,
    ) as other:
        # Wait until the backend is gone: the server ends it asynchronously.
        other.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])


@pytest.mark.django_db(transaction=True)
def test_a_quiet_connection_is_reused_without_a_round_trip(
    postgresql: None, monkeypatch: Any
) -> None:
    assert settings.DATABASES["default"]["ENGINE"] == "mall.db.postgresql"
    pid = _backend_pid()
    monkeypatch.setattr(
        type(connections["default"]), "is_usable", lambda self: pytest.fail("SELECT 1 was sent")
    )
    _new_request_cycle()
    connection.close_if_health_check_failed()
    assert connection.health_check_done
    assert _backend_pid() == pid


@pytest.mark.django_db(transaction=True)
def test_a_connection_the_server_closed_is_replaced(postgresql: None) -> None:
    pid = _backend_pid()
    _terminate(pid)
    _new_request_cycle()

    assert connection.socket_is_quiet() is False
    connection.close_if_health_check_failed()

    assert _backend_pid() != pid  # reconnected before the query, which succeeded


@pytest.mark.django_db(transaction=True)
def test_requests_go_on_after_the_server_ends_the_connection(
    postgresql: None, tenant: Any, channel: Any
) -> None:
    member = MemberFactory(tenant=tenant)
    client = shopper_client(channel.app_id, access_token_for(member))
    assert client.get("/api/v1/me").status_code == 200
    _terminate(_backend_pid())
    # What the WSGI handler does when a request starts (the test client leaves it out).
    close_old_connections()

    response = client.get("/api/v1/me")

    assert response.status_code == 200
    assert response.json()["id"] == member.pk
