# ruff: noqa: F811 - the payments fixtures are imported by name and requested as arguments
"""Withdrawals paid through the payments payout interface (WeChat Pay transfer / sandbox):
the method is chosen on approval, the outcome comes back from payments exactly once, and the
ledger stays exact (a failed payout returns the amount once)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from distribution.models import Distributor, LedgerEntry, Withdrawal
from distribution.services import (
    ledger_balance,
    withdrawal_approve,
    withdrawal_mark_paid,
    withdrawal_reject,
    withdrawal_request,
)
from distribution.services.ledger import ledger_add
from mall.api.errors import ApplicationError
from payments.gateways.config import sandbox_config_ensure
from payments.models import Payout
from payments.payouts.services import payouts_sync
from tests.distribution import factories as f
from tests.members.factories import MemberIdentityFactory
from tests.payments.conftest import (  # noqa: F401 - fixtures
    WECHAT_APP_ID,
    FakeWeChatPay,
    gateways,
    keys,
    wechat_config,
    wechatpay,
)
from tests.payments.test_payouts import transfer_notify

pytestmark = pytest.mark.django_db


@pytest.fixture
def distributor(tenant: Any) -> Distributor:
    f.enable(tenant, withdrawal_min_amount=Decimal("1.00"), withdrawal_fee_rate=Decimal("0.01"))
    d = f.distributor(tenant)
    MemberIdentityFactory(member=d.member, app_id=WECHAT_APP_ID, openid="o-distributor")
    ledger_add(
        tenant_id=tenant.pk,
        distributor_id=d.pk,
        kind=LedgerEntry.Kind.CREDIT,
        amount=Decimal("50.00"),
        reference="test:credit",
    )
    return d


def bal(d: Distributor) -> Decimal:
    balance = Distributor.objects.get(pk=d.pk).balance
    assert balance == ledger_balance(distributor=d)  # the cache always equals the ledger
    return balance


def approve(tenant: Any, w: Withdrawal, capture: Any, **kw: Any) -> Withdrawal:
    with capture(execute=True):
        withdrawal_approve(tenant=tenant, withdrawal_id=w.pk, actor="staff:1", **kw)
    return Withdrawal.objects.get(pk=w.pk)


def test_sandbox_payout_pays_the_net_amount_and_marks_paid(
    tenant: Any, distributor: Distributor, django_capture_on_commit_callbacks: Any
) -> None:
    sandbox_config_ensure(tenant=tenant)
    w = withdrawal_request(tenant=tenant, member=distributor.member, amount=Decimal("20.00"))
    w = approve(tenant, w, django_capture_on_commit_callbacks)
    payout = Payout.objects.get(reference=f"withdrawal:{w.pk}")
    assert w.method == "sandbox" and w.status == "paid"
    assert payout.amount == Decimal("19.80") == w.net_amount
    assert w.payout_reference == payout.out_bill_no and w.paid_at is not None
    assert bal(distributor) == Decimal("30.00")
    assert not LedgerEntry.objects.filter(kind="withdraw_reversal").exists()


def test_wechat_payout_in_flight_blocks_manual_paths_and_success_marks_paid(
    tenant: Any,
    distributor: Distributor,
    wechatpay: FakeWeChatPay,
    wechat_config: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    w = withdrawal_request(tenant=tenant, member=distributor.member, amount=Decimal("10.00"))
    w = approve(tenant, w, django_capture_on_commit_callbacks)
    payout = Payout.objects.get(reference=f"withdrawal:{w.pk}")
    assert w.method == "wechat" and w.status == "approved"
    assert payout.status == "waiting_confirmation" and payout.payee_openid == "o-distributor"
    assert wechatpay.transfers[payout.out_bill_no]["request"]["transfer_amount"] == 990
    for action in (
        lambda: withdrawal_reject(tenant=tenant, withdrawal_id=w.pk, actor="staff:2"),
        lambda: withdrawal_mark_paid(
            tenant=tenant, withdrawal_id=w.pk, actor="staff:2", payout_reference="BANK-9"
        ),
    ):
        with pytest.raises(ApplicationError) as err:
            action()
        assert err.value.code == "payout_in_progress"
    assert transfer_notify(wechatpay, tenant.slug, payout).status_code == 204
    w.refresh_from_db()
    assert w.status == "paid" and w.payout_reference == payout.out_bill_no
    assert bal(distributor) == Decimal("40.00")


def test_failed_payout_returns_the_amount_exactly_once(
    tenant: Any,
    distributor: Distributor,
    wechatpay: FakeWeChatPay,
    wechat_config: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    w = withdrawal_request(tenant=tenant, member=distributor.member, amount=Decimal("10.00"))
    assert bal(distributor) == Decimal("40.00")
    w = approve(tenant, w, django_capture_on_commit_callbacks)
    payout = Payout.objects.get(reference=f"withdrawal:{w.pk}")
    # The member never confirmed: WeChat cancelled it (notification, then a query, again).
    answer = transfer_notify(wechatpay, tenant.slug, payout, state="CANCELLED")
    assert answer.status_code == 204
    assert transfer_notify(wechatpay, tenant.slug, payout, state="FAIL").status_code == 204
    wechatpay.transfers[payout.out_bill_no]["state"] = "CANCELLED"
    Payout.objects.filter(pk=payout.pk).update(status="processing")  # as if still open
    Payout.objects.filter(pk=payout.pk).update(updated_at=payout.updated_at.replace(year=2020))
    payouts_sync()
    w.refresh_from_db()
    assert w.status == "rejected" and w.reason.startswith("payout failed")
    assert LedgerEntry.objects.filter(kind="withdraw_reversal").count() == 1
    assert bal(distributor) == Decimal("50.00")
    # A rejected withdrawal cannot be paid by hand afterwards.
    with pytest.raises(ApplicationError):
        withdrawal_mark_paid(
            tenant=tenant, withdrawal_id=w.pk, actor="staff:2", payout_reference="BANK-1"
        )


def test_refused_payout_rejects_the_withdrawal_and_returns_the_amount(
    tenant: Any,
    distributor: Distributor,
    wechatpay: FakeWeChatPay,
    wechat_config: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    wechatpay.transfer_answer = (403, {"code": "NOT_ENOUGH", "message": "merchant balance"})
    w = withdrawal_request(tenant=tenant, member=distributor.member, amount=Decimal("10.00"))
    w = approve(tenant, w, django_capture_on_commit_callbacks)
    assert w.status == "rejected" and "NOT_ENOUGH" in w.reason
    assert bal(distributor) == Decimal("50.00")


def test_offline_stays_available(
    tenant: Any,
    distributor: Distributor,
    wechatpay: FakeWeChatPay,
    wechat_config: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    w = withdrawal_request(tenant=tenant, member=distributor.member, amount=Decimal("10.00"))
    w = approve(tenant, w, django_capture_on_commit_callbacks, method="offline")
    assert w.method == "offline" and not Payout.objects.exists()
    paid = withdrawal_mark_paid(
        tenant=tenant, withdrawal_id=w.pk, actor="staff:2", payout_reference="BANK-001"
    )
    assert paid.status == "paid"
    assert wechatpay.calls("/transfer-bills") == []
    with pytest.raises(ApplicationError) as err:
        withdrawal_approve(tenant=tenant, withdrawal_id=w.pk, actor="x", method="cheque")
    assert err.value.code == "invalid_payout_method"


def test_without_a_gateway_approval_is_offline(
    tenant: Any, distributor: Distributor, settings: Any
) -> None:
    settings.MALL_ALLOW_SANDBOX = False
    w = withdrawal_request(tenant=tenant, member=distributor.member, amount=Decimal("10.00"))
    w = withdrawal_approve(tenant=tenant, withdrawal_id=w.pk, actor="staff:1")
    assert w.method == "offline" and w.status == "approved"
    assert not Payout.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_failed_payout_notified_five_times_concurrently_returns_the_amount_once(
    tenant: Any, distributor: Distributor, wechatpay: FakeWeChatPay, wechat_config: Any
) -> None:
    from django.db import connection

    from tests.payments.test_concurrency import _deliver_concurrently

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL) for real concurrent transactions")
    w = withdrawal_request(tenant=tenant, member=distributor.member, amount=Decimal("10.00"))
    withdrawal_approve(tenant=tenant, withdrawal_id=w.pk, actor="staff:1")  # commits: submitted
    payout = Payout.objects.get(reference=f"withdrawal:{w.pk}")
    assert payout.status == "waiting_confirmation"
    results = _deliver_concurrently(
        5,
        lambda: transfer_notify(wechatpay, tenant.slug, payout, state="CANCELLED").status_code,
    )
    assert results == [204] * 5
    w.refresh_from_db()
    assert w.status == "rejected"
    assert LedgerEntry.objects.filter(kind="withdraw_reversal").count() == 1
    assert bal(distributor) == Decimal("50.00")
