"""Payments API: the buyer's /pay, the gateway callbacks, and the sandbox demo completion.

Callbacks are plain (csrf-exempt) DRF views with no authentication and no throttling: the
tenant comes from the path slug, trust from the gateway signature.
"""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mall.api.errors import (
    ConflictError,
    ErrorCode,
    ForbiddenError,
    NotFoundError,
)
from mall.api.idempotency import idempotent
from mall.api.schema import ErrorSerializer
from mall.api.views import MemberAPIView
from mall.http import TenantRequest
from mall.tenancy.sandbox import sandbox_allowed
from payments.api.serializers import (
    PayInputSerializer,
    PayoutOutputSerializer,
    PayOutputSerializer,
    SandboxCompleteOutputSerializer,
)
from payments.collection.notifications import (
    NotificationAnswer,
    notification_handle_alipay,
    notification_handle_wechat,
    notification_handle_wechat_transfer,
)
from payments.collection.sandbox import sandbox_payment_complete
from payments.collection.services import payment_start
from payments.errors import PaymentErrorCode
from payments.models import Gateway
from payments.payouts.services import payout_confirmation_params
from payments.selectors import payout_for_member, sandbox_payment_for_member

logger = logging.getLogger(__name__)

ORDER_PURPOSE = "order"


class OrderPayView(MemberAPIView):
    @extend_schema(
        operation_id="order_pay",
        summary="Pay an order",
        description="Creates (or reuses, while still valid) the gateway payment of the order and "
        "answers what the mini program needs: WeChat `{gateway, params}` for wx.requestPayment "
        "(signed with the merchant key), Alipay `{gateway, trade_no}` for my.tradePay, sandbox "
        "both. 404 unknown/foreign order, 409 not payable now, 422 `gateway_not_configured` / "
        "`payer_unknown` (no identity on that platform), 502 gateway unavailable. Accepts "
        "`Idempotency-Key`.",
        request=PayInputSerializer,
        responses={
            200: PayOutputSerializer,
            400: OpenApiResponse(description="invalid input"),
            404: OpenApiResponse(description="no such order"),
            409: OpenApiResponse(description="not payable now"),
            422: OpenApiResponse(description="gateway not configured / payer unknown"),
            502: OpenApiResponse(description="gateway unavailable"),
        },
    )
    @idempotent
    def post(self, request: TenantRequest, number: str) -> Response:
        data = PayInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        started = payment_start(
            tenant=request.tenant,
            member=self.member,
            purpose=ORDER_PURPOSE,
            reference=number,
            gateway=data.validated_data["gateway"],
            channel=request.channel,
        )
        body = {
            **started.answer,
            "out_trade_no": started.payment.out_trade_no,
            "amount": str(started.payment.amount),
        }
        return Response(PayOutputSerializer(body).data)


def _wechat_answer(answer: NotificationAnswer) -> HttpResponse:
    if answer.ok:
        return HttpResponse(status=204)
    return _wechat_fail(answer.message, answer.status)


def _wechat_fail(message: str, status: int) -> JsonResponse:
    """WeChat Pay reads ``code``/``message`` (and retries on any non-2xx); ``error`` is the
    project's error envelope for everyone else."""
    message = message[:200]
    return JsonResponse(
        {
            "code": "FAIL",
            "message": message,
            "error": {"code": "notification_rejected", "message": message, "details": {}},
        },
        status=status,
    )


def _headers(request: Request) -> dict[str, str]:
    return {k: v for k, v in request.headers.items() if k.lower().startswith("wechatpay-")}


def _body(request: Request) -> str | None:
    try:
        return request.body.decode("utf-8")
    except UnicodeDecodeError:
        return None


class CallbackView(APIView):
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []
    throttle_classes: list[Any] = []


CALLBACK_RESPONSES = {
    204: OpenApiResponse(description="accepted (WeChat Pay expects an empty 2xx)"),
    400: OpenApiResponse(description='{"code": "FAIL", "message": ...}: does not match'),
    401: OpenApiResponse(description='{"code": "FAIL", ...}: signature, serial or timestamp'),
    404: OpenApiResponse(description='{"code": "FAIL", ...}: unknown tenant or trade'),
}


class WeChatNotifyView(CallbackView):
    gateway = Gateway.WECHAT
    kind = "payment"

    @extend_schema(
        operation_id="payments_notify_wechat",
        summary="WeChat Pay payment notification",
        description="Verified (platform key serial, 5 minute timestamp window, RSA-SHA256 "
        "signature, AES-256-GCM resource), matched (mch id, app id, out_trade_no, amount), "
        "then applied once. Never throttled.",
        request=None,
        responses=CALLBACK_RESPONSES,
        auth=[],
    )
    def post(self, request: Request, slug: str) -> HttpResponse:
        body = _body(request)
        if body is None:
            return _wechat_fail("body is not UTF-8", 400)
        answer = notification_handle_wechat(
            tenant_slug=slug,
            headers=_headers(request),
            body=body,
            kind=self.kind,
            gateway=self.gateway,
        )
        return _wechat_answer(answer)


class WeChatRefundNotifyView(WeChatNotifyView):
    kind = "refund"

    @extend_schema(
        operation_id="payments_notify_wechat_refund",
        summary="WeChat Pay refund notification",
        description="Verified like payment notifications; finalises the refund once.",
        request=None,
        responses=CALLBACK_RESPONSES,
        auth=[],
    )
    def post(self, request: Request, slug: str) -> HttpResponse:
        return super().post(request, slug)


