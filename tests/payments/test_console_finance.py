"""Console finance pages: from/to date filters in the tenant's time zone, totals of the
filtered rows, XLSX export of the filtered list, roles, query counts, and profit sharing
receivers added and removed through the console against the fake WeChat Pay."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from mall.tenancy.models import Staff
from payments.models import (
    OrderSettlement,
    Payment,
    Payout,
    ProfitSharingOrder,
    ProfitSharingReceiver,
    ReconciliationRun,
    Refund,
)
from payments.profit_sharing.services import profit_sharing_receiver_add
from tests.mall.factories import StaffFactory, TenantFactory, UserFactory
from tests.members.factories import MemberFactory
from tests.payments.conftest import FakeWeChatPay

pytestmark = pytest.mark.django_db

UTC = ZoneInfo("UTC")
PAYMENTS = "/console/payments/payment/"
RECEIVERS = "/console/payments/profitsharingreceiver/"


def _client(tenant: Any, role: str) -> Client:
    client = Client()
    user = UserFactory(username=f"{role}-{tenant.slug}@x.test")
    client.force_login(StaffFactory(tenant=tenant, role=role, user=user).user)
    return client


def _payment(tenant: Any, no: str, amount: str, paid_at: datetime, **extra: Any) -> Payment:
    payment = Payment.objects.create(
        tenant=tenant,
        purpose="order",
        reference=f"R-{no}",
        gateway="wechat",
        out_trade_no=no,
        amount=Decimal(amount),
        status="succeeded",
        purpose_accepted=True,
        paid_at=paid_at,
        **extra,
    )
    Payment.objects.filter(pk=payment.pk).update(created_at=paid_at)
    payment.refresh_from_db()
    return payment


@pytest.fixture
def shanghai_payments(tenant: Any) -> list[Payment]:
    """Shanghai is UTC+8: 15:30 UTC on 1 March is 23:30 on 1 March there, 16:30 UTC is
    00:30 on 2 March."""
    return [
        _payment(tenant, "P-0301-late", "1234.50", datetime(2026, 3, 1, 15, 30, tzinfo=UTC)),
        _payment(tenant, "P-0302-early", "0.10", datetime(2026, 3, 1, 16, 30, tzinfo=UTC)),
        _payment(tenant, "P-0302-noon", "0.20", datetime(2026, 3, 2, 4, 0, tzinfo=UTC)),
        _payment(tenant, "P-0303", "99.99", datetime(2026, 3, 3, 2, 0, tzinfo=UTC)),
    ]


def _listed(response: Any) -> list[str]:
    return [p.out_trade_no for p in response.context["cl"].result_list]


def test_date_filter_uses_the_tenants_days_and_narrows_rows_and_totals(
    tenant: Any, shanghai_payments: list[Payment]
) -> None:
    client = _client(tenant, Staff.Role.FINANCE)

    everything = client.get(PAYMENTS)
    assert everything.status_code == 200
    assert everything.context["finance_totals"]["count"] == 4
    assert everything.context["finance_totals"]["sums"]["amount"] == Decimal("1334.79")
    assert "¥1,334.79" in everything.content.decode()

    day = client.get(PAYMENTS, {"paid_at_from": "2026-03-02", "paid_at_to": "2026-03-02"})
    assert day.status_code == 200
    assert sorted(_listed(day)) == ["P-0302-early", "P-0302-noon"]
    totals = day.context["finance_totals"]
    assert totals["count"] == 2
    assert totals["sums"]["amount"] == Decimal("0.30")  # exact, not 0.30000000000000004
    assert "¥0.30" in day.content.decode()

    since = client.get(PAYMENTS, {"created_at_from": "2026-03-02"})
    assert sorted(_listed(since)) == ["P-0302-early", "P-0302-noon", "P-0303"]
    assert since.context["finance_totals"]["sums"]["amount"] == Decimal("100.29")

    until = client.get(PAYMENTS, {"paid_at_to": "2026-03-01"})
    assert _listed(until) == ["P-0301-late"]
    assert "¥1,234.50" in until.content.decode()


def test_the_same_instants_fall_on_other_days_for_a_tenant_in_another_zone(db: Any) -> None:
    shop = TenantFactory(slug="shop-la", timezone="America/Los_Angeles")  # UTC-8 in March
    _payment(shop, "LA-1", "10.00", datetime(2026, 3, 2, 4, 0, tzinfo=UTC))  # 1 March there
    _payment(shop, "LA-2", "20.00", datetime(2026, 3, 2, 9, 0, tzinfo=UTC))  # 2 March there
    client = _client(shop, Staff.Role.OWNER)

    page = client.get(PAYMENTS, {"paid_at_from": "2026-03-01", "paid_at_to": "2026-03-01"})

    assert _listed(page) == ["LA-1"]
    assert page.context["finance_totals"]["sums"]["amount"] == Decimal("10.00")


def test_a_bad_date_is_not_applied_and_is_shown(
    tenant: Any, shanghai_payments: list[Payment]
) -> None:
    page = _client(tenant, Staff.Role.FINANCE).get(PAYMENTS, {"paid_at_from": "2026-13-45"})
    assert page.status_code == 200
    assert page.context["finance_totals"]["count"] == 4
    assert "is not a date" in page.content.decode()


def test_totals_are_exact_and_ignore_other_tenants(tenant: Any) -> None:
    other = TenantFactory(slug="shop-other-fin")
    when = timezone.now()
    for i, amount in enumerate(["0.10", "0.20", "0.70", "1000.01", "19.99"]):
        _payment(tenant, f"T-{i}", amount, when)
    _payment(other, "OTHER-1", "500.00", when)
    Refund.objects.create(
        tenant=tenant,
        payment=Payment.objects.get(out_trade_no="T-3"),
        amount=Decimal("0.01"),
        out_refund_no="RF-1",
        request_ref="r-1",
        status="succeeded",
    )
    client = _client(tenant, Staff.Role.FINANCE)

    totals = client.get(PAYMENTS).context["finance_totals"]
    assert (totals["count"], totals["sums"]["amount"]) == (5, Decimal("1021.00"))
    refunds = client.get("/console/payments/refund/").context["finance_totals"]
    assert (refunds["count"], refunds["sums"]["amount"]) == (1, Decimal("0.01"))
    searched = client.get(PAYMENTS, {"q": "T-3"}).context["finance_totals"]
    assert (searched["count"], searched["sums"]["amount"]) == (1, Decimal("1000.01"))


def test_xlsx_export_has_the_filtered_rows_with_exact_amounts_in_the_tenants_time(
    tenant: Any, shanghai_payments: list[Payment]
) -> None:
    client = _client(tenant, Staff.Role.FINANCE)
    page = client.get(PAYMENTS, {"paid_at_from": "2026-03-01", "paid_at_to": "2026-03-02"})
    link = page.context["export_xlsx_url"]
    assert link.startswith(f"{PAYMENTS}export-xlsx/?") and "paid_at_to=2026-03-02" in link
    assert link in page.content.decode().replace("&amp;", "&")

    response = client.get(link)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert header[0] == "out trade no" and "amount" in header
    body = {row[0]: row for row in rows[1:]}
    assert set(body) == {"P-0301-late", "P-0302-early", "P-0302-noon"}  # not P-0303
    amount, paid_at = header.index("amount"), header.index("paid at")
    assert body["P-0301-late"][amount] == pytest.approx(1234.5, abs=0)
    assert body["P-0302-early"][amount] == pytest.approx(0.1, abs=0)
    assert body["P-0302-early"][paid_at] == datetime(2026, 3, 2, 0, 30)  # Shanghai time
    cells = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    assert cells["P-0301-late"][amount].number_format == "#,##0.00"
    assert cells["P-0301-late"][amount].data_type == "n"


def test_export_covers_every_filtered_row_not_one_page(tenant: Any) -> None:
    when = timezone.now()
    Payment.objects.bulk_create(
        [
            Payment(
                tenant=tenant,
                purpose="order",
                reference=f"R-{i}",
                gateway="sandbox",
                out_trade_no=f"BULK-{i:03d}",
                amount=Decimal("1.01"),
                status="succeeded",
                paid_at=when,
            )
            for i in range(130)  # more than one page (100)
        ]
    )
    client = _client(tenant, Staff.Role.OWNER)
    response = client.get(f"{PAYMENTS}export-xlsx/", {"gateway__exact": "sandbox"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 130
    header = next(sheet.iter_rows(max_row=1, values_only=True))
    total = sum(Decimal(str(row[header.index("amount")])) for row in rows)
    assert total == Decimal("131.30")


@pytest.fixture
def ledger_rows(tenant: Any) -> None:
    member = MemberFactory(tenant=tenant)
    payment = _payment(tenant, "PX-1", "50.00", timezone.now())
    Refund.objects.create(
        tenant=tenant,
        payment=payment,
        amount=Decimal("5.00"),
        out_refund_no="RF-x",
        request_ref="r-x",
    )
    Payout.objects.create(
        tenant=tenant,
        purpose="withdrawal",
        reference="withdrawal:9",
        member=member,
        gateway="wechat",
        amount=Decimal("9.90"),
        out_bill_no="T-x",
    )
    OrderSettlement.objects.create(
        tenant=tenant,
        purpose="order",
        reference="SET-1",
        gross=Decimal("50.00"),
        fee=Decimal("0.30"),
        net=Decimal("49.70"),
        computed_at=timezone.now(),
    )
    ReconciliationRun.objects.create(
        tenant=tenant,
        gateway="wechat",
        bill_date=date(2026, 3, 2),
        status="matched",
        bill_rows=3,
        our_rows=3,
        ran_at=timezone.now(),
    )


FINANCE_PAGES = (
    "payment",
    "refund",
    "payout",
    "ordersettlement",
    "reconciliationrun",
    "profitsharingorder",
)


@pytest.mark.parametrize("page", FINANCE_PAGES)
def test_each_finance_page_lists_totals_and_exports(
    tenant: Any, ledger_rows: None, page: str
) -> None:
    client = _client(tenant, Staff.Role.FINANCE)
    listing = client.get(f"/console/payments/{page}/")
    assert listing.status_code == 200
    assert "finance-totals" in listing.content.decode()
    export = client.get(f"/console/payments/{page}/export-xlsx/")
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(export.content)).active
    expected = 0 if page == "profitsharingorder" else 1
    assert sheet.max_row == 1 + expected


def test_reconciliation_runs_filter_on_the_bill_date(tenant: Any, ledger_rows: None) -> None:
    client = _client(tenant, Staff.Role.FINANCE)
    path = "/console/payments/reconciliationrun/"
    hit = client.get(path, {"bill_date_from": "2026-03-02", "bill_date_to": "2026-03-02"})
    miss = client.get(path, {"bill_date_from": "2026-03-03"})
    assert hit.context["finance_totals"]["count"] == 1
    assert hit.context["finance_totals"]["sums"]["bill_rows"] == 3
    assert miss.context["finance_totals"]["count"] == 0


@pytest.mark.parametrize("role", [Staff.Role.SERVICE, Staff.Role.OPERATOR])
def test_service_and_operator_get_403_on_finance_pages_and_exports(
    tenant: Any, ledger_rows: None, role: str
) -> None:
    client = _client(tenant, role)
    for page in (*FINANCE_PAGES, "profitsharingreceiver"):
        assert client.get(f"/console/payments/{page}/").status_code == 403
    for page in FINANCE_PAGES:
        assert client.get(f"/console/payments/{page}/export-xlsx/").status_code == 403
    assert client.get(f"{RECEIVERS}add/").status_code == 403


def test_export_is_scoped_to_the_tenant(tenant: Any, shanghai_payments: list[Payment]) -> None:
    other = TenantFactory(slug="shop-z-fin")
    response = _client(other, Staff.Role.OWNER).get(f"{PAYMENTS}export-xlsx/")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.max_row == 1  # the header only


# --- Query counts -------------------------------------------------------------------------


def _make_rows(tenant: Any, start: int, count: int) -> None:
    member = MemberFactory(tenant=tenant)
    now = timezone.now()
    for i in range(start, start + count):
        payment = _payment(tenant, f"Q-{i}", "10.00", now)
        Refund.objects.create(
            tenant=tenant,
            payment=payment,
            amount=Decimal("1.00"),
            out_refund_no=f"QR-{i}",
            request_ref=f"q-{i}",
        )
        Payout.objects.create(
            tenant=tenant,
            purpose="withdrawal",
            reference=f"withdrawal:{i}",
            member=member,
            gateway="wechat",
            amount=Decimal("2.00"),
            out_bill_no=f"QB-{i}",
        )
        OrderSettlement.objects.create(
            tenant=tenant,
            purpose="order",
            reference=f"QS-{i}",
            gross=Decimal("10.00"),
            net=Decimal("10.00"),
            computed_at=now,
        )
        ReconciliationRun.objects.create(
            tenant=tenant,
            gateway="wechat",
            bill_date=date(2026, 1, 1 + i),
            status="matched",
            ran_at=now,
        )
        ProfitSharingOrder.objects.create(
            tenant=tenant,
            payment=payment,
            purpose="order",
            reference=payment.reference,
            out_order_no=f"QP-{i}",
            transaction_id=f"42{i}",
            base_amount=Decimal("10.00"),
            amount=Decimal("1.00"),
        )
        ProfitSharingReceiver.objects.create(
            tenant=tenant,
            type="MERCHANT_ID",
            account=f"19000{i}",
            share_rate=Decimal("0.01"),
        )


@pytest.mark.parametrize("page", (*FINANCE_PAGES, "profitsharingreceiver"))
def test_finance_changelist_queries_do_not_grow_with_rows(tenant: Any, page: str) -> None:
    client = _client(tenant, Staff.Role.OWNER)
    path = f"/console/payments/{page}/"

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path).status_code == 200
        return len(queries)

    _make_rows(tenant, 0, 2)
    count()  # warm caches (content types, session)
    few = count()
    _make_rows(tenant, 2, 6)
    assert count() == few


# --- Profit sharing receivers through the console ----------------------------------------


@pytest.fixture
def finance(tenant: Any, wechatpay: FakeWeChatPay, wechat_config: Any) -> Client:
    return _client(tenant, Staff.Role.FINANCE)


def _add(client: Client, **overrides: Any) -> Any:
    data = {
        "type": "MERCHANT_ID",
        "account": "1900000200",
        "name": "Supplier One Ltd",
        "relation_type": "SUPPLIER",
        "share_percent": "12.5",
        **overrides,
    }
    return client.post(f"{RECEIVERS}add/", data, follow=True)


def test_a_receiver_is_added_in_the_console_and_registered_at_wechat_pay(
    finance: Client, wechatpay: FakeWeChatPay
) -> None:
    form = finance.get(f"{RECEIVERS}add/")
    assert form.status_code == 200 and b'name="share_percent"' in form.content

    response = _add(finance)

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == RECEIVERS
    receiver = ProfitSharingReceiver.objects.get(account="1900000200")
    assert receiver.share_rate == Decimal("0.1250") and receiver.is_active
    assert receiver.registered_at is not None
    assert wechatpay.sharing_receivers[("MERCHANT_ID", "1900000200")]["name"] == (
        "Supplier One Ltd"
    )
    assert "12.50%" in response.content.decode()


def test_a_refused_receiver_shows_wechats_answer_and_is_not_kept(
    finance: Client, wechatpay: FakeWeChatPay
) -> None:
    wechatpay.receiver_answer = (400, {"code": "PARAM_ERROR", "message": "name mismatch"})

    response = _add(finance, account="1900000999")

    assert response.status_code == 200  # the form again, with the error; never a 500
    page = response.content.decode()
    assert "PARAM_ERROR" in page and "name mismatch" in page
    assert not ProfitSharingReceiver.objects.filter(account="1900000999").exists()


def test_rates_above_thirty_percent_are_refused_in_the_form(finance: Client, tenant: Any) -> None:
    assert _add(finance, share_percent="20").status_code == 200
    response = _add(finance, account="1900000300", share_percent="10.01")
    assert "at most 30%" in response.content.decode()
    assert not ProfitSharingReceiver.objects.filter(account="1900000300").exists()
    too_big = _add(finance, account="1900000301", share_percent="31")
    assert too_big.status_code == 200
    assert not ProfitSharingReceiver.objects.filter(account="1900000301").exists()


def test_a_merchant_receiver_needs_a_name(finance: Client) -> None:
    response = _add(finance, name="")
    assert response.status_code == 200
    assert "full legal name" in response.content.decode()
    assert not ProfitSharingReceiver.objects.exists()


def test_a_receiver_is_removed_in_the_console_and_deleted_at_wechat_pay(
    finance: Client, tenant: Any, wechatpay: FakeWeChatPay
) -> None:
    receiver = profit_sharing_receiver_add(
        tenant=tenant, type="MERCHANT_ID", account="1900000200", name="S", share_rate=Decimal("0.2")
    )

    response = finance.post(
        RECEIVERS, {"action": "remove_receivers", "_selected_action": [receiver.pk]}, follow=True
    )

    assert response.status_code == 200
    receiver.refresh_from_db()
    assert not receiver.is_active
    assert ("MERCHANT_ID", "1900000200") not in wechatpay.sharing_receivers
    sent = wechatpay.calls("/v3/profitsharing/receivers/delete")
    assert [c["json"]["account"] for c in sent] == ["1900000200"]
    assert "1900000200 was removed" in response.content.decode()

    # Removing again does not call WeChat; adding again re-activates the same row.
    finance.post(RECEIVERS, {"action": "remove_receivers", "_selected_action": [receiver.pk]})
    assert len(wechatpay.calls("/v3/profitsharing/receivers/delete")) == 1
    _add(finance, share_percent="5")
    receiver.refresh_from_db()
    assert receiver.is_active and receiver.share_rate == Decimal("0.0500")
    assert ProfitSharingReceiver.objects.filter(account="1900000200").count() == 1


def test_a_removal_wechat_refuses_keeps_the_receiver_and_says_why(
    finance: Client, tenant: Any, wechatpay: FakeWeChatPay
) -> None:
    receiver = profit_sharing_receiver_add(
        tenant=tenant, type="MERCHANT_ID", account="1900000200", name="S", share_rate=Decimal("0.2")
    )
    wechatpay.receiver_delete_answer = (400, {"code": "INVALID_REQUEST", "message": "busy"})

    response = finance.post(
        RECEIVERS, {"action": "remove_receivers", "_selected_action": [receiver.pk]}, follow=True
    )

    assert response.status_code == 200
    assert "INVALID_REQUEST" in response.content.decode()
    receiver.refresh_from_db()
    assert receiver.is_active
    assert ("MERCHANT_ID", "1900000200") in wechatpay.sharing_receivers


def test_a_removal_when_wechat_is_down_is_a_message_not_a_500(
    finance: Client, tenant: Any, wechatpay: FakeWeChatPay
) -> None:
    receiver = profit_sharing_receiver_add(
        tenant=tenant, type="MERCHANT_ID", account="1900000200", name="S", share_rate=Decimal("0.2")
    )
    wechatpay.receiver_delete_answer = (503, {"code": "SYSTEM_ERROR", "message": "down"})

    response = finance.post(
        RECEIVERS, {"action": "remove_receivers", "_selected_action": [receiver.pk]}, follow=True
    )

    assert response.status_code == 200
    assert "could not be reached" in response.content.decode()
    receiver.refresh_from_db()
    assert receiver.is_active


def test_receivers_cannot_be_deleted_without_wechat(
    finance: Client, tenant: Any, wechatpay: FakeWeChatPay
) -> None:
    receiver = profit_sharing_receiver_add(
        tenant=tenant, type="MERCHANT_ID", account="1900000200", name="S", share_rate=Decimal("0.2")
    )
    assert finance.get(f"{RECEIVERS}{receiver.pk}/delete/").status_code == 403
    choices = finance.get(RECEIVERS).context["action_form"].fields["action"].choices
    assert [name for name, _label in choices if name] == ["remove_receivers"]


def test_service_role_cannot_add_or_remove_receivers(
    tenant: Any, wechatpay: FakeWeChatPay, wechat_config: Any
) -> None:
    receiver = profit_sharing_receiver_add(
        tenant=tenant, type="MERCHANT_ID", account="1900000200", name="S", share_rate=Decimal("0.2")
    )
    client = _client(tenant, Staff.Role.SERVICE)
    assert _add(client, account="1900000777").status_code == 403
    response = client.post(
        RECEIVERS, {"action": "remove_receivers", "_selected_action": [receiver.pk]}
    )
    assert response.status_code == 403
    receiver.refresh_from_db()
    assert receiver.is_active
    assert not ProfitSharingReceiver.objects.filter(account="1900000777").exists()
