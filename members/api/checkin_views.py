"""Check-in endpoints: POST today's check-in, GET a month's calendar."""

from __future__ import annotations

import re
from datetime import date

from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from mall.api.errors import InvalidInputError
from mall.api.views import MemberAPIView
from members.checkin import selectors
from members.checkin.services import checkin_do, local_today


class CheckInSerializer(serializers.Serializer):
    date = serializers.DateField(help_text="In the shop's time zone.")
    streak = serializers.IntegerField(help_text="Consecutive days including this one.")
    rewards = serializers.ListField(
        child=serializers.DictField(),
        help_text='What it gave: {"type": "points", "points": n}, {"type": "coupon", '
        '"template_id": id}, {"type": "growth", "growth": n}.',
    )


class CheckInDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    streak = serializers.IntegerField()


class CheckInMonthSerializer(serializers.Serializer):
    month = serializers.CharField()
    days = CheckInDaySerializer(many=True)
    streak = serializers.IntegerField(help_text="Current streak (0 when it is broken).")
    checked_in_today = serializers.BooleanField()


_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})", re.ASCII)


def _month(raw: str | None, today: date) -> date:
    if not raw:
        return today.replace(day=1)
    found = _MONTH.fullmatch(raw)
    if found is None or not 1 <= int(found.group(2)) <= 12 or int(found.group(1)) < 2000:
        raise InvalidInputError(
            "validation_error",
            gettext("month must look like 2026-12."),
            details={"month": [gettext("Not a month (YYYY-MM).")]},
        )
    return date(int(found.group(1)), int(found.group(2)), 1)


class MeCheckInView(MemberAPIView):
    @extend_schema(
        operation_id="me_check_in",
        summary="Check in for today (once a day in the shop's time zone)",
        description="201 with the rewards the first time today; 200 with the same check-in "
        "(nothing given again) afterwards.",
        request=None,
        responses={200: CheckInSerializer, 201: CheckInSerializer},
    )
    def post(self, request: Request) -> Response:
        result = checkin_do(tenant=self.tenant, member=self.member)
        checkin = result.checkin
        body = CheckInSerializer(
            {"date": checkin.date, "streak": checkin.streak, "rewards": checkin.rewards}
        ).data
        return Response(body, status=status.HTTP_201_CREATED if result.created else 200)

    @extend_schema(
        operation_id="me_check_in_month",
        summary="The days of a month checked in, and the current streak",
        parameters=[OpenApiParameter("month", str, description="YYYY-MM (default: this month)")],
        responses={200: CheckInMonthSerializer},
    )
    def get(self, request: Request) -> Response:
        today = local_today(self.tenant)
        month = _month(request.query_params.get("month"), today)
        data = selectors.checkin_month(member=self.member, month=month, today=today)
        return Response(CheckInMonthSerializer(data).data)
