"""Channel secrets are write-only; API keys are shown once and revoked from the console."""

from __future__ import annotations

from typing import Any

from django.test import Client

from mall.tenancy.models import ApiKey, Channel, Tenant
from mall.tenancy.selectors import api_key_get_by_raw
from tests.mall.factories import ChannelFactory, UserFactory

SECRET = "wechat-app-secret-0123456789"
PRIVATE_KEY = (
    "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----"
)


def _channel(tenant: Tenant) -> Channel:
    return ChannelFactory(
        tenant=tenant,
        platform="alipay",
        app_id="2021-alpha",
        app_secret=SECRET,
        alipay_app_private_key=PRIVATE_KEY,
    )


def _post_channel(client: Client, url: str, **overrides: Any) -> Any:
    data = {"platform": "alipay", "name": "Alpha", "app_id": "2021-alpha", "is_active": "on"}
    data.update(overrides)
    return client.post(url, data)


def test_channel_secrets_are_never_rendered(shop_a: Tenant, client_a: Client) -> None:
    channel = _channel(shop_a)

    change = client_a.get(f"/console/mall/channel/{channel.pk}/change/").content.decode()
    listing = client_a.get("/console/mall/channel/").content.decode()

    for html in (change, listing):
        assert SECRET not in html
        assert "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" not in html
    assert "wec****789" in change  # the mask, so staff know a secret is set
    assert "Leave blank to keep it" in change


def test_blank_secret_keeps_the_stored_one_and_a_new_value_replaces_it(
    shop_a: Tenant, client_a: Client
) -> None:
    channel = _channel(shop_a)
    url = f"/console/mall/channel/{channel.pk}/change/"

    kept = _post_channel(client_a, url, app_secret="", alipay_app_private_key="")
    channel.refresh_from_db()
    assert kept.status_code == 302
    assert channel.app_secret == SECRET and channel.alipay_app_private_key == PRIVATE_KEY

    replaced = _post_channel(client_a, url, app_secret="rotated-secret-abc")
    channel.refresh_from_db()
    assert replaced.status_code == 302
    assert channel.app_secret == "rotated-secret-abc"
    assert channel.alipay_app_private_key == PRIVATE_KEY


def test_secret_is_not_echoed_back_when_the_form_has_errors(
    shop_a: Tenant, client_a: Client
) -> None:
    channel = _channel(shop_a)

    response = _post_channel(
        client_a,
        f"/console/mall/channel/{channel.pk}/change/",
        platform="not-a-platform",
        app_secret="typed-but-invalid-form-secret",
    )

    assert response.status_code == 200
    assert "typed-but-invalid-form-secret" not in response.content.decode()


def test_platform_admin_channel_page_does_not_render_secrets(shop_a: Tenant) -> None:
    channel = _channel(shop_a)
    client = Client()
    client.force_login(UserFactory(username="root@example.com", is_staff=True, is_superuser=True))

    html = client.get(f"/admin/mall/channel/{channel.pk}/change/").content.decode()

    assert SECRET not in html and "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" not in html


def test_api_key_is_shown_once_and_only_its_hash_is_stored(
    shop_a: Tenant, client_a: Client
) -> None:
    response = client_a.post("/console/mall/apikey/add/", {"name": "ERP", "scopes": ["orders"]})

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    raw = response.context["raw_key"]
    assert raw in response.content.decode()
    key = ApiKey.objects.get(tenant=shop_a, name="ERP")
    assert key.scopes == ["orders"]
    assert key.key_hash == ApiKey.hash_key(raw) and raw not in key.key_hash
    assert api_key_get_by_raw(raw_key=raw) == key
    # Never again: not in the list, not on the key's page.
    assert raw not in client_a.get("/console/mall/apikey/").content.decode()
    assert raw not in client_a.get(f"/console/mall/apikey/{key.pk}/change/").content.decode()
    assert raw not in client_a.get("/console/").content.decode()  # no flash message either


def test_api_key_needs_a_scope(client_a: Client, shop_a: Tenant) -> None:
    response = client_a.post("/console/mall/apikey/add/", {"name": "ERP"})

    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert not ApiKey.objects.filter(tenant=shop_a).exists()


def test_revoking_keys_only_touches_own_keys(
    shop_a: Tenant, shop_b: Tenant, client_a: Client
) -> None:
    own = ApiKey.objects.create(tenant=shop_a, name="a", prefix="a1", key_hash="a" * 64)
    foreign = ApiKey.objects.create(tenant=shop_b, name="b", prefix="b1", key_hash="b" * 64)

    response = client_a.post(
        "/console/mall/apikey/",
        {"action": "revoke_selected", "_selected_action": [own.pk, foreign.pk]},
    )

    assert response.status_code == 302
    own.refresh_from_db()
    foreign.refresh_from_db()
    assert own.is_active is False
    assert foreign.is_active is True
