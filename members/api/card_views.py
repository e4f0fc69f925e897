"""Shopper API of member cards: the plans on sale (buying one: ``payments.api.card_views``)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response

from mall.api.authentication import MemberTokenAuthentication
from mall.http import TenantRequest
from members.api.card_serializers import MemberCardPlanSerializer
from members.cards.selectors import card_plan_list_active
from members.models import MemberCardPlan


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
        description="The shop's active paid membership plans (paginated, in display order): "
        "card price rate, free shipping, points multiplier; `benefits`: other benefits as "
        "written by the shop. The coupon pack of the card in force: GET /me/card.",
        responses={200: MemberCardPlanSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(MemberCardPlanSerializer(page, many=True).data)
