"""Payments fixtures: a test-only purpose, local fakes of WeChat Pay and Alipay that verify our
signatures and sign their answers and notifications exactly as the gateways do, with RSA keys
generated here and configured as production would be."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from mall.api.errors import ConflictError, NotFoundError
from mall.money import to_fen
from mall.tenancy.models import Tenant
from members.models import Member
from payments import purposes
from payments.gateways.config import gateway_config_set
from payments.models import GatewayConfig, Payment
from payments.purposes import Payable
from tests.conftest import shopper_client
from tests.mall.factories import ChannelFactory
from tests.members.factories import MemberFactory, MemberIdentityFactory, access_token_for

WECHAT_APP_ID = "wx-shop-a"  # the channel fixture's app id
MCH_ID = "1900000109"
PUBLIC_KEY_ID = "PUB_KEY_ID_0114232134912410000000000000"
API_V3_KEY = "a" * 16 + "B" * 16
ALIPAY_APP_ID = "2021000000000009"


def private_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def rsa_sha256(key: rsa.RSAPrivateKey, message: str) -> str:
    return base64.b64encode(
        key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())
    ).decode()


def rsa_sha256_ok(key: rsa.RSAPrivateKey, message: str, signature: str) -> bool:
    try:
        key.public_key().verify(
            base64.b64decode(signature), message.encode(), padding.PKCS1v15(), hashes.SHA256()
        )
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass
class Keys:
    merchant: rsa.RSAPrivateKey  # WeChat Pay merchant API key (we sign with it)
    platform: rsa.RSAPrivateKey  # WeChat Pay platform key (the fake signs with it)
    stranger: rsa.RSAPrivateKey  # someone else
    alipay_app: rsa.RSAPrivateKey  # Alipay app key (we sign with it)
    alipay: rsa.RSAPrivateKey  # Alipay's key (the fake signs with it)


@pytest.fixture(scope="session")
def keys() -> Keys:
    def gen() -> rsa.RSAPrivateKey:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)

    return Keys(gen(), gen(), gen(), gen(), gen())


# --- A test-only purpose -------------------------------------------------------------------


@dataclass
class Entry:
    amount: Decimal
    member_id: int
    status: str = "open"  # open | paid | cancelled
    paid_by: int | None = None


@dataclass
class FakeOrders:
    """Plays the orders app: payables by reference, on_paid accepts once while open."""

    entries: dict[str, Entry] = field(default_factory=dict)
    paid_calls: list[tuple[str, int, bool]] = field(default_factory=list)
    refunded_calls: list[tuple[str, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, reference: str, amount: str, member: Member) -> Entry:
        entry = Entry(Decimal(amount), member.pk)
        self.entries[reference] = entry
        return entry

    def _payable(self, reference: str, entry: Entry) -> Payable:
        return Payable("order", reference, entry.amount, f"Order {reference}", entry.member_id)

    def payable_for_member(self, *, tenant: Tenant, member: Any, reference: str) -> Payable:
        entry = self.entries.get(reference)
        if entry is None or entry.member_id != member.pk:
            raise NotFoundError("No such order.")
        if entry.status != "open":
            raise ConflictError("order_not_payable", f"The order is {entry.status}.")
        return self._payable(reference, entry)

    def payable_get(self, *, tenant: Tenant, reference: str) -> Payable | None:
        entry = self.entries.get(reference)
        if entry is None or entry.status != "open":
            return None
        return self._payable(reference, entry)

    def on_paid(self, *, tenant: Tenant, reference: str, payment: Any, amount: Decimal) -> bool:
        with self.lock:
            entry = self.entries[reference]
            accepted = entry.status == "open" and amount == entry.amount
            if accepted:
                entry.status, entry.paid_by = "paid", payment.pk
            self.paid_calls.append((reference, payment.pk, accepted))
            return accepted

    def on_refunded(self, *, tenant: Tenant, reference: str, refund: Any) -> None:
        with self.lock:
            self.refunded_calls.append((reference, refund.pk))


@pytest.fixture
def orders() -> Any:
    """Registers the test purpose as "order" (what /pay uses) and restores the real one."""
    handler = FakeOrders()
    previous = purposes._HANDLERS.get("order")
    purposes.register_purpose("order", handler)
    yield handler
    if previous is not None:
        purposes.register_purpose("order", previous)
    else:
        purposes._HANDLERS.pop("order", None)


# --- Fake WeChat Pay -----------------------------------------------------------------------


class FakeWeChatPay:
    """WeChat Pay APIv3 on loopback: checks our Authorization signature, answers signed."""

    def __init__(self, server: HTTPServer, keys: Keys) -> None:
        self.server = server
        self.keys = keys
        self.requests: list[dict[str, Any]] = []
        self.trades: dict[str, dict[str, Any]] = {}  # out_trade_no -> query answer
        self.refund_status = "PROCESSING"
        self.refund_http_status = 200
        self.close_answer: tuple[int, dict[str, Any] | None] = (204, None)
        self.prepay_http_status = 200
        self.answer_key: rsa.RSAPrivateKey | None = None  # sign answers with another key
        self.answer_serial = PUBLIC_KEY_ID
        # Merchant transfers: out_bill_no -> bill; the state new bills get; HTTP failures.
        self.transfers: dict[str, dict[str, Any]] = {}
        self.transfer_state = "WAIT_USER_CONFIRM"
        self.transfer_answer: tuple[int, dict[str, Any]] | None = None  # (status, error body)
        # Trade bill of a day: bill_date -> CSV text (WeChat's format).
        self.bills: dict[str, str] = {}
        self.bill_hash_override: str | None = None
        # Profit sharing: registered receivers (name decrypted) and sharing orders.
        self.sharing_receivers: dict[tuple[str, str], dict[str, Any]] = {}
        self.sharing_orders: dict[str, dict[str, Any]] = {}
        self.sharing_state = "PROCESSING"  # state of new sharing orders
        self.sharing_answer: tuple[int, dict[str, Any]] | None = None  # (status, error body)
        self.receiver_answer: tuple[int, dict[str, Any]] | None = None  # receivers/add error
        self.receiver_delete_answer: tuple[int, dict[str, Any]] | None = None  # delete error
        server.expect_request(re.compile(r"^/v3/.*")).respond_with_handler(self._handle)

    def _signed(self, status: int, payload: dict[str, Any] | None) -> Response:
        body = json.dumps(payload) if payload is not None else ""
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        headers = {
            "Wechatpay-Serial": self.answer_serial,
            "Wechatpay-Timestamp": timestamp,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
            "Wechatpay-Signature": rsa_sha256(
                self.answer_key or self.keys.platform, f"{timestamp}\n{nonce}\n{body}\n"
            ),
        }
        return Response(body, status=status, headers=headers, content_type="application/json")

    def _authorized(self, request: Request) -> bool:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("WECHATPAY2-SHA256-RSA2048 "):
            return False
        parts = dict(re.findall(r'(\w+)="([^"]*)"', auth))
        if parts.get("mchid") != MCH_ID:
            return False
        path = request.full_path.rstrip("?")
        body = request.get_data(as_text=True)
        message = f"{request.method}\n{path}\n{parts['timestamp']}\n{parts['nonce_str']}\n{body}\n"
        return rsa_sha256_ok(self.keys.merchant, message, parts.get("signature", ""))

    def _handle(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        self.requests.append({"method": request.method, "path": request.path, "json": body})
        if not self._authorized(request):
            return self._signed(401, {"code": "SIGN_ERROR", "message": "bad signature"})
        path = request.path
        if path == "/v3/pay/transactions/jsapi":
            if self.prepay_http_status != 200:
                return self._signed(
                    self.prepay_http_status, {"code": "SYSTEM_ERROR", "message": "busy"}
                )
            self.trades[body["out_trade_no"]] = {
                "appid": body["appid"],
                "mchid": body["mchid"],
                "out_trade_no": body["out_trade_no"],
                "trade_state": "NOTPAY",
                "amount": {"total": body["amount"]["total"], "currency": "CNY"},
            }
            return self._signed(200, {"prepay_id": f"wx{secrets.token_hex(12)}"})
        match = re.match(r"^/v3/pay/transactions/out-trade-no/([^/]+)(/close)?$", path)
        if match and match.group(2):
            status, payload = self.close_answer
            return self._signed(status, payload)
        if match:
            trade = self.trades.get(match.group(1))
            if trade is None:
                return self._signed(404, {"code": "ORDER_NOT_EXIST", "message": "no"})
            return self._signed(200, trade)
        if path == "/v3/fund-app/mch-transfer/transfer-bills" and request.method == "POST":
            if self.transfer_answer is not None:
                return self._signed(*self.transfer_answer)
            bill = self.transfers.get(body["out_bill_no"])
            if bill is None:
                bill = {
                    "mch_id": MCH_ID,
                    "appid": body["appid"],
                    "out_bill_no": body["out_bill_no"],
                    "transfer_bill_no": f"1330{secrets.token_hex(12)}",
                    "state": self.transfer_state,
                    "transfer_amount": body["transfer_amount"],
                    "transfer_remark": body["transfer_remark"],
                    "openid": body["openid"],
                    "create_time": "2026-11-25T10:00:00+08:00",
                    "update_time": "2026-11-25T10:00:00+08:00",
                    "request": body,
                }
                self.transfers[body["out_bill_no"]] = bill
            answer = {
                k: bill[k] for k in ("out_bill_no", "transfer_bill_no", "create_time", "state")
            }
            if bill["state"] == "WAIT_USER_CONFIRM":
                answer["package_info"] = f"ABBQO+oYAAABAAAAAAAk{bill['out_bill_no']}"
            return self._signed(200, answer)
        match = re.match(r"^/v3/fund-app/mch-transfer/transfer-bills/out-bill-no/([^/]+)$", path)
        if match:
            bill = self.transfers.get(match.group(1))
            if bill is None:
                return self._signed(404, {"code": "NOT_FOUND", "message": "no such bill"})
            return self._signed(200, {k: v for k, v in bill.items() if k != "request"})
        if path == "/v3/bill/tradebill":
            date = request.args.get("bill_date", "")
            if date not in self.bills:
                return self._signed(400, {"code": "NO_STATEMENT_EXIST", "message": "no bill"})
            raw = self.bills[date].encode()
            return self._signed(
                200,
                {
                    "hash_type": "SHA1",
                    "hash_value": self.bill_hash_override or hashlib.sha1(raw).hexdigest(),
                    # WeChat answers its own host; we download from the configured base URL.
                    "download_url": "https://api.mch.weixin.qq.com/v3/billdownload/file"
                    f"?token=tok-{date}",
                },
            )
        if path == "/v3/billdownload/file":
            date = request.args.get("token", "").removeprefix("tok-")
            return Response(
                gzip.compress(self.bills[date].encode()),
                content_type="application/octet-stream",
            )
        if path == "/v3/refund/domestic/refunds" and request.method == "POST":
            if self.refund_http_status != 200:
                return self._signed(
                    self.refund_http_status, {"code": "SYSTEM_ERROR", "message": "busy"}
                )
            return self._signed(
                200,
                {
                    "refund_id": f"50{secrets.token_hex(8)}",
                    "out_refund_no": body["out_refund_no"],
                    "out_trade_no": body["out_trade_no"],
                    "status": self.refund_status,
                    "amount": body["amount"],
                },
            )
        if path.startswith("/v3/profitsharing/"):
            return self._profit_sharing(request, path, body)
        return self._signed(404, {"code": "NOT_FOUND", "message": path})

    # --- Profit sharing (added for item 8) ------------------------------------------------

    def _decrypt(self, value: str) -> str | None:
        try:
            return self.keys.platform.decrypt(
                base64.b64decode(value),
                padding.OAEP(
                    mgf=padding.MGF1(algorithm=hashes.SHA1()),  # WeChat's OAEP
                    algorithm=hashes.SHA1(),
                    label=None,
                ),
            ).decode()
        except ValueError:
            return None

    def _profit_sharing(self, request: Request, path: str, body: dict[str, Any]) -> Response:
        if request.method == "POST" and request.headers.get("Wechatpay-Serial") != PUBLIC_KEY_ID:
            return self._signed(400, {"code": "PARAM_ERROR", "message": "Wechatpay-Serial"})
        if path == "/v3/profitsharing/receivers/add" and request.method == "POST":
            if self.receiver_answer is not None:
                return self._signed(*self.receiver_answer)
            name = self._decrypt(body["name"]) if body.get("name") else ""
            if name is None or body.get("appid") != WECHAT_APP_ID:
                return self._signed(400, {"code": "PARAM_ERROR", "message": "name/appid"})
            self.sharing_receivers[(body["type"], body["account"])] = {**body, "name": name}
            return self._signed(200, {k: body[k] for k in ("type", "account", "relation_type")})
        if path == "/v3/profitsharing/receivers/delete" and request.method == "POST":
            if self.receiver_delete_answer is not None:
                return self._signed(*self.receiver_delete_answer)
            key = (body.get("type"), body.get("account"))
            if body.get("appid") != WECHAT_APP_ID or key not in self.sharing_receivers:
                return self._signed(400, {"code": "PARAM_ERROR", "message": "no such receiver"})
            del self.sharing_receivers[key]
            return self._signed(200, {"type": body["type"], "account": body["account"]})
        if path == "/v3/profitsharing/orders" and request.method == "POST":
            if self.sharing_answer is not None:
                return self._signed(*self.sharing_answer)
            known = self.sharing_orders.get(body["out_order_no"])
            if known is None:
                for receiver in body["receivers"]:
                    if (receiver["type"], receiver["account"]) not in self.sharing_receivers:
                        return self._signed(
                            400, {"code": "INVALID_REQUEST", "message": "receiver not added"}
                        )
                finished = self.sharing_state == "FINISHED"
                known = {
                    "transaction_id": body["transaction_id"],
                    "out_order_no": body["out_order_no"],
                    "order_id": f"3008{secrets.token_hex(10)}",
                    "state": self.sharing_state,
                    "unfreeze_unsplit": body["unfreeze_unsplit"],
                    "receivers": [
                        {
                            "type": r["type"],
                            "account": r["account"],
                            "amount": r["amount"],
                            "description": r["description"],
                            "result": "SUCCESS" if finished else "PENDING",
                        }
                        for r in body["receivers"]
                    ],
                }
                self.sharing_orders[body["out_order_no"]] = known
            answer = {k: v for k, v in known.items() if k != "unfreeze_unsplit"}
            return self._signed(200, answer)
        match = re.match(r"^/v3/profitsharing/orders/([^/]+)$", path)
        if match and request.method == "GET":
            known = self.sharing_orders.get(match.group(1))
            if known is None or request.args.get("transaction_id") != known["transaction_id"]:
                return self._signed(404, {"code": "RESOURCE_NOT_EXISTS", "message": "no"})
            return self._signed(200, {k: v for k, v in known.items() if k != "unfreeze_unsplit"})
        return self._signed(404, {"code": "NOT_FOUND", "message": path})

    def sharing_finish(self, out_order_no: str, result: str = "SUCCESS") -> None:
        """WeChat finishes a sharing order (result SUCCESS or CLOSED for every receiver)."""
        order = self.sharing_orders[out_order_no]
        order["state"] = "FINISHED"
        for receiver in order["receivers"]:
            receiver["result"] = result

    def calls(self, suffix: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"].endswith(suffix)]

    def notification(
        self,
        resource: dict[str, Any],
        *,
        event_type: str = "TRANSACTION.SUCCESS",
        key: rsa.RSAPrivateKey | None = None,
        serial: str = PUBLIC_KEY_ID,
        timestamp: int | None = None,
        api_v3_key: str = API_V3_KEY,
        associated_data: str = "transaction",
    ) -> tuple[dict[str, str], str]:
        """A notification exactly as WeChat Pay sends it: headers (as Django test client
        kwargs) and the JSON body."""
        nonce = secrets.token_hex(6)
        ciphertext = AESGCM(api_v3_key.encode()).encrypt(
            nonce.encode(), json.dumps(resource).encode(), associated_data.encode()
        )
        body = json.dumps(
            {
                "id": secrets.token_hex(16),
                "create_time": "2026-11-25T10:00:00+08:00",
                "resource_type": "encrypt-resource",
                "event_type": event_type,
                "summary": "支付成功",
                "resource": {
                    "original_type": associated_data,
                    "algorithm": "AEAD_AES_256_GCM",
                    "ciphertext": base64.b64encode(ciphertext).decode(),
                    "associated_data": associated_data,
                    "nonce": nonce,
                },
            }
        )
        ts = str(timestamp if timestamp is not None else int(time.time()))
        header_nonce = secrets.token_hex(16)
        signature = rsa_sha256(key or self.keys.platform, f"{ts}\n{header_nonce}\n{body}\n")
        headers = {
            "HTTP_WECHATPAY_SERIAL": serial,
            "HTTP_WECHATPAY_SIGNATURE": signature,
            "HTTP_WECHATPAY_TIMESTAMP": ts,
            "HTTP_WECHATPAY_NONCE": header_nonce,
            "HTTP_WECHATPAY_SIGNATURE_TYPE": "WECHATPAY2-SHA256-RSA2048",
        }
        return headers, body


def transaction_resource(payment: Payment, **overrides: Any) -> dict[str, Any]:
    resource = {
        "mchid": MCH_ID,
        "appid": WECHAT_APP_ID,
        "out_trade_no": payment.out_trade_no,
        "transaction_id": f"4200{secrets.token_hex(10)}",
        "trade_type": "JSAPI",
        "trade_state": "SUCCESS",
        "trade_state_desc": "支付成功",
        "bank_type": "OTHERS",
        "success_time": "2026-11-25T10:00:00+08:00",
        "payer": {"openid": payment.payer_id},
        "amount": {
            "total": to_fen(payment.amount),
            "payer_total": to_fen(payment.amount),
            "currency": "CNY",
            "payer_currency": "CNY",
        },
    }
    resource.update(overrides)
    return resource


# --- Fake Alipay ---------------------------------------------------------------------------


class FakeAlipay:
    """The Alipay gateway: verifies our RSA2 request signature, answers signed with its key."""

    def __init__(self, server: HTTPServer, keys: Keys) -> None:
        self.keys = keys
        self.requests: list[dict[str, Any]] = []
        self.trades: dict[str, dict[str, Any]] = {}
        self.refund_code = "10000"
        self.bills: dict[str, bytes] = {}  # bill_date -> zip archive
        self.server = server
        server.expect_request("/gateway.do").respond_with_handler(self._handle)
        server.expect_request(re.compile(r"^/alipay-bill/.*")).respond_with_handler(self._download)

    def _download(self, request: Request) -> Response:
        archive = self.bills.get(request.path.rsplit("/", 1)[-1].removesuffix(".zip"))
        if archive is None:
            return Response("no such bill", status=404)
        return Response(archive, content_type="application/zip")

    def _signed(self, method: str, inner: dict[str, Any]) -> Response:
        inner_json = json.dumps(inner, separators=(",", ":"), ensure_ascii=False)
        sign = rsa_sha256(self.keys.alipay, inner_json)
        response_type = method.replace(".", "_") + "_response"
        body = f'{{"{response_type}":{inner_json},"sign":"{sign}"}}'
        return Response(body, content_type="application/json;charset=utf-8")

    def _handle(self, request: Request) -> Response:
        params = dict(parse_qsl(request.query_string.decode(), keep_blank_values=True))
        sign = params.pop("sign", "")
        message = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
        biz = json.loads(params.get("biz_content") or "{}")
        method = params.get("method", "")
        self.requests.append({"method": method, "biz": biz, "params": params})
        if params.get("app_id") != ALIPAY_APP_ID or not rsa_sha256_ok(
            self.keys.alipay_app, message, sign
        ):
            return self._signed(
                method,
                {"code": "40002", "msg": "Invalid Arguments", "sub_code": "isv.invalid-signature"},
            )
        if method == "alipay.trade.create":
            trade_no = f"2026{secrets.token_hex(10)}"
            self.trades[biz["out_trade_no"]] = {
                "trade_no": trade_no,
                "status": "WAIT_BUYER_PAY",
                "total_amount": biz["total_amount"],
            }
            return self._signed(
                method,
                {
                    "code": "10000",
                    "msg": "Success",
                    "out_trade_no": biz["out_trade_no"],
                    "trade_no": trade_no,
                },
            )
        if method == "alipay.data.dataservice.bill.downloadurl.query":
            if biz.get("bill_date") not in self.bills:
                return self._signed(
                    method,
                    {"code": "40004", "msg": "Business Failed", "sub_code": "isp.bill_not_exist"},
                )
            url = self.server.url_for(f"/alipay-bill/{biz['bill_date']}.zip")
            return self._signed(
                method, {"code": "10000", "msg": "Success", "bill_download_url": url}
            )
        trade = self.trades.get(biz.get("out_trade_no", ""))
        if trade is None:
            return self._signed(
                method,
                {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_NOT_EXIST"},
            )
        if method == "alipay.trade.query":
            return self._signed(
                method,
                {
                    "code": "10000",
                    "msg": "Success",
                    "out_trade_no": biz["out_trade_no"],
                    "trade_no": trade["trade_no"],
                    "trade_status": trade["status"],
                    "total_amount": trade["total_amount"],
                    "buyer_user_id": "2088000000000001",
                },
            )
        if method == "alipay.trade.close":
            trade["status"] = "TRADE_CLOSED"
            return self._signed(method, {"code": "10000", "msg": "Success"})
        if method == "alipay.trade.refund":
            if self.refund_code != "10000":
                return self._signed(
                    method,
                    {
                        "code": self.refund_code,
                        "msg": "Business Failed",
                        "sub_code": "ACQ.SYSTEM_ERROR",
                    },
                )
            return self._signed(
                method,
                {
                    "code": "10000",
                    "msg": "Success",
                    "trade_no": trade["trade_no"],
                    "fund_change": "Y",
                    "refund_fee": biz["refund_amount"],
                },
            )
        return self._signed(
            method, {"code": "40002", "msg": "Invalid Arguments", "sub_code": "isv.invalid-method"}
        )

    def calls(self, method: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["method"] == method]

    def notification(
        self, payment: Payment, *, key: rsa.RSAPrivateKey | None = None, **overrides: str
    ) -> dict[str, str]:
        """An async notification as Alipay posts it: RSA2 over the sorted k=v pairs without
        sign and sign_type."""
        data = {
            "notify_time": "2026-11-25 10:00:00",
            "notify_type": "trade_status_sync",
            "notify_id": secrets.token_hex(16),
            "charset": "utf-8",
            "version": "1.0",
            "app_id": ALIPAY_APP_ID,
            "out_trade_no": payment.out_trade_no,
            "trade_no": payment.prepay_id or f"2026{secrets.token_hex(10)}",
            "trade_status": "TRADE_SUCCESS",
            "total_amount": str(payment.amount),
            "receipt_amount": str(payment.amount),
            "buyer_id": "2088000000000001",
            "seller_id": "2088000000000002",
            "gmt_payment": "2026-11-25 10:00:00",
            "subject": payment.subject,
        }
        data.update(overrides)
        message = "&".join(f"{k}={v}" for k, v in sorted(data.items()))
        data["sign"] = rsa_sha256(key or self.keys.alipay, message)
        data["sign_type"] = "RSA2"
        return data


@pytest.fixture
def gateways(httpserver: HTTPServer, settings: Any, keys: Keys) -> tuple[FakeWeChatPay, FakeAlipay]:
    settings.WECHATPAY_API_BASE_URL = httpserver.url_for("").rstrip("/")
    settings.ALIPAY_GATEWAY_URL = httpserver.url_for("/gateway.do")
    settings.PAYMENTS_NOTIFY_BASE_URL = "https://mall.example.com"
    return FakeWeChatPay(httpserver, keys), FakeAlipay(httpserver, keys)


@pytest.fixture
def wechatpay(gateways: tuple[FakeWeChatPay, FakeAlipay]) -> FakeWeChatPay:
    return gateways[0]


@pytest.fixture
def alipay(gateways: tuple[FakeWeChatPay, FakeAlipay]) -> FakeAlipay:
    return gateways[1]


@pytest.fixture
def wechat_config(tenant: Tenant, keys: Keys) -> GatewayConfig:
    return gateway_config_set(
        tenant=tenant,
        gateway="wechat",
        app_id=WECHAT_APP_ID,
        mch_id=MCH_ID,
        serial_no="5157F09EFDC096DE15EBE81A47057A7232F1B8E1",
        private_key=private_pem(keys.merchant),
        api_v3_key=API_V3_KEY,
        public_key=public_pem(keys.platform),
        public_key_id=PUBLIC_KEY_ID,
    )


@pytest.fixture
def alipay_config(tenant: Tenant, keys: Keys) -> GatewayConfig:
    # The keys go on the tenant's Alipay channel of that app id (one key pair per app).
    ChannelFactory(tenant=tenant, platform="alipay", app_id=ALIPAY_APP_ID, app_secret="")
    return gateway_config_set(
        tenant=tenant,
        gateway="alipay",
        app_id=ALIPAY_APP_ID,
        private_key=private_pem(keys.alipay_app),
        public_key=public_pem(keys.alipay),
    )


@pytest.fixture
def buyer(tenant: Tenant) -> Member:
    member = MemberFactory(tenant=tenant, nickname="buyer")
    MemberIdentityFactory(member=member, app_id=WECHAT_APP_ID, openid="o-buyer-openid")
    MemberIdentityFactory(
        member=member, platform="alipay", app_id=ALIPAY_APP_ID, openid="2088000000000001"
    )
    return member


@pytest.fixture
def buyer_api(channel: Any, buyer: Member) -> Any:
    return shopper_client(channel.app_id, access_token_for(buyer))


def pay(client: Any, number: str, gateway: str) -> Any:
    return client.post(f"/api/v1/orders/{number}/pay", {"gateway": gateway}, format="json")


def wechat_notify(client: Any, slug: str, headers: dict[str, str], body: str, refund: bool = False):
    path = f"/api/v1/payments/notify/wechat/{slug}" + ("/refund" if refund else "")
    return client.post(path, data=body, content_type="application/json", **headers)
