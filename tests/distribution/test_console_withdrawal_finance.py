"""The withdrawals page has the finance list tools: date range in the tenant's days, totals
of the filtered rows, XLSX export of the filtered list, constant queries."""

from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from distribution.models import Withdrawal
from mall.tenancy.models import Staff
from tests.distribution.factories import distributor
from tests.mall.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

UTC = ZoneInfo("UTC")
PAGE = "/console/distribution/withdrawal/"


def _withdrawal(tenant: Any, amount: str, fee: str, created: datetime) -> Withdrawal:
    w = Withdrawal.objects.create(
        tenant=tenant,
        distributor=distributor(tenant),
        amount=Decimal(amount),
        fee=Decimal(fee),
        net_amount=Decimal(amount) - Decimal(fee),
    )
    Withdrawal.objects.filter(pk=w.pk).update(created_at=created)
    return w


@pytest.fixture
def finance(tenant: Any) -> Client:
    client = Client()
    user = UserFactory(username="finance-w@x.test")
    client.force_login(StaffFactory(tenant=tenant, role=Staff.Role.FINANCE, user=user).user)
    return client


def test_withdrawals_filtered_by_the_tenants_day_with_totals_and_export(
    tenant: Any, finance: Client
) -> None:
    _withdrawal(tenant, "100.00", "0.60", datetime(2026, 3, 1, 15, 0, tzinfo=UTC))  # 3-1 23:00
    _withdrawal(tenant, "1200.50", "7.20", datetime(2026, 3, 1, 17, 0, tzinfo=UTC))  # 3-2 01:00
    params = {"created_at_from": "2026-03-02", "created_at_to": "2026-03-02"}

    page = finance.get(PAGE, params)

    assert page.status_code == 200
    totals = page.context["finance_totals"]
    assert totals["count"] == 1
    assert totals["sums"] == {
        "amount": Decimal("1200.50"),
        "fee": Decimal("7.20"),
        "net_amount": Decimal("1193.30"),
    }
    assert "¥1,193.30" in page.content.decode()
    sheet = load_workbook(io.BytesIO(finance.get(f"{PAGE}export-xlsx/", params).content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2
    header, row = rows
    assert row[header.index("net amount")] == pytest.approx(1193.3, abs=0)
    assert row[header.index("requested at")] == datetime(2026, 3, 2, 1, 0)


def test_withdrawal_list_queries_do_not_grow_with_rows(tenant: Any, finance: Client) -> None:
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert finance.get(PAGE).status_code == 200
        return len(queries)

    when = datetime(2026, 3, 1, tzinfo=UTC)
    for _ in range(2):
        _withdrawal(tenant, "10.00", "0.00", when)
    count()
    few = count()
    for _ in range(5):
        _withdrawal(tenant, "10.00", "0.00", when)
    assert count() == few
