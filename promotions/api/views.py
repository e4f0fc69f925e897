"""Shopper API of promotions: checkout quote, campaigns, claimable coupons, my coupons."""

from __future__ import annotations

from typing import Any

import orjson
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from mall.api.idempotency import idempotent
from mall.api.pagination import PageNumberPagination
from mall.api.parsers import json_depth_check
from mall.api.renderers import JSONRenderer
from mall.api.views import MemberAPIView, ShopperAPIView
from mall.http import TenantRequest
from promotions import selectors, services
from promotions.api.serializers import (
    CampaignSerializer,
    CouponSerializer,
    CouponStatusQuerySerializer,
    CouponTemplateSerializer,
    QuoteInputSerializer,
    QuoteOutputSerializer,
    quote_input_parse,
    quote_payload,
)
from promotions.pricing import Problem, quote

ERRORS = {
    400: OpenApiResponse(description="Invalid input (error shape)"),
    401: OpenApiResponse(description="Missing, invalid, expired or foreign token"),
    404: OpenApiResponse(description="Not found or another shop's (error shape)"),
}


def _paginate(view: Any, request: Request, items: Any, serializer: Any, context: dict) -> Response:
    paginator = PageNumberPagination()
    page = paginator.paginate_queryset(items, request, view=view)
    return paginator.get_paginated_response(serializer(page, many=True, context=context).data)


_renderer = JSONRenderer()


def _quote_body_fast(request: Request) -> dict[str, Any] | None:
    """The quote body of a plain UTF-8 JSON request that ``quote_input_parse`` takes, parsed by
    orjson; None for anything else (another media type or charset, a body orjson refuses or
    reads differently, such as integers beyond 64 bits), which then goes through DRF's parser
    and the serializer as usual: the fast path never answers differently."""
    django_request = request._request
    if django_request.content_type != "application/json":
        return None
    charset = (django_request.content_params or {}).get("charset", "utf-8")
    if charset.lower() not in ("utf-8", "utf8"):
        return None
    body = django_request.body
    json_depth_check(body)  # as DRF's parser: a body nested too deep is 400 invalid_json
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return quote_input_parse(data)


class CheckoutQuoteView(MemberAPIView):
    @extend_schema(
        operation_id="checkout_quote",
        summary="Price a cart (nothing reserved)",
        description="Applies item prices, campaigns, the chosen coupons, points and shipping in "
        "the order of docs/pricing.md. A SKU id that is not this shop's answers 404 "
        "`sku_not_found`; an address that is not the member's answers 404 `address_not_found`. "
        "Anything that prices but does not apply (an unavailable SKU, a coupon that is not "
        "yours or does not meet its threshold, a campaign out of budget) is listed in "
        "`problems[]` with its code.",
        request=QuoteInputSerializer,
        responses={200: QuoteOutputSerializer, **ERRORS},
    )
    def post(self, request: TenantRequest) -> HttpResponse:
        body = _quote_body_fast(request)
        if body is None:  # anything unusual: DRF's parser and the serializer answer it
            body = quote_input_parse(request.data)
        if body is None:
            data = QuoteInputSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            body = data.validated_data
        loaded = selectors.quote_inputs_load(
            tenant=self.tenant,
            member=self.member,
            platform=request.channel.platform,
            lines=[
                selectors.CartLine(
                    sku_id=line["sku_id"],
                    quantity=line["quantity"],
                    addon_campaign_id=line.get("addon_campaign_id"),
                )
                for line in body["lines"]
            ],
            coupon_ids=body["coupon_ids"],
            points_to_use=body["use_points"],
            fulfillment=body["fulfillment"],
            address_id=body.get("address_id"),
            now=timezone.now(),
        )
        result = quote(loaded.inputs)
        problems = [*loaded.problems, *result.problems]
        if body["fulfillment"] != "pickup" and not body.get("address_id"):
            problems.append(
                Problem(
                    "address_required",
                    gettext("Choose a delivery address to see the shipping fee."),
                )
            )
        # Rendered here (same bytes as DRF's Response): the answer has no other representation.
        return HttpResponse(
            _renderer.render(quote_payload(result, problems)), content_type="application/json"
        )


class CampaignListView(ShopperAPIView):
    @extend_schema(
        operation_id="campaign_list",
        summary="Campaigns running now on this platform",
        description="Live campaigns (status and window checked at read time) shown on the "
        "platform of the X-App-Id channel, with that platform's title and banner.",
        responses={200: CampaignSerializer(many=True)},
    )
    def get(self, request: TenantRequest) -> Response:
        platform = request.channel.platform
        campaigns = selectors.campaigns_for_platform(
            tenant=self.tenant, platform=platform, now=timezone.now()
        )
        return _paginate(self, request, campaigns, CampaignSerializer, {"platform": platform})


class CouponTemplateListView(ShopperAPIView):
    @extend_schema(
        operation_id="coupon_template_list",
        summary="Coupons that can be claimed now",
        responses={200: CouponTemplateSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        templates = selectors.coupon_templates_claimable(tenant=self.tenant, now=timezone.now())
        return _paginate(self, request, templates, CouponTemplateSerializer, {})


class CouponClaimView(MemberAPIView):
    @extend_schema(
        operation_id="coupon_claim",
        summary="Claim one coupon of a template",
        description="Accepts `Idempotency-Key`. 404 `coupon_template_not_found` (also for "
        "another shop's), 409 `coupon_sold_out` / `coupon_limit_reached`, 422 "
        "`coupon_not_claimable` (not public, outside the claim window, expired).",
        request=None,
        responses={201: CouponSerializer, **ERRORS},
    )
    @idempotent
    def post(self, request: Request, template_id: int) -> Response:
        now = timezone.now()
        coupon = services.coupon_claim(
            tenant=self.tenant, member=self.member, template_id=template_id, now=now
        )
        return Response(
            CouponSerializer(coupon, context={"now": now}).data, status=status.HTTP_201_CREATED
        )


class MyCouponListView(MemberAPIView):
    @extend_schema(
        operation_id="my_coupon_list",
        summary="My coupons",
        parameters=[
            OpenApiParameter("status", str, enum=["unused", "locked", "used", "expired"]),
        ],
        responses={200: CouponSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        query = CouponStatusQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        now = timezone.now()
        coupons = selectors.coupons_of_member(
            tenant=self.tenant,
            member=self.member,
            status=query.validated_data.get("status"),
            now=now,
        )
        return _paginate(self, request, coupons, CouponSerializer, {"now": now})
