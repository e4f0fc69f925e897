"""Distributor centre API (thin: services and selectors do the work)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from catalog.models import Product
from distribution import posters, selectors, services
from distribution.api.serializers import (
    ApplyInSerializer,
    BindInSerializer,
    BindOutSerializer,
    CommissionOutSerializer,
    CommissionQuerySerializer,
    DistributorOutSerializer,
    MeOutSerializer,
    PosterQuerySerializer,
    TeamMemberOutSerializer,
    WithdrawalInSerializer,
    WithdrawalOutSerializer,
)
from distribution.models import Distributor, Withdrawal
from mall.api.errors import ConflictError, NotFoundError
from mall.api.idempotency import idempotent
from mall.api.pagination import PageNumberPagination
from mall.api.views import MemberAPIView

ERRORS = {
    400: OpenApiResponse(description="Invalid input (error shape)"),
    401: OpenApiResponse(description="Missing, invalid, expired or foreign token"),
    404: OpenApiResponse(description="Not found or another shop's (error shape)"),
    409: OpenApiResponse(description="Conflict: state (error shape)"),
    422: OpenApiResponse(description="Business rule (error shape)"),
}
IDEMPOTENCY_HEADER = OpenApiParameter(
    name="Idempotency-Key", type=str, location=OpenApiParameter.HEADER, required=False
)


def _paginate(view: Any, request: Request, items: Any, serializer: Any, context: dict) -> Response:
    paginator = PageNumberPagination()
    page = paginator.paginate_queryset(items, request, view=view)
    return paginator.get_paginated_response(serializer(page, many=True, context=context).data)


class ApplyView(MemberAPIView):
    @extend_schema(
        operation_id="distribution_apply",
        summary="Become a distributor",
        description="Under the shop's recruitment rule: `anyone` approves at once, `approval` "
        "waits for the console, `spending` needs the minimum spent (422 `not_eligible`), "
        "`invitation` needs `invite_code` (422 `invitation_required`). 409 "
        "`already_distributor`; 422 `distribution_disabled`.",
        request=ApplyInSerializer,
        responses={201: DistributorOutSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = ApplyInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        distributor = services.distributor_apply(
            tenant=self.tenant, member=self.member, invite_code=data.validated_data["invite_code"]
        )
        return Response(DistributorOutSerializer(distributor).data, status=201)


class BindView(MemberAPIView):
    @extend_schema(
        operation_id="distribution_bind",
        summary="Bind to the distributor of a share link or poster",
        description="First touch keeps an existing owner while its lock lasts (`changed: "
        "false`); last touch rebinds. 404 `unknown_share_code`; 422 `self_binding`, "
        "`binding_cycle` (a distributor of your own team).",
        request=BindInSerializer,
        responses={200: BindOutSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = BindInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        binding, changed = services.binding_bind(
            tenant=self.tenant, member=self.member, code=data.validated_data["code"]
        )
        owner = (
            Distributor.objects.for_tenant(self.tenant)
            .select_related("member")
            .get(pk=binding.distributor_id)
        )
        return Response(
            BindOutSerializer(
                {
                    "changed": changed,
                    "distributor_share_code": owner.share_code,
                    "distributor_nickname": owner.member.nickname,
                    "locked_until": binding.locked_until,
                }
            ).data
        )


class MeView(MemberAPIView):
    @extend_schema(
        operation_id="distribution_me",
        summary="My distributor account: status, grade, balance, pending, team size",
        description="`share_scene` (`d=<share code>`) is the scene of the shop's share link "
        "or mini program code; `share_text` is one-click share copy for it.",
        responses={200: MeOutSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        distributor = selectors.distributor_for_member(tenant=self.tenant, member=self.member)
        summary = selectors.distributor_summary(tenant=self.tenant, distributor=distributor)
        for name, value in summary.items():
            setattr(distributor, name, value)
        distributor.share_scene = posters.share_scene(distributor=distributor)  # type: ignore[attr-defined]  # for MeOutSerializer
        distributor.share_text = posters.share_text(  # type: ignore[attr-defined]  # for MeOutSerializer
            distributor_name=posters.display_name(distributor=distributor, member=self.member)
        )
        return Response(MeOutSerializer(distributor).data)


class TeamView(MemberAPIView):
    @extend_schema(
        operation_id="distribution_team",
        summary="My team (three levels of recruits)",
        responses={200: TeamMemberOutSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        distributor = selectors.distributor_for_member(tenant=self.tenant, member=self.member)
        team = selectors.team_list(tenant=self.tenant, distributor=distributor)
        return _paginate(self, request, team, TeamMemberOutSerializer, {"distributor": distributor})


class CommissionListView(MemberAPIView):
    @extend_schema(
        operation_id="distribution_commissions",
        summary="My commissions",
        parameters=[CommissionQuerySerializer],
        responses={200: CommissionOutSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        query = CommissionQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        distributor = selectors.distributor_for_member(tenant=self.tenant, member=self.member)
        rows = selectors.commission_list(
            tenant=self.tenant, distributor=distributor, status=query.validated_data.get("status")
        )
        return _paginate(self, request, rows, CommissionOutSerializer, {})


class WithdrawalsView(MemberAPIView):
    @extend_schema(
        operation_id="distribution_withdrawal_list",
        summary="My withdrawals",
        responses={200: WithdrawalOutSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        distributor = selectors.distributor_for_member(tenant=self.tenant, member=self.member)
        rows = Withdrawal.objects.for_tenant(self.tenant).filter(distributor=distributor)
        return _paginate(self, request, rows, WithdrawalOutSerializer, {})

    @extend_schema(
        operation_id="distribution_withdrawal_create",
        summary="Withdraw from the settled balance",
        description="The amount leaves the balance at once (returned if finance rejects it). "
        "422 `withdrawal_below_minimum`, `withdrawal_daily_limit`, `insufficient_balance`; "
        "409 `distributor_frozen`. Accepts `Idempotency-Key`.",
        parameters=[IDEMPOTENCY_HEADER],
        request=WithdrawalInSerializer,
        responses={201: WithdrawalOutSerializer, **ERRORS},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = WithdrawalInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        withdrawal = services.withdrawal_request(
            tenant=self.tenant, member=self.member, amount=data.validated_data["amount"]
        )
        return Response(WithdrawalOutSerializer(withdrawal).data, status=201)


class PosterView(MemberAPIView):
    @extend_schema(
        operation_id="distribution_poster",
        summary="Share poster (PNG) of a product, with my QR code",
        description="The code carries the scene `d=<share code>&p=<product id>` (also in the "
        "header `X-Share-Scene`): a WeChat mini program code on a WeChat mini program, a QR code "
        "elsewhere (and when WeChat cannot be reached). The header `X-Share-Text` has "
        "one-click share copy (URL-encoded UTF-8). Cached until the product changes.",
        parameters=[PosterQuerySerializer],
        responses={(200, "image/png"): OpenApiTypes.BINARY, **ERRORS},
    )
    def get(self, request: Request) -> HttpResponse:
        query = PosterQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        distributor = selectors.distributor_for_member(tenant=self.tenant, member=self.member)
        if distributor.status != Distributor.Status.APPROVED:
            raise ConflictError(
                "distributor_not_approved", _("Only approved distributors share posters.")
            )
        product = (
            Product.objects.for_tenant(self.tenant)
            .on_sale()
            .filter(pk=query.validated_data["product_id"])
            .first()
        )
        if product is None:
            raise NotFoundError(_("Product not found."))
        png = posters.poster_for(
            distributor=distributor,
            member=self.member,
            product=product,
            channel=getattr(request, "channel", None),
        )
        response = HttpResponse(png, content_type="image/png")
        response["X-Share-Scene"] = posters.share_scene(
            distributor=distributor, product_id=product.pk
        )
        response["X-Share-Text"] = quote(
            posters.share_text(
                distributor_name=posters.display_name(distributor=distributor, member=self.member),
                title=product.title,
                price=product.display_price,
            )
        )
        response["Cache-Control"] = "private, max-age=3600"
        return response
