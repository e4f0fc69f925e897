"""Console login: failures are counted per account and per client IP; a lock refuses logins."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import time_machine
from django.test import Client, override_settings

from mall.tenancy.models import Staff
from tests.console.conftest import PASSWORD

LOCKED_TEXT = "Too many failed sign-in attempts"


def _login(client: Client, username: str, password: str, ip: str = "10.0.0.1") -> Any:
    return client.post(
        "/console/login/", {"username": username, "password": password}, REMOTE_ADDR=ip
    )


@override_settings(CONSOLE_LOGIN_ACCOUNT_FAILURES=5, CONSOLE_LOGIN_IP_FAILURES=100)
def test_an_account_is_locked_after_five_failures_even_for_the_right_password(
    owner_a: Staff, caplog: pytest.LogCaptureFixture
) -> None:
    client = Client()
    username = owner_a.user.username

    with caplog.at_level(logging.WARNING, logger="mall.console.login_guard"):
        for attempt in range(4):
            response = _login(client, username, f"wrong-{attempt}", ip=f"10.0.0.{attempt + 1}")
            assert response.status_code == 200
            assert "Please enter a correct" in response.content.decode()
        fifth = _login(client, username, "wrong-5", ip="10.0.0.9")
        right = _login(client, username, PASSWORD, ip="10.9.9.9")  # another IP: still locked

    assert LOCKED_TEXT in fifth.content.decode()
    assert right.status_code == 200
    assert LOCKED_TEXT in right.content.decode()
    assert client.get("/console/").status_code == 302  # not logged in
    assert any("locked" in r.getMessage() for r in caplog.records if r.levelname == "WARNING")


@override_settings(CONSOLE_LOGIN_ACCOUNT_FAILURES=5, CONSOLE_LOGIN_LOCKOUT_SECONDS=900)
def test_the_account_lock_ends_after_the_lockout_period(owner_a: Staff) -> None:
    client = Client()
    with time_machine.travel("2026-03-01 10:00:00+08:00", tick=False) as traveller:
        for attempt in range(5):
            _login(client, owner_a.user.username, f"wrong-{attempt}")
        assert LOCKED_TEXT in _login(client, owner_a.user.username, PASSWORD).content.decode()
        traveller.shift(901)
        response = _login(client, owner_a.user.username, PASSWORD)

    assert response.status_code == 302


@override_settings(CONSOLE_LOGIN_ACCOUNT_FAILURES=5)
def test_the_same_message_for_an_account_that_does_not_exist(db: Any) -> None:
    client = Client()
    for attempt in range(5):
        _login(client, "nobody@example.com", f"wrong-{attempt}")

    response = _login(client, "nobody@example.com", "whatever")

    assert response.status_code == 200
    assert LOCKED_TEXT in response.content.decode()


@override_settings(CONSOLE_LOGIN_ACCOUNT_FAILURES=5)
def test_a_successful_login_clears_the_accounts_counter(owner_a: Staff) -> None:
    username = owner_a.user.username
    for attempt in range(4):
        _login(Client(), username, f"wrong-{attempt}")
    assert _login(Client(), username, PASSWORD).status_code == 302

    for attempt in range(4):
        _login(Client(), username, f"again-wrong-{attempt}")
    response = _login(Client(), username, PASSWORD)

    assert response.status_code == 302  # 4 + 4 failures, but the success in between reset


@override_settings(CONSOLE_LOGIN_ACCOUNT_FAILURES=5, CONSOLE_LOGIN_IP_FAILURES=20)
def test_an_ip_is_locked_after_twenty_failures_across_accounts(owner_a: Staff) -> None:
    client = Client()
    for attempt in range(20):
        response = _login(client, f"guess-{attempt}@example.com", "wrong", ip="203.0.113.7")
    assert LOCKED_TEXT in response.content.decode()

    from_that_ip = _login(client, owner_a.user.username, PASSWORD, ip="203.0.113.7")
    from_elsewhere = _login(Client(), owner_a.user.username, PASSWORD, ip="198.51.100.1")

    assert from_that_ip.status_code == 200 and LOCKED_TEXT in from_that_ip.content.decode()
    assert from_elsewhere.status_code == 302


def test_usernames_are_counted_case_insensitively(owner_a: Staff) -> None:
    username = owner_a.user.username
    for attempt in range(5):
        variant = username.upper() if attempt % 2 else username
        _login(Client(), variant, "wrong", ip=f"10.1.0.{attempt}")

    assert LOCKED_TEXT in _login(Client(), username, PASSWORD, ip="10.2.0.1").content.decode()


def test_the_platform_admin_login_is_guarded_too(db: Any) -> None:
    from tests.mall.factories import UserFactory

    root = UserFactory(username="root@example.com", is_staff=True, is_superuser=True)
    client = Client()
    for attempt in range(5):
        client.post("/admin/login/", {"username": root.username, "password": f"wrong-{attempt}"})

    response = client.post("/admin/login/", {"username": root.username, "password": PASSWORD})

    assert response.status_code == 200
    assert LOCKED_TEXT in response.content.decode()
