"""Reconciliation: a gateway's bill of one day against our records.

WeChat Pay: ``GET /v3/bill/tradebill?bill_date=D&bill_type=ALL`` answers a ``download_url``
and the SHA1 of the bill; the (gzip) file is downloaded from the configured base URL with a
signed request and checked against the hash. Alipay: ``alipay.data.dataservice.bill.
downloadurl.query`` (``bill_type=trade``) answers a URL of a zip of GBK CSV files; the
``业务明细`` file lists trades and refunds.

Both bills are in Beijing time. Each entry of the bill is looked up in our records (any date,
so a payment or refund finalised across midnight on our side is not reported): not found as
succeeded → ``missing_ours``; found with another amount → ``amount_differs``. Each payment
paid (and refund finished) on that Beijing day on our side that the bill lacks →
``missing_theirs``. A run replaces the previous one of the same gateway and day.
"""

from __future__ import annotations

import csv
import io
import logging
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from mall.money import quantize
from mall.tenancy.models import Tenant
from payments.gateways.alipay import SUCCESS_CODE, _refused, _server_api
from payments.gateways.base import GatewayError
from payments.gateways.wechat import WeChatPayAdapter
from payments.models import (
    Gateway,
    GatewayConfig,
    Payment,
    ReconciliationMismatch,
    ReconciliationRun,
    Refund,
)

logger = logging.getLogger(__name__)

BILL_TZ = ZoneInfo("Asia/Shanghai")
# WeChat publishes the previous day's bill from 10:00 Beijing time (Alipay earlier).
BILLS_READY_HOUR = 10
Kind = ReconciliationMismatch.Kind


@dataclass(frozen=True)
class BillEntry:
    entry: str  # "payment" | "refund"
    out_trade_no: str
    amount: Decimal
    out_refund_no: str = ""
    gateway_no: str = ""


class BillFormatError(Exception):
    pass


def _decimal(value: str) -> Decimal:
    try:
        return quantize(Decimal(value.strip().lstrip("`").replace(",", "") or "0"))
    except InvalidOperation:
        raise BillFormatError(f"not an amount: {value[:20]!r}") from None


def parse_wechat_bill(text: str) -> list[BillEntry]:
    """WeChat's trade bill (CSV; each value prefixed with a backquote; a summary at the end)."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    if not rows:
        return []
    header = [h.strip() for h in rows[0]]
    need = ("商户订单号", "交易状态", "微信订单号")
    if not all(n in header for n in need):
        raise BillFormatError("not a WeChat Pay trade bill (header)")
    col = {name: i for i, name in enumerate(header)}
    entries: list[BillEntry] = []
    for row in rows[1:]:
        if not row or row[0].strip().startswith("总交易单数"):
            break
        cells = [c.strip().lstrip("`").strip() for c in row]
        if len(cells) < len(header):
            raise BillFormatError("short row in the WeChat Pay bill")

        def cell(name: str, cells: list[str] = cells) -> str:
            return cells[col[name]] if name in col else ""

        state = cell("交易状态")
        if state == "SUCCESS":
            amount = cell("订单金额") or cell("应结订单金额")
            entries.append(
                BillEntry(
                    "payment",
                    cell("商户订单号"),
                    _decimal(amount),
                    gateway_no=cell("微信订单号"),
                )
            )
        elif state == "REFUND":
            amount = cell("申请退款金额") or cell("退款金额")
            entries.append(
                BillEntry(
                    "refund",
                    cell("商户订单号"),
                    _decimal(amount),
                    out_refund_no=cell("商户退款单号"),
                    gateway_no=cell("微信退款单号"),
                )
            )
    return entries


def parse_alipay_bill(archive: bytes) -> list[BillEntry]:
    """Alipay's trade bill: a zip of GBK CSV files; the detail file (业务明细, not 汇总)."""
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as zf:
            names = [
                n
                for n in zf.namelist()
                if _zip_name(n).endswith(".csv")
                and "业务明细" in _zip_name(n)
                and "汇总" not in _zip_name(n)
            ]
            if not names:
                raise BillFormatError("no 业务明细 file in the Alipay bill")
            raw = zf.read(names[0])
    except zipfile.BadZipFile as exc:
        raise BillFormatError("the Alipay bill is not a zip file") from exc
    text = raw.decode("gbk", errors="strict") if not raw.startswith(b"\xef\xbb\xbf") else ""
    text = text or raw.decode("utf-8-sig")
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    rows = list(csv.reader(lines))
    if not rows:
        return []
    header = [h.strip() for h in rows[0]]
    col = {name: i for i, name in enumerate(header)}
    if "商户订单号" not in col or "业务类型" not in col:
        raise BillFormatError("not an Alipay trade bill (header)")
    amount_col = next((n for n in header if n.startswith("订单金额")), None)
    if amount_col is None:
        raise BillFormatError("no 订单金额 column in the Alipay bill")
    entries: list[BillEntry] = []
    for row in rows[1:]:
        cells = [c.strip() for c in row]
        if len(cells) < len(header):
            continue  # trailing totals

        def cell(name: str, cells: list[str] = cells) -> str:
            return cells[col[name]] if name in col else ""

        kind = cell("业务类型")
        if kind == "交易":
            entries.append(
                BillEntry(
                    "payment",
                    cell("商户订单号"),
                    _decimal(cell(amount_col)),
                    gateway_no=cell("支付宝交易号"),
                )
            )
        elif kind == "退款":
            entries.append(
                BillEntry(
                    "refund",
                    cell("商户订单号"),
                    abs(_decimal(cell(amount_col))),
                    out_refund_no=cell("退款批次号/请求号"),
                    gateway_no=cell("支付宝交易号"),
                )
            )
    return entries


