"""Reconciliation: the fakes serve a day's bills in the gateways' formats (WeChat Pay: signed
tradebill answer + gzip CSV checked by SHA1; Alipay: signed downloadurl answer + zip of GBK
CSV); mismatches are reported, stored and shown by the command."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from payments.models import Payment, ReconciliationRun, Refund
from payments.reconciliation.services import reconcile, reconcile_yesterday_all
from tests.payments.conftest import MCH_ID, WECHAT_APP_ID, FakeAlipay, FakeWeChatPay

pytestmark = pytest.mark.django_db

BJ = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 11, 25)
WX_HEADER = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,"
    "交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,"
    "充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,"
    "费率备注"
)
ALI_HEADER = (
    "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,"
    "终端号,对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,"
    "商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,"
    "退款批次号/请求号,服务费（元）,分润（元）,备注"
)


def wx_row(no: str, amount: str, state: str = "SUCCESS", refund_no: str = "") -> str:
    refund = amount if state == "REFUND" else "0.00"
    cells = [
        "2026-11-25 10:00:00", WECHAT_APP_ID, MCH_ID, "0", "", f"4200{no}", no, "o-buyer",
        "JSAPI", state, "OTHERS", "CNY", amount, "0.00", f"50{refund_no}" if refund_no else "0",
        refund_no or "0", refund, "0.00", "ORIGINAL" if refund_no else "", "SUCCESS" if
        refund_no else "", "Order", "", "0.18000", "0.60%", amount if state == "SUCCESS" else
        "0.00", refund, "",
    ]  # fmt: skip
    return ",".join(f"`{c}" for c in cells)


def wx_bill(*rows: str) -> str:
    summary = (
        "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,"
        "申请退款总金额"
    )
    return "\n".join([WX_HEADER, *rows, summary, "`3,`0.00,`0.00,`0.00,`0.00,`0.00,`0.00"]) + "\n"


def ali_bill(*rows: str) -> bytes:
    text = "\n".join(
        [
            "#支付宝业务明细查询",
            "#账号：[20880000000000000156]",
            "#-----------------------------------------业务明细列表----------------------------",
            ALI_HEADER,
            *rows,
            "#-----------------------------------------业务明细列表结束------------------------",
            "#交易合计：2笔",
        ]
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("20880000_20261125_业务明细.csv", text.encode("gbk"))
        zf.writestr("20880000_20261125_业务明细(汇总).csv", "#汇总\n".encode("gbk"))
    return buffer.getvalue()


def ali_row(no: str, amount: str, kind: str = "交易", request_no: str = "") -> str:
    cells = [f"2026112522{no}", no, kind, "Order", "2026-11-25 10:00:00", "2026-11-25 10:00:05",
             "", "", "", "", "buyer", amount, amount, "0.00", "0.00", "0.00", "0.00", "0.00", "",
             "0.00", "0.00", request_no, "-0.18", "0.00", ""]  # fmt: skip
    return ",".join(f"{c}\t" for c in cells)


def payment(tenant: Any, no: str, amount: str, gateway: str = "wechat", **kw: Any) -> Payment:
    return Payment.objects.create(
        tenant=tenant,
        purpose="order",
        reference=no,
        gateway=gateway,
        out_trade_no=no,
        amount=Decimal(amount),
        status=kw.pop("status", "succeeded"),
        purpose_accepted=True,
        transaction_id=f"4200{no}",
        paid_at=kw.pop("paid_at", datetime(2026, 11, 25, 10, tzinfo=BJ)),
        **kw,
    )


def refund(p: Payment, no: str, amount: str, at: datetime | None = None) -> Refund:
    return Refund.objects.create(
        tenant=p.tenant,
        payment=p,
        amount=Decimal(amount),
        out_refund_no=no,
        request_ref=f"after_sale:{no}",
        status="succeeded",
        refunded_at=at or datetime(2026, 11, 25, 11, tzinfo=BJ),
    )


@pytest.fixture
def day(tenant: Any, wechatpay: FakeWeChatPay, alipay: FakeAlipay, wechat_config: Any,
        alipay_config: Any) -> dict[str, Any]:  # fmt: skip
    p1 = payment(tenant, "P1", "30.00")
    refund(p1, "R1", "5.00")
    payment(tenant, "P2", "20.00")  # ours only
    payment(tenant, "P4", "10.00")  # amount differs
    payment(tenant, "P5", "8.00", paid_at=datetime(2026, 11, 24, 23, 59, tzinfo=BJ))  # other day
    payment(tenant, "P6", "9.00", status="pending", paid_at=None)  # not paid
    wechatpay.bills["2026-11-25"] = wx_bill(
        wx_row("P1", "30.00"),
        wx_row("P1", "5.00", state="REFUND", refund_no="R1"),
        wx_row("P3", "15.00"),  # theirs only
        wx_row("P4", "11.00"),
        wx_row("P5", "8.00"),  # paid before midnight on our side: found, not reported
    )
    pa = payment(tenant, "PA1", "30.00", gateway="alipay")
    refund(pa, "RA1", "3.00")
    alipay.bills["2026-11-25"] = ali_bill(
        ali_row("PA1", "30.00"), ali_row("PA1", "-3.00", kind="退款", request_no="RA1")
    )
    return {"wechatpay": wechatpay, "alipay": alipay}


def test_mismatches_are_found_and_stored_per_gateway(tenant: Any, day: dict) -> None:
    alipay_run, wechat_run = sorted(
        reconcile(tenant=tenant, bill_date=DAY), key=lambda r: r.gateway
    )
    assert alipay_run.gateway == "alipay" and alipay_run.status == "matched"
    assert alipay_run.bill_rows == 2 and alipay_run.our_rows == 2
    assert wechat_run.status == "mismatched" and wechat_run.bill_rows == 5
    found = {
        (m.kind, m.entry, m.out_trade_no, m.ours, m.theirs) for m in wechat_run.mismatches.all()
    }
    assert found == {
        ("missing_theirs", "payment", "P2", Decimal("20.00"), None),
        ("missing_ours", "payment", "P3", None, Decimal("15.00")),
        ("amount_differs", "payment", "P4", Decimal("10.00"), Decimal("11.00")),
    }
    # The signed download request went to the configured base URL, not WeChat's host.
    assert day["wechatpay"].calls("/v3/billdownload/file")
    # Re-running replaces the run and its mismatches.
    again = reconcile(tenant=tenant, bill_date=DAY, gateway="wechat")
    assert ReconciliationRun.objects.count() == 2
    assert again[0].pk == wechat_run.pk and again[0].mismatches.count() == 3


def test_command_reports_and_fails_on_mismatch(tenant: Any, day: dict) -> None:
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("reconcile_payments", tenant="shop-a", date="2026-11-25", stdout=out)
    text = out.getvalue()
    assert "alipay 2026-11-25: matched" in text
    assert "wechat 2026-11-25: mismatched" in text and "missing_ours payment P3" in text
    out = io.StringIO()
    call_command(
        "reconcile_payments", tenant="shop-a", date="2026-11-25", gateway="alipay", stdout=out
    )
    assert "matched" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("reconcile_payments", tenant="nope", date="2026-11-25")
    with pytest.raises(CommandError):
        call_command("reconcile_payments", tenant="shop-a", date="25/11/2026")


def test_a_tampered_bill_is_a_failed_run_not_a_match(tenant: Any, day: dict) -> None:
    day["wechatpay"].bill_hash_override = "0" * 40
    (run,) = reconcile(tenant=tenant, bill_date=DAY, gateway="wechat")
    assert run.status == "failed" and "SHA1" in run.error and run.mismatch_count == 0


def test_a_day_without_bills_matches_only_when_we_have_nothing_either(
    tenant: Any, day: dict
) -> None:
    empty = date(2026, 11, 20)
    runs = reconcile(tenant=tenant, bill_date=empty)
    assert {r.status for r in runs} == {"matched"}
    payment(tenant, "P9", "1.00", paid_at=datetime(2026, 11, 20, 9, tzinfo=BJ))
    (run,) = reconcile(tenant=tenant, bill_date=empty, gateway="wechat")
    assert run.status == "mismatched"
    assert run.mismatches.get().kind == "missing_theirs"


def test_daily_task_runs_once_the_bills_are_out_and_keeps_finished_runs(
    tenant: Any, day: dict
) -> None:
    early = datetime(2026, 11, 26, 9, 0, tzinfo=BJ)
    assert reconcile_yesterday_all(now=early) == 0
    late = datetime(2026, 11, 26, 10, 30, tzinfo=BJ)
    assert reconcile_yesterday_all(now=late) == 2
    assert reconcile_yesterday_all(now=late) == 0  # matched / mismatched runs are kept
    ReconciliationRun.objects.filter(gateway="alipay").update(status="failed")
    assert reconcile_yesterday_all(now=late) == 1  # failed ones are tried again
