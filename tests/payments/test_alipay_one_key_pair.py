"""One Alipay app, one key pair: set up by commands only, used by login and payments alike."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from mall.tenancy.models import Channel
from members.models import Member
from payments.models import GatewayConfig, Payment
from tests.conftest import shopper_client
from tests.members.conftest import AlipayKeys, FakeAlipayGateway
from tests.payments.conftest import (
    ALIPAY_APP_ID,
    FakeAlipay,
    FakeOrders,
    Keys,
    pay,
    private_pem,
    public_pem,
)


@pytest.fixture
def alipay_everything(httpserver: HTTPServer, settings: Any, keys: Keys) -> Any:
    """Alipay's gateway for login (oauth.token) and payments (trade.*), one app key pair."""
    settings.ALIPAY_GATEWAY_URL = httpserver.url_for("/gateway.do")
    settings.PAYMENTS_NOTIFY_BASE_URL = "https://mall.example.com"
    handlers: dict[str, Any] = {}

    def dispatch(request: Request) -> Response:
        if request.args.get("method") == "alipay.system.oauth.token":
            return handlers["login"]._handle(request)
        return handlers["pay"]._handle(request)

    httpserver.expect_request("/gateway.do").respond_with_handler(dispatch)  # first match wins
    handlers["login"] = FakeAlipayGateway(httpserver, AlipayKeys(keys.alipay_app, keys.alipay))
    handlers["pay"] = FakeAlipay(httpserver, keys)
    return handlers


def _key_files(tmp_path: Path, keys: Keys) -> tuple[str, str]:
    private, public = tmp_path / "app_private.pem", tmp_path / "alipay_public.pem"
    private.write_text(private_pem(keys.alipay_app))
    # Alipay's console shows its public key as bare base64: accepted as is.
    body = "".join(line for line in public_pem(keys.alipay).splitlines() if "-----" not in line)
    public.write_text(body)
    return str(private), str(public)


@pytest.mark.parametrize("keys_given_to", ["create_tenant", "configure_payments"])
def test_a_tenant_set_up_by_commands_logs_an_alipay_member_in_and_takes_payment(
    db: Any,
    keys_given_to: str,
    keys: Keys,
    tmp_path: Path,
    alipay_everything: dict[str, Any],
    orders: FakeOrders,
) -> None:
    private_file, public_file = _key_files(tmp_path, keys)
    key_args = ["--alipay-public-key-file", public_file]
    create_args = [
        "--slug",
        "ali-shop",
        "--name",
        "Ali Shop",
        "--owner-email",
        "boss@ali.example",
        "--alipay-app-id",
        ALIPAY_APP_ID,
    ]
    if keys_given_to == "create_tenant":
        create_args += ["--alipay-app-private-key-file", private_file, *key_args]
    call_command("create_tenant", *create_args, stdout=StringIO())
    configure_args = ["--tenant", "ali-shop", "--gateway", "alipay"]  # app id: the channel's
    if keys_given_to == "configure_payments":
        configure_args += ["--app-private-key-file", private_file, *key_args]
    out = StringIO()
    call_command("configure_payments", *configure_args, stdout=out)
    assert f"app id: {ALIPAY_APP_ID}" in out.getvalue()
    assert "PRIVATE KEY" not in out.getvalue()

    # Login with an auth code: alipay.system.oauth.token signed with the app key, answer
    # verified with Alipay's public key -- the keys the commands stored.
    alipay_everything["login"].users["auth-1"] = "2088000000000001"
    shopper = shopper_client(ALIPAY_APP_ID)
    login = shopper.post("/api/v1/auth/alipay/login", {"auth_code": "auth-1"}, format="json")
    assert login.status_code == 201, login.content
    member_id = login.json()["member"]["id"]

    # Payment with the same stored key pair.
    buyer = shopper_client(ALIPAY_APP_ID, login.json()["access"])
    orders.add("NO-ALI-1", "12.30", Member.objects.get(pk=member_id))
    answer = pay(buyer, "NO-ALI-1", "alipay")
    assert answer.status_code == 200, answer.content
    payment = Payment.objects.get(out_trade_no=answer.json()["out_trade_no"])
    assert (payment.amount, payment.status, payment.app_id) == (
        Decimal("12.30"),
        "pending",
        ALIPAY_APP_ID,
    )
    [create] = alipay_everything["pay"].calls("alipay.trade.create")
    assert create["biz"]["buyer_id"] == "2088000000000001"

    # Stored once: on the channel, not on the payment configuration.
    channel = Channel.objects.get(app_id=ALIPAY_APP_ID)
    config = GatewayConfig.objects.get(gateway="alipay")
    assert "BEGIN PRIVATE KEY" in channel.alipay_app_private_key
    assert "BEGIN PUBLIC KEY" in channel.alipay_public_key
    assert config.private_key == "" and config.public_key == ""
