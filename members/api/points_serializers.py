"""Serializers of the points and check-in endpoints (docs: ../shared/design/API.md)."""

from __future__ import annotations

from rest_framework import serializers

from members.points.models import Reason


class PointsExpiringSerializer(serializers.Serializer):
    points = serializers.IntegerField()
    expires_at = serializers.DateTimeField()


class PointsLedgerRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    delta = serializers.IntegerField(help_text="Change of the balance (negative: taken).")
    reason = serializers.ChoiceField(choices=Reason.choices)
    order_number = serializers.CharField(help_text="The order the change belongs to, or empty.")
    expires_at = serializers.DateTimeField(
        allow_null=True, help_text="For an earning: when its points expire."
    )
    created_at = serializers.DateTimeField()


class PointsPageSerializer(serializers.Serializer):
    balance = serializers.IntegerField(help_text="Points available (negative while in debt).")
    debt = serializers.IntegerField(help_text="Points owed; paid off first by new earnings.")
    expiring_soon = PointsExpiringSerializer(many=True, help_text="Within 30 days.")
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = PointsLedgerRowSerializer(many=True)


class PointsAdjustInputSerializer(serializers.Serializer):
    delta = serializers.IntegerField(min_value=-10_000_000, max_value=10_000_000)
    reason = serializers.CharField(max_length=200)


class PointsAdjustSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    member_id = serializers.IntegerField()
    delta = serializers.IntegerField()
    reason = serializers.CharField(source="note")
    balance = serializers.IntegerField(source="balance_after")
    debt = serializers.IntegerField(source="debt_after")
    created_at = serializers.DateTimeField()