def _zip_name(name: str) -> str:
    """Zip entries without the UTF-8 flag are cp437-decoded by Python; Alipay's are GBK."""
    try:
        return name.encode("cp437").decode("gbk")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return name


def _fetch_wechat(config: GatewayConfig, bill_date: date) -> list[BillEntry]:
    try:
        data = WeChatPayAdapter(config).trade_bill(bill_date=bill_date.isoformat())
    except GatewayError as exc:
        if exc.code == "NO_STATEMENT_EXIST":
            return []  # no trade that day
        raise
    return parse_wechat_bill(data.decode("utf-8-sig"))


def _fetch_alipay(config: GatewayConfig, bill_date: date) -> list[BillEntry]:
    result = _server_api(
        config,
        "alipay.data.dataservice.bill.downloadurl.query",
        {"bill_type": "trade", "bill_date": bill_date.isoformat()},
    )
    if str(result.get("code")) != SUCCESS_CODE:
        if result.get("sub_code") == "isp.bill_not_exist":
            return []
        raise _refused(result)
    url = result.get("bill_download_url")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise GatewayError(GatewayError.INVALID, "Alipay answered without a bill_download_url")
    try:
        response = requests.get(url, timeout=settings.EXTERNAL_HTTP_TIMEOUT * 4)
        response.raise_for_status()
    except requests.RequestException as exc:
        raise GatewayError(GatewayError.UNAVAILABLE, f"bill download failed: {exc!r}") from exc
    return parse_alipay_bill(response.content)


FETCHERS = {Gateway.WECHAT: _fetch_wechat, Gateway.ALIPAY: _fetch_alipay}


def _day_bounds(bill_date: date) -> tuple[datetime, datetime]:
    start = datetime.combine(bill_date, time.min, tzinfo=BILL_TZ)
    return start, start + timedelta(days=1)


def _compare(
    tenant: Tenant, gateway: str, bill_date: date, entries: list[BillEntry]
) -> tuple[list[ReconciliationMismatch], int]:
    start, end = _day_bounds(bill_date)
    payments = Payment.objects.for_tenant(tenant).filter(gateway=gateway)
    refunds = Refund.objects.for_tenant(tenant).filter(payment__gateway=gateway)
    bill_trades = {e.out_trade_no: e for e in entries if e.entry == "payment"}
    bill_refunds = {e.out_refund_no: e for e in entries if e.entry == "refund"}
    ours_trades = {
        p.out_trade_no: p.amount
        for p in payments.filter(
            out_trade_no__in=list(bill_trades), status=Payment.Status.SUCCEEDED
        )
    }
    ours_refunds = {
        r.out_refund_no: r.amount
        for r in refunds.filter(
            out_refund_no__in=list(bill_refunds), status=Refund.Status.SUCCEEDED
        )
    }
    found: list[ReconciliationMismatch] = []

    def add(kind: str, e: str, trade: str, refund: str, gw: str, ours: Any, theirs: Any) -> None:
        found.append(
            ReconciliationMismatch(
                tenant=tenant,
                kind=kind,
                entry=e,
                out_trade_no=trade[:64],
                out_refund_no=refund[:64],
                gateway_no=gw[:64],
                ours=ours,
                theirs=theirs,
            )
        )

    for no, e in bill_trades.items():
        if no not in ours_trades:
            add(Kind.MISSING_OURS, "payment", no, "", e.gateway_no, None, e.amount)
        elif ours_trades[no] != e.amount:
            add(Kind.AMOUNT_DIFFERS, "payment", no, "", e.gateway_no, ours_trades[no], e.amount)
    for no, e in bill_refunds.items():
        if no not in ours_refunds:
            add(Kind.MISSING_OURS, "refund", e.out_trade_no, no, e.gateway_no, None, e.amount)
        elif ours_refunds[no] != e.amount:
            add(
                Kind.AMOUNT_DIFFERS,
                "refund",
                e.out_trade_no,
                no,
                e.gateway_no,
                ours_refunds[no],
                e.amount,
            )
    day_payments = payments.filter(
        status=Payment.Status.SUCCEEDED, paid_at__gte=start, paid_at__lt=end
    )
    day_refunds = refunds.select_related("payment").filter(
        status=Refund.Status.SUCCEEDED, refunded_at__gte=start, refunded_at__lt=end
    )
    for p in day_payments:
        if p.out_trade_no not in bill_trades:
            trade = p.out_trade_no
            add(Kind.MISSING_THEIRS, "payment", trade, "", p.transaction_id, p.amount, None)
    for r in day_refunds:
        if r.out_refund_no not in bill_refunds:
            add(
                Kind.MISSING_THEIRS,
                "refund",
                r.payment.out_trade_no,
                r.out_refund_no,
                r.gateway_refund_id,
                r.amount,
                None,
            )
    return found, day_payments.count() + day_refunds.count()


