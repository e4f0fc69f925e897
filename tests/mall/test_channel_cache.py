"""The app id -> channel lookup is cached per process and dropped when tenancy data changes."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from mall.tenancy.models import Channel, Tenant
from mall.tenancy.selectors import channel_get_by_app_id
from mall.tenancy.services import tenant_set_status
from tests.conftest import shopper_client


def test_second_lookup_issues_no_query(channel: Any) -> None:
    assert channel_get_by_app_id(app_id=channel.app_id).pk == channel.pk
    with CaptureQueriesContext(connection) as ctx:
        assert channel_get_by_app_id(app_id=channel.app_id).pk == channel.pk
    assert ctx.captured_queries == []


def test_suspending_the_tenant_takes_effect_at_once(channel: Any, tenant: Any) -> None:
    api = shopper_client(channel.app_id)
    assert api.get("/api/v1/categories").status_code == 200

    tenant_set_status(tenant=tenant, status=Tenant.Status.SUSPENDED)

    response = api.get("/api/v1/categories")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "tenant_suspended"


def test_deactivating_a_channel_takes_effect_at_once(channel: Any) -> None:
    api = shopper_client(channel.app_id)
    assert api.get("/api/v1/categories").status_code == 200

    channel.is_active = False
    channel.save()

    assert api.get("/api/v1/categories").json()["error"]["code"] == "unknown_app_id"


def test_cache_can_be_disabled(channel: Any, settings: Any) -> None:
    settings.MALL_CHANNEL_CACHE_SECONDS = 0
    channel_get_by_app_id(app_id=channel.app_id)
    Channel.objects.filter(pk=channel.pk).update(is_active=False)  # no signal
    assert channel_get_by_app_id(app_id=channel.app_id) is None
