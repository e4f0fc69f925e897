"""A database that does not answer is a 503 with Retry-After (the API in the error shape, the
console a plain page), never a 500, wherever the first query of the request happens."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.db import InterfaceError, OperationalError
from django.db.backends.utils import CursorWrapper
from django.test import Client, override_settings
from rest_framework.test import APIClient

from mall.tenancy.services import api_key_create
from tests.conftest import shopper_client
from tests.mall.factories import StaffFactory
from tests.mall.test_api_plumbing import assert_error
from tests.members.factories import MemberFactory, access_token_for


def _failing(error: Exception) -> Any:
    def execute(*args: Any, **kwargs: Any) -> Any:
        raise error

    return execute


@pytest.fixture(params=["operational", "interface"])
def database_down(request: Any, db: Any) -> Any:
    """``database_down()``: from then on every statement fails as with a database that went
    away (undone before the test database's own teardown)."""
    error = (
        OperationalError("connection to server at 127.0.0.1, port 5432 failed: refused")
        if request.param == "operational"
        else InterfaceError("connection already closed")
    )
    patcher = mock.patch.object(CursorWrapper, "_execute_with_wrappers", _failing(error))
    yield patcher.start
    patcher.stop()


def assert_unavailable(response: Any) -> None:
    error = assert_error(response, 503, "service_unavailable")
    assert int(response["Retry-After"]) > 0
    assert error["details"]["retry_after_seconds"] == int(response["Retry-After"])


def test_shopper_api_views_answer_503(channel: Any, database_down: Any) -> None:
    member = MemberFactory(tenant=channel.tenant)
    api = shopper_client(channel.app_id, access_token_for(member))
    assert api.get("/api/v1/categories").status_code == 200  # channel now cached in process
    database_down()

    assert_unavailable(api.get("/api/v1/categories"))
    assert_unavailable(api.get("/api/v1/products"))
    assert_unavailable(api.get("/api/v1/me"))
    assert_unavailable(api.post("/api/v1/orders", {"lines": []}, format="json"))


@pytest.mark.parametrize("debug", [False, True])
def test_a_failure_before_any_view_answers_503(
    tenant: Any, database_down: Any, debug: bool
) -> None:
    """The open API resolves its key in middleware, before DRF: still 503, also with DEBUG."""
    _key, raw = api_key_create(tenant=tenant, scopes=["catalog"])
    database_down()
    client = APIClient(raise_request_exception=False)
    with override_settings(DEBUG=debug):
        response = client.get("/api/merchant/v1/products", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert_unavailable(response)


def test_console_answers_a_plain_503_page(tenant: Any, database_down: Any) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(StaffFactory(tenant=tenant).user)
    database_down()
    response = client.get("/console/")
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert int(response["Retry-After"]) > 0
    assert b"temporarily unavailable" in response.content
