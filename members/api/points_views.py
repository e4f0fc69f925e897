"""Points endpoints: the member's balance and ledger, the merchant's adjustment."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from mall.api.idempotency import idempotent
from mall.api.views import MemberGenericAPIView, MerchantGenericAPIView
from mall.tenancy.models import ApiKey
from mall.tenancy.scoping import access_by_id
from members.api.points_serializers import (
    PointsAdjustInputSerializer,
    PointsAdjustSerializer,
    PointsLedgerRowSerializer,
    PointsPageSerializer,
)
from members.models import Member
from members.points import selectors, services


class MePointsView(MemberGenericAPIView):
    serializer_class = PointsLedgerRowSerializer

    @extend_schema(
        operation_id="me_points",
        summary="Points: balance, debt, what expires soon, and the ledger (newest first)",
        parameters=[OpenApiParameter("page", int, required=False)],
        responses={200: PointsPageSerializer},
    )
    def get(self, request: Request) -> Response:
        member = self.member
        page = self.paginate_queryset(selectors.points_ledger_for_member(member=member))
        response = self.get_paginated_response(PointsLedgerRowSerializer(page, many=True).data)
        response.data = {
            "balance": member.points,
            "debt": member.points_debt,
            "expiring_soon": [
                {"points": row["points"], "expires_at": row["expires_at"]}
                for row in selectors.points_expiring_soon(member=member)
            ],
            **response.data,
        }
        return Response(PointsPageSerializer(response.data).data)


class MerchantMemberPointsView(MerchantGenericAPIView):
    required_scope = ApiKey.Scope.MEMBERS
    serializer_class = PointsAdjustSerializer

    @extend_schema(
        operation_id="merchant_member_points_adjust",
        summary="Adjust a member's points with a reason",
        description="A positive `delta` is an earning (a lot with the shop's expiry, paying off "
        "debt first); a negative one takes from the lots oldest first and answers 409 "
        "`insufficient_points` when the balance is short. Send an `Idempotency-Key`.",
        request=PointsAdjustInputSerializer,
        responses={
            201: PointsAdjustSerializer,
            404: OpenApiResponse(description="No such member"),
            409: OpenApiResponse(description="insufficient_points"),
        },
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        data = PointsAdjustInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = access_by_id(Member, tenant=self.tenant, id=pk, message=_("No such member."))
        entry = services.points_adjust(
            tenant=self.tenant,
            member_id=member.pk,
            delta=data.validated_data["delta"],
            note=data.validated_data["reason"],
            actor=f"apikey:{request.auth.pk if request.auth is not None else 0}",
        )
        return Response(PointsAdjustSerializer(entry).data, status=status.HTTP_201_CREATED)