class WeChatTransferNotifyView(CallbackView):
    @extend_schema(
        operation_id="payments_notify_wechat_transfer",
        summary="WeChat Pay merchant transfer notification (payouts)",
        description="Verified like payment notifications (serial, timestamp window, signature, "
        "AES-256-GCM resource); mch id, out_bill_no, amount and payee matched; the payout is "
        "finalised once. Never throttled.",
        request=None,
        responses=CALLBACK_RESPONSES,
        auth=[],
    )
    def post(self, request: Request, slug: str) -> HttpResponse:
        body = _body(request)
        if body is None:
            return _wechat_fail("body is not UTF-8", 400)
        answer = notification_handle_wechat_transfer(
            tenant_slug=slug, headers=_headers(request), body=body
        )
        return _wechat_answer(answer)


class SandboxNotifyView(WeChatNotifyView):
    gateway = Gateway.SANDBOX

    @extend_schema(
        operation_id="payments_notify_sandbox",
        summary="Sandbox gateway notification (WeChat Pay format, sandbox keys)",
        description="Only when DEBUG or MALL_ALLOW_SANDBOX=1 (else 403).",
        request=None,
        responses={
            **CALLBACK_RESPONSES,
            403: OpenApiResponse(description='{"code": "FAIL", ...}: the sandbox is disabled'),
        },
        auth=[],
    )
    def post(self, request: Request, slug: str) -> HttpResponse:
        if not sandbox_allowed():
            return _wechat_fail("sandbox disabled", 403)
        return super().post(request, slug)


class AlipayNotifyView(CallbackView):
    @extend_schema(
        operation_id="payments_notify_alipay",
        summary="Alipay async notification",
        description="Form fields verified with the tenant's Alipay public key (RSA2), app id "
        "and amount checked, TRADE_SUCCESS / TRADE_FINISHED applied once. Answers the plain "
        "text `success`; `fail` with an error status otherwise. Never throttled.",
        request=None,
        responses={
            (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="`success`"),
            (400, "text/plain"): OpenApiResponse(
                OpenApiTypes.STR, description="`fail`: the form does not match"
            ),
            (401, "text/plain"): OpenApiResponse(
                OpenApiTypes.STR, description="`fail`: the signature does not verify"
            ),
            (404, "text/plain"): OpenApiResponse(
                OpenApiTypes.STR, description="`fail`: unknown tenant, gateway or trade"
            ),
            # A path that is no route (not a slug) is the API's JSON 404.
            (404, "application/json"): OpenApiResponse(ErrorSerializer, description="no route"),
        },
        auth=[],
    )
    def post(self, request: Request, slug: str) -> HttpResponse:
        form = request._request.POST.dict()
        answer = notification_handle_alipay(tenant_slug=slug, form=form)
        if answer.ok:
            return HttpResponse("success", content_type="text/plain")
        return HttpResponse("fail", status=answer.status, content_type="text/plain")


class SandboxCompleteView(MemberAPIView):
    @extend_schema(
        operation_id="payments_sandbox_complete",
        summary="Sandbox: complete a payment (demo)",
        description="The sandbox gateway 'pays' the caller's sandbox payment: it delivers a "
        "signed notification through the same verification and transition code as a real one. "
        "Only when DEBUG or MALL_ALLOW_SANDBOX=1 (else 403 `sandbox_disabled`).",
        request=None,
        responses={200: SandboxCompleteOutputSerializer, 403: OpenApiResponse(), 404: None},
    )
    def post(self, request: TenantRequest, out_trade_no: str) -> Response:
        if not sandbox_allowed():
            raise ForbiddenError(PaymentErrorCode.SANDBOX_DISABLED, _("The sandbox is disabled."))
        payment = sandbox_payment_for_member(
            tenant=request.tenant, member=self.member, out_trade_no=out_trade_no
        )
        if payment is None:
            raise NotFoundError(_("No such sandbox payment."), code=ErrorCode.NOT_FOUND)
        answer = sandbox_payment_complete(tenant=request.tenant, payment=payment)
        if not answer.ok:
            raise ConflictError("sandbox_failed", answer.message)
        payment.refresh_from_db()
        return Response(
            SandboxCompleteOutputSerializer(
                {
                    "out_trade_no": payment.out_trade_no,
                    "status": payment.status,
                    "purpose_accepted": payment.purpose_accepted,
                }
            ).data
        )


class PayoutDetailView(MemberAPIView):
    @extend_schema(
        operation_id="payments_payout_detail",
        summary="One of my payouts (e.g. a withdrawal), with what confirming it needs",
        description="WeChat Pay merchant transfers wait for the member to confirm receipt: "
        "while `status` is `waiting_confirmation`, `confirmation` holds `mchId`, `appId` and "
        "`package` for `wx.requestMerchantTransfer`. Another member's or tenant's payout: 404.",
        request=None,
        responses={200: PayoutOutputSerializer, 404: OpenApiResponse(description="no such payout")},
    )
    def get(self, request: TenantRequest, out_bill_no: str) -> Response:
        payout = payout_for_member(
            tenant=request.tenant, member=self.member, out_bill_no=out_bill_no
        )
        if payout is None:
            raise NotFoundError(_("No such payout."), code=ErrorCode.NOT_FOUND)
        body = {
            "out_bill_no": payout.out_bill_no,
            "amount": payout.amount,
            "status": payout.status,
            "reference": payout.reference,
            "fail_reason": payout.fail_reason,
            "confirmation": payout_confirmation_params(payout=payout),
        }
        return Response(PayoutOutputSerializer(body).data)
