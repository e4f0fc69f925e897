"""payments 0004: the Alipay keys of payment configurations move to the channel, none lost."""

from __future__ import annotations

import importlib
from typing import Any

from cryptography.hazmat.primitives import serialization
from django.apps import apps

from mall.tenancy.models import Channel
from mall.tenancy.scoping import all_tenants
from payments.gateways.alipay import alipay_app_keys
from payments.models import GatewayConfig
from tests.mall.factories import ChannelFactory
from tests.payments.conftest import ALIPAY_APP_ID, Keys, private_pem, public_pem

migration = importlib.import_module("payments.migrations.0004_alipay_keys_on_channel")


def _old_config(tenant: Any, private: str, public: str) -> GatewayConfig:
    """An Alipay configuration as configure_payments stored it before: keys on the config."""
    return GatewayConfig.objects.create(
        tenant=tenant,
        gateway="alipay",
        app_id=ALIPAY_APP_ID,
        private_key=private,
        public_key=public,
    )


def _pkcs1(keys: Keys) -> str:
    return keys.alipay_app.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


def test_keys_move_to_a_channel_without_keys_and_payments_read_them_there(
    tenant: Any, keys: Keys
) -> None:
    channel = ChannelFactory(tenant=tenant, platform="alipay", app_id=ALIPAY_APP_ID)
    config = _old_config(tenant, private_pem(keys.alipay_app), public_pem(keys.alipay))

    with all_tenants():  # a data migration runs platform-wide (as `migrate` does)
        migration.keys_to_channels(apps, None)

    channel.refresh_from_db()
    config.refresh_from_db()
    assert channel.alipay_app_private_key == private_pem(keys.alipay_app)
    assert channel.alipay_public_key == public_pem(keys.alipay)
    assert (config.private_key, config.public_key) == ("", "")
    assert alipay_app_keys(config) == (private_pem(keys.alipay_app), public_pem(keys.alipay))


def test_without_a_channel_an_inactive_one_keeps_the_keys(tenant: Any, keys: Keys) -> None:
    config = _old_config(tenant, private_pem(keys.alipay_app), public_pem(keys.alipay))

    with all_tenants():  # a data migration runs platform-wide (as `migrate` does)
        migration.keys_to_channels(apps, None)

    channel = Channel.objects.get(app_id=ALIPAY_APP_ID)
    assert (channel.tenant_id, channel.platform, channel.is_active) == (tenant.pk, "alipay", False)
    assert channel.alipay_app_private_key == private_pem(keys.alipay_app)
    config.refresh_from_db()
    assert alipay_app_keys(config)[1] == public_pem(keys.alipay)


def test_the_same_key_in_another_format_is_not_a_conflict(tenant: Any, keys: Keys) -> None:
    channel = ChannelFactory(
        tenant=tenant,
        platform="alipay",
        app_id=ALIPAY_APP_ID,
        alipay_app_private_key=_pkcs1(keys),
        alipay_public_key="".join(
            line for line in public_pem(keys.alipay).splitlines() if "-----" not in line
        ),
    )
    config = _old_config(tenant, private_pem(keys.alipay_app), public_pem(keys.alipay))

    with all_tenants():  # a data migration runs platform-wide (as `migrate` does)
        migration.keys_to_channels(apps, None)

    config.refresh_from_db()
    channel.refresh_from_db()
    assert (config.private_key, config.public_key) == ("", "")
    assert channel.alipay_app_private_key == _pkcs1(keys)


def test_differing_keys_stay_on_both_and_the_channel_wins(
    tenant: Any, keys: Keys, capsys: Any
) -> None:
    ChannelFactory(
        tenant=tenant,
        platform="alipay",
        app_id=ALIPAY_APP_ID,
        alipay_app_private_key=private_pem(keys.stranger),
        alipay_public_key=public_pem(keys.alipay),
    )
    config = _old_config(tenant, private_pem(keys.alipay_app), public_pem(keys.alipay))

    with all_tenants():  # a data migration runs platform-wide (as `migrate` does)
        migration.keys_to_channels(apps, None)

    config.refresh_from_db()
    assert config.private_key == private_pem(keys.alipay_app)  # kept, not lost
    assert config.public_key == ""  # the same as the channel's
    assert alipay_app_keys(config)[0] == private_pem(keys.stranger)
    assert "differs from its channel's" in capsys.readouterr().out


def test_backwards_copies_the_channel_keys_back(tenant: Any, keys: Keys) -> None:
    ChannelFactory(tenant=tenant, platform="alipay", app_id=ALIPAY_APP_ID)
    config = _old_config(tenant, private_pem(keys.alipay_app), public_pem(keys.alipay))
    with all_tenants():  # a data migration runs platform-wide (as `migrate` does)
        migration.keys_to_channels(apps, None)

    with all_tenants():
        migration.keys_to_configs(apps, None)

    config.refresh_from_db()
    assert config.private_key == private_pem(keys.alipay_app)
    assert config.public_key == public_pem(keys.alipay)
