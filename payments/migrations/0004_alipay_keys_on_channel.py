"""Alipay keys move from the payment configuration to the Alipay channel of the same app id.

One Alipay app has one key pair (the app's private key, Alipay's public key); the login read it
from the channel while payments read a second copy from ``GatewayConfig``. From now on the
channel holds it and payments read it from there (``payments/gateways/alipay.py``).

For each Alipay configuration with keys:
- the tenant's Alipay channel of that app id gets every key it does not have yet (no such
  channel: one is created, inactive, so the keys are kept and the operator can enable it);
- a configuration key equal to the channel's (same RSA key, whatever the PEM flavour) is then
  cleared from the configuration;
- a key that differs from the channel's is left on the configuration untouched (the channel's
  wins, the login was using it) and reported, so nothing configured is lost.
Backwards: the channel's keys are copied back onto the configuration where it has none.
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives import serialization
from django.db import migrations


def _same_private(a: str, b: str) -> bool:
    try:
        ka = serialization.load_pem_private_key(a.strip().encode(), password=None)
        kb = serialization.load_pem_private_key(b.strip().encode(), password=None)
    except (ValueError, TypeError):
        return a.strip() == b.strip()
    return ka.private_numbers() == kb.private_numbers()  # type: ignore[union-attr]


def _public(text: str) -> Any:
    text = text.strip()
    if "CERTIFICATE" in text:
        from cryptography.x509 import load_pem_x509_certificate

        return load_pem_x509_certificate(text.encode()).public_key()
    if "BEGIN" not in text:
        text = f"-----BEGIN PUBLIC KEY-----\n{text}\n-----END PUBLIC KEY-----"
    return serialization.load_pem_public_key(text.encode())


def _same_public(a: str, b: str) -> bool:
    try:
        return _public(a).public_numbers() == _public(b).public_numbers()
    except (ValueError, TypeError):
        return a.strip() == b.strip()


def keys_to_channels(apps: Any, schema_editor: Any) -> None:
    GatewayConfig = apps.get_model("payments", "GatewayConfig")
    Channel = apps.get_model("mall", "Channel")
    pairs = (
        ("private_key", "alipay_app_private_key", _same_private),
        ("public_key", "alipay_public_key", _same_public),
    )
    for config in GatewayConfig.objects.filter(gateway="alipay").order_by("id"):
        if not (config.private_key or config.public_key) or not config.app_id:
            continue
        channel = Channel.objects.filter(
            tenant_id=config.tenant_id, platform="alipay", app_id=config.app_id
        ).first()
        if channel is None:
            if Channel.objects.filter(app_id=config.app_id).exists():  # another tenant's app
                print(
                    f"\n  payments 0004: Alipay app id {config.app_id!r} of tenant "
                    f"{config.tenant_id} belongs to another tenant's channel; its keys stay "
                    "on the payment configuration (unused): fix the app id."
                )
                continue
            channel = Channel.objects.create(
                tenant_id=config.tenant_id,
                platform="alipay",
                app_id=config.app_id,
                name="Alipay mini program (keys moved from payments)",
                is_active=False,
            )
        for config_field, channel_field, same in pairs:
            value = getattr(config, config_field)
            if not value:
                continue
            if not getattr(channel, channel_field):
                setattr(channel, channel_field, value)
            if same(value, getattr(channel, channel_field)):
                setattr(config, config_field, "")
            else:
                print(
                    f"\n  payments 0004: the Alipay {config_field} of tenant {config.tenant_id} "
                    f"(app {config.app_id}) differs from its channel's; the channel's is used, "
                    "the payment configuration's is kept (unused) for comparison."
                )
        channel.save()
        config.save()


def keys_to_configs(apps: Any, schema_editor: Any) -> None:
    GatewayConfig = apps.get_model("payments", "GatewayConfig")
    Channel = apps.get_model("mall", "Channel")
    for config in GatewayConfig.objects.filter(gateway="alipay").order_by("id"):
        channel = Channel.objects.filter(
            tenant_id=config.tenant_id, platform="alipay", app_id=config.app_id
        ).first()
        if channel is None:
            continue
        config.private_key = config.private_key or channel.alipay_app_private_key
        config.public_key = config.public_key or channel.alipay_public_key
        config.save()


class Migration(migrations.Migration):
    dependencies = [
        ("mall", "0002_outboxevent"),
        ("payments", "0003_profit_sharing_settlement"),
    ]

    operations = [migrations.RunPython(keys_to_channels, keys_to_configs)]
