"""Shopper API of member cards: the plans on sale, and buying one."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response

from mall.api.authentication import MemberTokenAuthentication
from mall.api.idempotency import idempotent
from mall.api.views import MemberAPIView
from mall.http import TenantRequest
from members.api.card_serializers import CardPurchaseOutputSerializer, MemberCardPlanSerializer
from members.cards.selectors import card_plan_list_active
from members.models import MemberCardPlan
from members.services import cards
from payments import services as payment_services
from payments.api.serializers import PayInputSerializer


class MemberCardPlanListView(generics.GenericAPIView):
    """Public (member optional), tenant from X-App-Id."""

    request: TenantRequest
    authentication_classes = [MemberTokenAuthentication]
    permission_classes: list[Any] = []
    serializer_class = MemberCardPlanSerializer

    def get_queryset(self) -> QuerySet[MemberCardPlan]:
        return card_plan_list_active(tenant=self.request.tenant)

    @extend_schema(
        operation_id="member_cards_list",
        summary="Member card plans on sale",
        description="The shop's active paid membership plans (paginated, in display order). "
        "`benefits` is defined by the members issue.",
        responses={200: MemberCardPlanSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(MemberCardPlanSerializer(page, many=True).data)


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
