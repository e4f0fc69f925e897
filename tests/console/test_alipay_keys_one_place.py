"""The Alipay app's key pair is edited in one place, its channel; payments read it from there."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client

from mall.tenancy.models import Tenant
from payments.gateways.alipay import alipay_app_keys
from payments.models import GatewayConfig
from tests.mall.factories import ChannelFactory

APP_ID = "2021000000000077"


def _pems() -> tuple[str, str, str]:
    app = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pkcs1 = app.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    alipay = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    public = alipay.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    bare = "".join(line for line in public.splitlines() if "-----" not in line)
    return pkcs1, bare, public


def _post(client: Client, channel: Any, **keys: str) -> Any:
    data = {"platform": "alipay", "name": "Alpha", "app_id": APP_ID, "is_active": "on"}
    data.update(keys)
    return client.post(f"/console/mall/channel/{channel.pk}/change/", data)


def test_keys_entered_on_the_channel_are_checked_normalized_and_used_by_payments(
    shop_a: Tenant, client_a: Client
) -> None:
    channel = ChannelFactory(tenant=shop_a, platform="alipay", app_id=APP_ID, app_secret="")
    config = GatewayConfig.objects.create(tenant=shop_a, gateway="alipay", app_id=APP_ID)
    pkcs1, bare, public = _pems()

    refused = _post(client_a, channel, alipay_app_private_key="nonsense", alipay_public_key="x")
    assert refused.status_code == 200
    assert "Not a PEM private key" in refused.content.decode()
    assert "Not a PEM public key" in refused.content.decode()
    channel.refresh_from_db()
    assert channel.alipay_app_private_key == ""

    saved = _post(client_a, channel, alipay_app_private_key=pkcs1, alipay_public_key=bare)
    assert saved.status_code == 302
    channel.refresh_from_db()
    assert channel.alipay_app_private_key.startswith("-----BEGIN PRIVATE KEY-----")
    assert channel.alipay_public_key == public
    assert alipay_app_keys(config) == (channel.alipay_app_private_key, public)

    page = client_a.get(f"/console/payments/gatewayconfig/{config.pk}/change/").content.decode()
    assert f"on the Alipay channel {APP_ID}" in page


def test_the_aes_key_for_phone_numbers_is_checked_and_kept_secret(
    shop_a: Tenant, client_a: Client
) -> None:
    channel = ChannelFactory(tenant=shop_a, platform="alipay", app_id=APP_ID, app_secret="")

    refused = _post(client_a, channel, alipay_aes_key="not-base64!")
    assert refused.status_code == 200
    assert "Not an AES key" in refused.content.decode()

    key = "AAECAwQFBgcICQoLDA0ODw=="  # 16 bytes
    assert _post(client_a, channel, alipay_aes_key=key).status_code == 302
    channel.refresh_from_db()
    assert channel.alipay_aes_key == key
    page = client_a.get(f"/console/mall/channel/{channel.pk}/change/").content.decode()
    assert key not in page  # write-only, like the other secrets
    # Saving the form again without retyping it keeps the key.
    assert _post(client_a, channel).status_code == 302
    channel.refresh_from_db()
    assert channel.alipay_aes_key == key
