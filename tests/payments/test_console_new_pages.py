"""Console pages of payouts, WeChat shipping uploads (pending / failed, retry) and
reconciliation runs with their mismatches: roles and tenant scoping."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from mall.tenancy.models import Staff
from payments.models import (
    Payment,
    Payout,
    ReconciliationMismatch,
    ReconciliationRun,
    ShippingUpload,
)
from tests.mall.factories import StaffFactory, TenantFactory, UserFactory
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows(tenant: Any) -> dict[str, Any]:
    member = MemberFactory(tenant=tenant)
    payment = Payment.objects.create(
        tenant=tenant,
        purpose="order",
        reference="NO-SHIP-1",
        gateway="sandbox",
        out_trade_no="P-ship-1",
        amount=Decimal("10.00"),
        status="succeeded",
        purpose_accepted=True,
        paid_at=timezone.now(),
    )
    upload = ShippingUpload.objects.create(
        tenant=tenant,
        payment=payment,
        purpose="order",
        reference="NO-SHIP-1",
        logistics_type=4,
        packages=[{"key": "pickup", "item_desc": "Order"}],
        status="failed",
        attempts=12,
        last_error="WeChat errcode 10060001: payment not found",
    )
    payout = Payout.objects.create(
        tenant=tenant,
        purpose="withdrawal",
        reference="withdrawal:1",
        member=member,
        gateway="wechat",
        amount=Decimal("9.90"),
        out_bill_no="T-console-1",
        status="waiting_confirmation",
    )
    run = ReconciliationRun.objects.create(
        tenant=tenant,
        gateway="wechat",
        bill_date=date(2026, 11, 25),
        status="mismatched",
        bill_rows=3,
        our_rows=3,
        mismatch_count=1,
        ran_at=timezone.now(),
    )
    ReconciliationMismatch.objects.create(
        tenant=tenant,
        run=run,
        kind="missing_ours",
        entry="payment",
        out_trade_no="P-only-theirs",
        theirs=Decimal("15.00"),
    )
    return {"upload": upload, "payout": payout, "run": run}


def _client(tenant: Any, role: str) -> Client:
    client = Client()
    user = UserFactory(username=f"{role}-{tenant.slug}@x.test")
    client.force_login(StaffFactory(tenant=tenant, role=role, user=user).user)
    return client


def test_finance_sees_payouts_uploads_and_reconciliation(tenant: Any, rows: dict) -> None:
    client = _client(tenant, Staff.Role.FINANCE)
    assert b"T-console-1" in client.get("/console/payments/payout/").content
    page = client.get("/console/payments/shippingupload/?status__exact=failed")
    assert page.status_code == 200 and b"10060001" in page.content
    runs = client.get("/console/payments/reconciliationrun/")
    assert runs.status_code == 200 and b"mismatched" in runs.content.lower()
    detail = client.get(f"/console/payments/reconciliationrun/{rows['run'].pk}/change/")
    assert detail.status_code == 200 and b"P-only-theirs" in detail.content
    assert client.get(f"/console/payments/payout/{rows['payout'].pk}/change/").status_code == 200


def test_operator_retries_a_failed_upload_but_cannot_see_money(tenant: Any, rows: dict) -> None:
    client = _client(tenant, Staff.Role.OPERATOR)
    assert client.get("/console/payments/payout/").status_code == 403
    assert client.get("/console/payments/reconciliationrun/").status_code == 403
    response = client.post(
        "/console/payments/shippingupload/",
        {"action": "retry_now", "_selected_action": [rows["upload"].pk]},
        follow=True,
    )
    assert response.status_code == 200
    rows["upload"].refresh_from_db()
    assert rows["upload"].status == "accepted"  # a sandbox payment: accepted locally


def test_service_role_sees_none_of_them(tenant: Any, rows: dict) -> None:
    client = _client(tenant, Staff.Role.SERVICE)
    for page in ("payout", "shippingupload", "reconciliationrun"):
        assert client.get(f"/console/payments/{page}/").status_code == 403


def test_another_tenant_gets_404(rows: dict) -> None:
    client = _client(TenantFactory(slug="shop-z"), Staff.Role.OWNER)
    assert client.get(f"/console/payments/payout/{rows['payout'].pk}/change/").status_code == 404
    path = f"/console/payments/shippingupload/{rows['upload'].pk}/change/"
    assert client.get(path).status_code == 404
    path = f"/console/payments/reconciliationrun/{rows['run'].pk}/change/"
    assert client.get(path).status_code == 404
    assert b"T-console-1" not in client.get("/console/payments/payout/").content