def reconcile(
    *, tenant: Tenant, bill_date: date, gateway: str | None = None
) -> list[ReconciliationRun]:
    """Reconcile the tenant's active WeChat Pay / Alipay configurations (or ``gateway``)
    for ``bill_date`` (Beijing time). Failures are recorded as ``failed`` runs."""
    configs = GatewayConfig.objects.for_tenant(tenant).filter(
        is_active=True, gateway__in=list(FETCHERS)
    )
    if gateway is not None:
        configs = configs.filter(gateway=gateway)
    runs = []
    for config in configs.order_by("gateway"):
        error = ""
        mismatches: list[ReconciliationMismatch] = []
        entries: list[BillEntry] = []
        our_rows = 0
        try:
            entries = FETCHERS[config.gateway](config, bill_date)
            mismatches, our_rows = _compare(tenant, config.gateway, bill_date, entries)
        except (GatewayError, BillFormatError) as exc:
            logger.warning(
                "reconciliation %s %s %s failed: %s", tenant.slug, config.gateway, bill_date, exc
            )
            error = str(exc)[:500]
        if error:
            status = ReconciliationRun.Status.FAILED
        elif mismatches:
            status = ReconciliationRun.Status.MISMATCHED
        else:
            status = ReconciliationRun.Status.MATCHED
        with transaction.atomic():
            run, _ = ReconciliationRun.objects.update_or_create(
                tenant=tenant,
                gateway=config.gateway,
                bill_date=bill_date,
                defaults={
                    "status": status,
                    "bill_rows": len(entries),
                    "our_rows": our_rows,
                    "mismatch_count": len(mismatches),
                    "error": error,
                    "ran_at": timezone.now(),
                },
            )
            ReconciliationMismatch.objects.filter(run=run).delete()
            for mismatch in mismatches:
                mismatch.run = run
            ReconciliationMismatch.objects.bulk_create(mismatches)
        runs.append(run)
    return runs


def reconcile_yesterday_all(*, now: datetime | None = None) -> int:
    """Beat (hourly): once the bills are out, reconcile yesterday (Beijing time) for every
    tenant with an active WeChat Pay or Alipay configuration; runs that already matched or
    found mismatches are kept, failed ones are tried again."""
    local = timezone.localtime(now or timezone.now(), BILL_TZ)
    if local.hour < BILLS_READY_HOUR:
        return 0
    day = local.date() - timedelta(days=1)
    done = 0
    tenant_ids = (
        GatewayConfig.objects.all_tenants()  # the daily sweep over every tenant
        .filter(is_active=True, gateway__in=list(FETCHERS))
        .values_list("tenant_id", flat=True)
        .distinct()
    )
    for tenant in Tenant.objects.filter(pk__in=list(tenant_ids)).order_by("pk"):
        finished = set(
            ReconciliationRun.objects.for_tenant(tenant)
            .filter(bill_date=day)
            .exclude(status=ReconciliationRun.Status.FAILED)
            .values_list("gateway", flat=True)
        )
        for gateway in sorted(set(FETCHERS) - finished):
            done += len(reconcile(tenant=tenant, bill_date=day, gateway=gateway))
    return done
