"""configure_payments (secrets encrypted, shown masked), the console pages, the dashboard."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from mall.tenancy.models import Staff
from payments.models import GatewayConfig, Payment, Refund
from tests.mall.factories import StaffFactory, TenantFactory, UserFactory
from tests.members.factories import MemberFactory
from tests.payments.conftest import API_V3_KEY, Keys, private_pem, public_pem


def _files(tmp_path: Path, keys: Keys) -> dict[str, Path]:
    files = {
        "merchant": tmp_path / "apiclient_key.pem",
        "platform": tmp_path / "pub_key.pem",
    }
    files["merchant"].write_text(private_pem(keys.merchant))
    files["platform"].write_text(public_pem(keys.platform))
    return files


def test_configure_wechat_stores_secrets_encrypted_and_prints_them_masked(
    tenant: Any, keys: Keys, tmp_path: Path
) -> None:
    files = _files(tmp_path, keys)
    out = StringIO()
    call_command(
        "configure_payments",
        "--tenant",
        tenant.slug,
        "--gateway",
        "wechat",
        "--app-id",
        "wx-shop-a",
        "--mch-id",
        "1900000109",
        "--serial-no",
        "ABC123",
        "--private-key-file",
        str(files["merchant"]),
        "--api-v3-key",
        API_V3_KEY,
        "--platform-public-key-file",
        str(files["platform"]),
        "--platform-serial",
        "PUB_KEY_ID_1",
        stdout=out,
    )
    config = GatewayConfig.objects.get(tenant=tenant, gateway="wechat")
    assert config.api_v3_key == API_V3_KEY and config.public_key_id == "PUB_KEY_ID_1"
    printed = out.getvalue()
    assert API_V3_KEY not in printed and "aaa****BBB" in printed
    assert "PRIVATE KEY" not in printed
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT private_key, api_v3_key FROM payments_gatewayconfig WHERE id = %s",
            [config.pk],
        )
        raw_private, raw_v3 = cursor.fetchone()
    assert "PRIVATE KEY" not in raw_private and API_V3_KEY not in raw_v3

    # Updating one value keeps the others.
    call_command(
        "configure_payments",
        "--tenant",
        tenant.slug,
        "--gateway",
        "wechat",
        "--mch-id",
        "1900000110",
        stdout=StringIO(),
    )
    config.refresh_from_db()
    assert config.mch_id == "1900000110" and config.api_v3_key == API_V3_KEY


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tenant", "nope", "--gateway", "wechat"], "No tenant"),
        (
            ["--tenant", "shop-a", "--gateway", "wechat", "--app-id", "wx", "--mch-id", "1"],
            "Missing",
        ),
        (
            ["--tenant", "shop-a", "--gateway", "wechat", "--app-id", "wx", "--api-v3-key", "x"],
            "32 bytes",
        ),
        (
            ["--tenant", "shop-a", "--gateway", "alipay", "--app-private-key-file", "/nonexistent"],
            "Cannot read",
        ),
    ],
)
def test_configure_refuses_bad_input(tenant: Any, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("configure_payments", *args, stdout=StringIO())
    assert not GatewayConfig.objects.exists()


def test_configure_refuses_a_non_key_file(tenant: Any, tmp_path: Path) -> None:
    bad = tmp_path / "key.pem"
    bad.write_text("not a key")
    with pytest.raises(CommandError, match="PEM"):
        call_command(
            "configure_payments",
            "--tenant",
            tenant.slug,
            "--gateway",
            "alipay",
            "--app-id",
            "2021",
            "--app-private-key-file",
            str(bad),
            stdout=StringIO(),
        )


@pytest.fixture
def records(tenant: Any) -> tuple[Payment, Refund]:
    member = MemberFactory(tenant=tenant)
    payment = Payment.objects.create(
        tenant=tenant,
        purpose="order",
        reference="NO1",
        member=member,
        gateway="wechat",
        out_trade_no="P-console-1",
        amount=Decimal("10.00"),
        refunded_amount=Decimal("4.00"),
        status="succeeded",
        purpose_accepted=True,
        paid_at=timezone.now(),
    )
    refund = Refund.objects.create(
        tenant=tenant,
        payment=payment,
        amount=Decimal("4.00"),
        out_refund_no="R-console-1",
        request_ref="after_sale:1",
        status="failed",
        last_error="unavailable: busy",
    )
    GatewayConfig.objects.create(
        tenant=tenant,
        gateway="wechat",
        app_id="wx-shop-a",
        mch_id="1900000109",
        api_v3_key=API_V3_KEY,
        private_key="-----BEGIN PRIVATE KEY-----secret",
    )
    return payment, refund


def _client(tenant: Any, role: str) -> Client:
    client = Client()
    client.force_login(
        StaffFactory(tenant=tenant, role=role, user=UserFactory(username=f"{role}@x.test")).user
    )
    return client


def test_finance_sees_payments_refunds_and_masked_configs(
    tenant: Any, records: tuple[Payment, Refund]
) -> None:
    client = _client(tenant, Staff.Role.FINANCE)
    payment, _refund = records
    page = client.get("/console/payments/payment/")
    assert page.status_code == 200 and b"P-console-1" in page.content
    assert client.get(f"/console/payments/payment/{payment.pk}/change/").status_code == 200
    refunds = client.get("/console/payments/refund/")
    assert b"R-console-1" in refunds.content and b"unavailable: busy" in refunds.content
    config = GatewayConfig.objects.get(tenant=tenant)
    detail = client.get(f"/console/payments/gatewayconfig/{config.pk}/change/")
    assert detail.status_code == 200
    assert API_V3_KEY.encode() not in detail.content and b"aaa****BBB" in detail.content
    assert b"BEGIN PRIVATE KEY" not in detail.content
    dashboard = client.get("/console/")
    assert b"Paid today" in dashboard.content


@pytest.mark.parametrize("role", [Staff.Role.OPERATOR, Staff.Role.SERVICE])
def test_other_roles_cannot_open_payments(
    tenant: Any, records: tuple[Payment, Refund], role: str
) -> None:
    client = _client(tenant, role)
    assert client.get("/console/payments/payment/").status_code == 403
    assert client.get("/console/payments/refund/").status_code == 403
    assert client.get("/console/payments/gatewayconfig/").status_code == 403


def test_another_tenants_payment_is_404_in_the_console(records: tuple[Payment, Refund]) -> None:
    other = TenantFactory(slug="shop-z")
    client = _client(other, Staff.Role.OWNER)
    payment, refund = records
    assert client.get(f"/console/payments/payment/{payment.pk}/change/").status_code == 404
    assert client.get(f"/console/payments/refund/{refund.pk}/change/").status_code == 404
    assert b"P-console-1" not in client.get("/console/payments/payment/").content


def test_retry_action_resubmits_a_failed_refund(
    tenant: Any, records: tuple[Payment, Refund], monkeypatch: pytest.MonkeyPatch
) -> None:
    _payment, refund = records
    submitted: list[int] = []

    def fake_submit(*, refund_id: int) -> Refund:
        submitted.append(refund_id)
        Refund.objects.filter(pk=refund_id).update(status="processing")
        return Refund.objects.get(pk=refund_id)

    monkeypatch.setattr("payments.refunds.services.refund_submit", fake_submit)
    client = _client(tenant, Staff.Role.FINANCE)
    response = client.post(
        "/console/payments/refund/",
        {"action": "retry_failed", "_selected_action": [refund.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert submitted == [refund.pk]
    refund.refresh_from_db()
    assert refund.status == "processing"
