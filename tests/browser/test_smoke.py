"""The browser harness itself: Chromium opens the console login page and logs in."""

from __future__ import annotations

from typing import Any

import pytest

from tests.mall.factories import StaffFactory, TenantFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_owner_logs_in_through_the_login_form(live_server: Any, page: Any, shot: Any) -> None:
    tenant = TenantFactory(slug="browser-shop", name="Browser Shop")
    user = UserFactory(username="owner@browser.local", email="owner@browser.local")
    user.set_password("browser-pass-123")
    user.save()
    StaffFactory(tenant=tenant, user=user, role="owner")

    page.goto(f"{live_server.url}/console/")
    shot(page, "login page")
    page.fill("input[name=username]", "owner@browser.local")
    page.fill("input[name=password]", "browser-pass-123")
    page.click("[type=submit]")
    page.wait_for_load_state()
    shot(page, "dashboard")
    assert "Browser Shop" in page.content()
    assert page.js_errors == []
