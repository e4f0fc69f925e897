"""WeChat shipping information upload: what is sent to /wxa/sec/order/upload_shipping_info
(on WECHAT_API_BASE_URL, with the mini program access token), retries until accepted, failed
after the last attempt and retryable from the console; Alipay payables need nothing."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from mall.api.errors import ApplicationError
from payments.models import Payment, ShippingUpload
from payments.shipping import services as shipping_service
from payments.shipping.services import (
    shipping_info_upload_for,
    shipping_upload_retry,
    shipping_uploads_retry,
)
from tests.payments.conftest import MCH_ID, WECHAT_APP_ID

pytestmark = pytest.mark.django_db


class FakeWeChatAPI:
    """The mini program server API: access tokens and the shipping upload."""

    def __init__(self, server: HTTPServer, app_id: str, secret: str) -> None:
        self.app_id, self.secret = app_id, secret
        self.uploads: list[dict[str, Any]] = []
        self.token_fetches = 0
        self.answers: list[dict[str, Any] | int] = []  # next answers (errcode dicts or HTTP)
        server.expect_request("/cgi-bin/token").respond_with_handler(self._token)
        server.expect_request("/wxa/sec/order/upload_shipping_info").respond_with_handler(
            self._upload
        )

    def _token(self, request: Request) -> Response:
        args = request.args
        if args.get("appid") != self.app_id or args.get("secret") != self.secret:
            return Response(json.dumps({"errcode": 40125, "errmsg": "invalid appsecret"}))
        self.token_fetches += 1
        return Response(
            json.dumps({"access_token": f"TOKEN{self.token_fetches}", "expires_in": 7200}),
            content_type="application/json",
        )

    def _upload(self, request: Request) -> Response:
        if request.method != "POST" or not request.args.get("access_token", "").startswith("TOKEN"):
            return Response(json.dumps({"errcode": 40001, "errmsg": "invalid credential"}))
        self.uploads.append(json.loads(request.get_data(as_text=True)))
        answer = self.answers.pop(0) if self.answers else {"errcode": 0, "errmsg": "ok"}
        if isinstance(answer, int):
            return Response("busy", status=answer)
        return Response(json.dumps(answer), content_type="application/json")


@pytest.fixture
def wechat_api(httpserver: HTTPServer, settings: Any, channel: Any) -> FakeWeChatAPI:
    settings.WECHAT_API_BASE_URL = httpserver.url_for("").rstrip("/")
    return FakeWeChatAPI(httpserver, channel.app_id, channel.app_secret)


def paid(tenant: Any, reference: str, gateway: str = "wechat", **kw: Any) -> Payment:
    defaults = {
        "tenant": tenant,
        "purpose": "order",
        "reference": reference,
        "gateway": gateway,
        "out_trade_no": f"P{reference}",
        "amount": Decimal("30.00"),
        "status": "succeeded",
        "purpose_accepted": True,
        "subject": f"Order {reference}",
        "app_id": WECHAT_APP_ID,
        "mch_id": MCH_ID,
        "transaction_id": f"4200{reference}",
        "payer_id": "o-buyer-openid",
        "paid_at": timezone.now(),
    }
    defaults.update(kw)
    return Payment.objects.create(**defaults)


def ship(tenant: Any, reference: str, capture: Any, **shipment: Any) -> ShippingUpload | None:
    with capture(execute=True):
        return shipping_info_upload_for(
            tenant=tenant, purpose="order", reference=reference, shipment=shipment
        )


def test_express_shipment_is_uploaded_once_with_the_wechat_fields(
    tenant: Any, wechat_api: FakeWeChatAPI, django_capture_on_commit_callbacks: Any
) -> None:
    paid(tenant, "N1")
    upload = ship(
        tenant,
        "N1",
        django_capture_on_commit_callbacks,
        kind="express",
        shipment_id=7,
        carrier="shunfeng",
        tracking_no="SF1234567890",
        receiver_phone="13912345678",
    )
    assert upload is not None
    upload.refresh_from_db()
    assert upload.status == "accepted" and upload.accepted_version == 1
    (sent,) = wechat_api.uploads
    assert sent["order_key"] == {"order_number_type": 2, "transaction_id": "4200N1"}
    assert sent["logistics_type"] == 1 and sent["delivery_mode"] == 1
    assert sent["shipping_list"] == [
        {
            "item_desc": "Order N1",
            "tracking_no": "SF1234567890",
            "express_company": "SF",
            "contact": {"receiver_contact": "139****5678"},
        }
    ]
    assert sent["payer"] == {"openid": "o-buyer-openid"} and "is_all_delivered" not in sent
    assert sent["upload_time"][:4].isdigit() and "T" in sent["upload_time"]
    # The same shipment again: nothing new is uploaded.
    ship(
        tenant,
        "N1",
        django_capture_on_commit_callbacks,
        kind="express",
        shipment_id=7,
        carrier="shunfeng",
        tracking_no="SF1234567890",
    )
    assert len(wechat_api.uploads) == 1


def test_split_shipments_are_uploaded_cumulatively_until_all_delivered(
    tenant: Any, wechat_api: FakeWeChatAPI, django_capture_on_commit_callbacks: Any
) -> None:
    paid(tenant, "N2", transaction_id="")
    first = {"kind": "express", "carrier": "yuantong", "tracking_no": "YT1", "shipment_id": 1}
    ship(tenant, "N2", django_capture_on_commit_callbacks, complete=False, **first)
    second = {"kind": "express", "carrier": "zto", "tracking_no": "ZT2", "shipment_id": 2}
    ship(tenant, "N2", django_capture_on_commit_callbacks, complete=True, **second)
    one, two = wechat_api.uploads
    assert one["order_key"] == {"order_number_type": 1, "mchid": MCH_ID, "out_trade_no": "PN2"}
    assert one["delivery_mode"] == 2 and one["is_all_delivered"] is False
    assert [p["tracking_no"] for p in two["shipping_list"]] == ["YT1", "ZT2"]
    assert [p["express_company"] for p in two["shipping_list"]] == ["YTO", "ZTO"]
    assert two["is_all_delivered"] is True
    upload = ShippingUpload.objects.get()
    assert upload.status == "accepted" and upload.accepted_version == 2


def test_same_city_and_pickup_have_their_logistics_types(
    tenant: Any, wechat_api: FakeWeChatAPI, django_capture_on_commit_callbacks: Any
) -> None:
    paid(tenant, "N3")
    paid(tenant, "N4")
    ship(tenant, "N3", django_capture_on_commit_callbacks, kind="same_city", shipment_id=3)
    ship(tenant, "N4", django_capture_on_commit_callbacks, kind="pickup")
    city, pickup = wechat_api.uploads
    assert city["logistics_type"] == 2 and "tracking_no" not in city["shipping_list"][0]
    assert pickup["logistics_type"] == 4


def test_failures_are_retried_with_backoff_until_accepted(
    tenant: Any, wechat_api: FakeWeChatAPI, django_capture_on_commit_callbacks: Any
) -> None:
    paid(tenant, "N5")
    wechat_api.answers = [{"errcode": -1, "errmsg": "system busy"}, 502]
    upload = ship(tenant, "N5", django_capture_on_commit_callbacks, kind="pickup")
    upload.refresh_from_db()
    assert upload.status == "pending" and "errcode -1" in upload.last_error
    assert upload.next_attempt_at > timezone.now()
    assert shipping_uploads_retry() == 0  # not due yet
    ShippingUpload.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert shipping_uploads_retry() == 0  # HTTP 502: still pending
    upload.refresh_from_db()
    assert upload.status == "pending" and upload.attempts == 2
    ShippingUpload.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert shipping_uploads_retry() == 1
    upload.refresh_from_db()
    assert upload.status == "accepted" and upload.attempts == 3 and upload.last_error == ""


def test_gives_up_after_the_last_attempt_and_the_console_can_retry(
    tenant: Any,
    wechat_api: FakeWeChatAPI,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: Any,
) -> None:
    monkeypatch.setattr(shipping_service, "SHIPPING_MAX_ATTEMPTS", 1)
    paid(tenant, "N6")
    wechat_api.answers = [{"errcode": 10060001, "errmsg": "payment not found"}]
    upload = ship(tenant, "N6", django_capture_on_commit_callbacks, kind="pickup")
    upload.refresh_from_db()
    assert upload.status == "failed" and "10060001" in upload.last_error
    assert shipping_uploads_retry() == 0
    assert shipping_upload_retry(tenant=tenant, upload_id=upload.pk).status == "accepted"
    with pytest.raises(ApplicationError):
        shipping_upload_retry(tenant=tenant, upload_id=upload.pk)


def test_missing_app_secret_is_a_failure_not_a_success(
    tenant: Any, channel: Any, wechat_api: FakeWeChatAPI, django_capture_on_commit_callbacks: Any
) -> None:
    channel.app_secret = ""
    channel.save()
    paid(tenant, "N7")
    upload = ship(tenant, "N7", django_capture_on_commit_callbacks, kind="pickup")
    upload.refresh_from_db()
    assert upload.status == "pending" and "app secret" in upload.last_error
    assert wechat_api.uploads == []


def test_alipay_unpaid_and_sandbox_payables(
    tenant: Any, wechat_api: FakeWeChatAPI, django_capture_on_commit_callbacks: Any
) -> None:
    paid(tenant, "A1", gateway="alipay")
    assert ship(tenant, "A1", django_capture_on_commit_callbacks, kind="pickup") is None
    assert ship(tenant, "UNPAID", django_capture_on_commit_callbacks, kind="pickup") is None
    paid(tenant, "S1", gateway="sandbox")
    sandbox = ship(tenant, "S1", django_capture_on_commit_callbacks, kind="pickup")
    sandbox.refresh_from_db()
    assert sandbox.status == "accepted"
    assert wechat_api.uploads == []
    paid(tenant, "N8")
    for bad in ({"kind": "drone"}, {"kind": "express", "carrier": "sf"}):
        with pytest.raises(ApplicationError):
            ship(tenant, "N8", django_capture_on_commit_callbacks, **bad)
    assert ShippingUpload.objects.filter(reference="N8").count() == 0
