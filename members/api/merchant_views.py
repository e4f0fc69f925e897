"""Merchant open API of the members app: member sync for CRMs."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from mall.api.errors import InvalidInputError, NotFoundError
from mall.api.views import MerchantGenericAPIView
from mall.tenancy.models import ApiKey
from members import selectors
from members.api.serializers import MerchantMemberSerializer


def _parse_updated_since(raw: str | None, tz: dt.tzinfo) -> dt.datetime | None:
    if raw is None or raw == "":
        return None
    # A literal "+" in an unencoded query string arrives as a space.
    value = raw.strip().replace(" ", "+")
    try:
        parsed = parse_datetime(value)
    except ValueError:
        parsed = None
    if parsed is None:
        raise InvalidInputError(
            "validation_error",
            "updated_since must be an ISO 8601 date-time, e.g. 2026-01-31T08:00:00+08:00.",
            details={"updated_since": [gettext("Not an ISO 8601 date-time.")]},
        )
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, tz)
    return parsed


class MerchantMemberListView(MerchantGenericAPIView):
    required_scope = ApiKey.Scope.MEMBERS
    serializer_class = MerchantMemberSerializer

    @extend_schema(
        operation_id="merchant_members_list",
        summary="Members changed since a time (sync)",
        description="Ordered by `updated_at`, then `id`; page through with `next`. Merged and "
        "disabled members are included (`is_active`, `merged_into`) so a CRM can follow merges. "
        "Without an offset, `updated_since` is read in the shop's time zone.",
        parameters=[
            OpenApiParameter(
                "updated_since", str, description="ISO 8601 date-time (inclusive)", required=False
            )
        ],
        responses={
            200: MerchantMemberSerializer(many=True),
            400: OpenApiResponse(description="Bad updated_since"),
        },
    )
    def get(self, request: Request) -> Response:
        since = _parse_updated_since(request.query_params.get("updated_since"), self.tenant.tz)
        queryset = selectors.member_list_for_sync(tenant=self.tenant, updated_since=since)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(MerchantMemberSerializer(page, many=True).data)


class MerchantMemberDetailView(MerchantGenericAPIView):
    required_scope = ApiKey.Scope.MEMBERS
    serializer_class = MerchantMemberSerializer

    @extend_schema(
        operation_id="merchant_members_retrieve",
        summary="One member",
        responses={200: MerchantMemberSerializer, 404: OpenApiResponse(description="Not found")},
    )
    def get(self, request: Request, pk: int) -> Response:
        member = selectors.member_get_for_sync(tenant=self.tenant, member_id=pk)
        if member is None:
            raise NotFoundError(_("Member not found."))
        return Response(MerchantMemberSerializer(member).data)
