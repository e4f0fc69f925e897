"""configure_payments as the README shows it: the app id defaults to the tenant's only channel."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from payments.models import GatewayConfig
from tests.mall.factories import ChannelFactory
from tests.payments.conftest import API_V3_KEY, Keys, private_pem, public_pem


def _wechat_args(tenant: Any, keys: Keys, tmp_path: Path) -> list[str]:
    merchant, platform = tmp_path / "apiclient_key.pem", tmp_path / "pub_key.pem"
    merchant.write_text(private_pem(keys.merchant))
    platform.write_text(public_pem(keys.platform))
    # Exactly the README's command: no --app-id.
    return [
        "--tenant",
        tenant.slug,
        "--gateway",
        "wechat",
        "--mch-id",
        "1900000109",
        "--serial-no",
        "ABC123",
        "--private-key-file",
        str(merchant),
        "--api-v3-key",
        API_V3_KEY,
        "--platform-public-key-file",
        str(platform),
        "--platform-serial",
        "PUB_KEY_ID_1",
    ]


def test_wechat_app_id_defaults_to_the_only_wechat_channel(
    tenant: Any, channel: Any, keys: Keys, tmp_path: Path
) -> None:
    ChannelFactory(tenant=tenant, platform="alipay", app_id="2021000000000001")
    out = StringIO()
    call_command("configure_payments", *_wechat_args(tenant, keys, tmp_path), stdout=out)
    config = GatewayConfig.objects.get(tenant=tenant, gateway="wechat")
    assert config.app_id == channel.app_id == "wx-shop-a"
    assert "app id: wx-shop-a" in out.getvalue()


def test_wechat_app_id_is_not_guessed_among_several_channels(
    tenant: Any, channel: Any, keys: Keys, tmp_path: Path
) -> None:
    ChannelFactory(tenant=tenant, platform="wechat", app_id="wx-shop-a-2")
    with pytest.raises(CommandError) as info:
        call_command("configure_payments", *_wechat_args(tenant, keys, tmp_path), stdout=StringIO())
    message = str(info.value)
    assert "--app-id" in message and "wx-shop-a" in message and "wx-shop-a-2" in message
    assert not GatewayConfig.objects.exists()


def test_wechat_app_id_without_any_wechat_channel_is_a_clear_error(
    tenant: Any, keys: Keys, tmp_path: Path
) -> None:
    ChannelFactory(tenant=tenant, platform="alipay", app_id="2021000000000001")
    with pytest.raises(CommandError, match="no WeChat mini program") as info:
        call_command("configure_payments", *_wechat_args(tenant, keys, tmp_path), stdout=StringIO())
    assert "--app-id" in str(info.value)
    assert not GatewayConfig.objects.exists()


def test_an_explicit_or_stored_app_id_wins(
    tenant: Any, channel: Any, keys: Keys, tmp_path: Path
) -> None:
    args = _wechat_args(tenant, keys, tmp_path)
    call_command("configure_payments", *args, "--app-id", "wx-other", stdout=StringIO())
    call_command(
        "configure_payments",
        "--tenant",
        tenant.slug,
        "--gateway",
        "wechat",
        "--mch-id",
        "2",
        stdout=StringIO(),
    )
    config = GatewayConfig.objects.get(tenant=tenant, gateway="wechat")
    assert (config.app_id, config.mch_id) == ("wx-other", "2")
