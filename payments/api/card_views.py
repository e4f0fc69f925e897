"""Buying a member card: creates the purchase (``members``) and starts its payment.

Members sit below payments and never import it, so the purchase endpoint lives here, beside
``POST /orders/{number}/pay``; the plans on sale stay in ``members.api.card_views``."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response

from mall.api.idempotency import idempotent
from mall.api.views import MemberAPIView
from mall.http import TenantRequest
from members.services import cards
from payments.api.serializers import CardPurchaseOutputSerializer, PayInputSerializer
from payments.collection import services as payment_services


class MemberCardPurchaseView(MemberAPIView):
    @extend_schema(
        operation_id="member_cards_purchase",
        summary="Buy a member card plan",
        description="Creates a pending card purchase (`reference` `card:<id>`; a repeated call "
        "while it is unpaid answers the same purchase) and starts its payment: the answer "
        "carries the same pay params as POST /orders/{number}/pay. Paid, the member's card "
        "starts now or is extended from its current end. 404 unknown/foreign/inactive plan, "
        "422 `gateway_not_configured` / `payer_unknown`, 502 gateway unavailable. Accepts "
        "`Idempotency-Key`.",
        request=PayInputSerializer,
        responses={
            200: CardPurchaseOutputSerializer,
            400: OpenApiResponse(description="invalid input"),
            401: OpenApiResponse(description="member token required"),
            404: OpenApiResponse(description="no such plan"),
            422: OpenApiResponse(description="gateway not configured / payer unknown"),
            502: OpenApiResponse(description="gateway unavailable"),
        },
    )
    @idempotent
    def post(self, request: TenantRequest, plan_id: int) -> Response:
        data = PayInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        purchase = cards.card_purchase_create(
            tenant=request.tenant, member=self.member, plan_id=plan_id
        )
        started = payment_services.payment_start(
            tenant=request.tenant,
            member=self.member,
            purpose=cards.CARD_PURPOSE,
            reference=purchase.reference,
            gateway=data.validated_data["gateway"],
            channel=request.channel,
        )
        body = {
            **started.answer,
            "out_trade_no": started.payment.out_trade_no,
            "amount": str(started.payment.amount),
            "reference": purchase.reference,
            "purchase_status": purchase.status,
            "expires_at": purchase.expires_at,
        }
        return Response(CardPurchaseOutputSerializer(body).data)
