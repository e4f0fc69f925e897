from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from distribution.models import Commission, Distributor, Withdrawal


class ApplyInSerializer(serializers.Serializer):
    invite_code = serializers.CharField(max_length=16, required=False, allow_blank=True, default="")


class BindInSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=16)


class GradeOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    level = serializers.IntegerField()
    tier1_rate = serializers.DecimalField(max_digits=6, decimal_places=4)
    tier2_rate = serializers.DecimalField(max_digits=6, decimal_places=4)
    tier3_rate = serializers.DecimalField(max_digits=6, decimal_places=4)


class DistributorOutSerializer(serializers.ModelSerializer):
    grade = GradeOutSerializer(allow_null=True)
    parent_share_code = serializers.CharField(
        source="parent.share_code", default=None, allow_null=True
    )

    class Meta:
        model = Distributor
        fields = [
            "id",
            "status",
            "share_code",
            "grade",
            "parent_share_code",
            "balance",
            "applied_at",
            "reviewed_at",
        ]


class MeOutSerializer(DistributorOutSerializer):
    pending_amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    team_size = serializers.IntegerField()
    direct_size = serializers.IntegerField()
    share_scene = serializers.CharField(help_text="d=<share code>: the scene of my share link.")
    share_text = serializers.CharField(help_text="One-click share copy.")

    class Meta(DistributorOutSerializer.Meta):
        fields = [
            *DistributorOutSerializer.Meta.fields,
            "pending_amount",
            "team_size",
            "direct_size",
            "share_scene",
            "share_text",
        ]


class BindOutSerializer(serializers.Serializer):
    changed = serializers.BooleanField(help_text="False: an existing (locked) binding was kept.")
    distributor_share_code = serializers.CharField()
    distributor_nickname = serializers.CharField()
    locked_until = serializers.DateTimeField(allow_null=True)


class TeamMemberOutSerializer(serializers.ModelSerializer):
    nickname = serializers.CharField(source="member.nickname")
    avatar = serializers.CharField(source="member.avatar")
    level = serializers.SerializerMethodField()
    grade = serializers.CharField(source="grade.name", default=None)

    class Meta:
        model = Distributor
        fields = ["id", "nickname", "avatar", "level", "status", "grade", "applied_at"]

    def get_level(self, obj: Distributor) -> int:
        """1: direct recruit, 2 and 3: their recruits."""
        me = self.context["distributor"]
        return 1 if obj.parent_id == me.pk else 2 if obj.ancestor2_id == me.pk else 3


class CommissionOutSerializer(serializers.ModelSerializer):
    order_number = serializers.CharField(source="order.number")
    title = serializers.CharField(source="order_line.title")
    net_amount = serializers.SerializerMethodField()

    class Meta:
        model = Commission
        fields = [
            "id",
            "order_number",
            "title",
            "tier",
            "base_amount",
            "rate",
            "amount",
            "reversed_amount",
            "net_amount",
            "status",
            "created_at",
            "settled_at",
        ]

    def get_net_amount(self, obj: Commission) -> Decimal:
        return obj.net_amount


class CommissionQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Commission.Status.choices, required=False)


class WithdrawalInSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))


class WithdrawalOutSerializer(serializers.ModelSerializer):
    class Meta:
        model = Withdrawal
        fields = [
            "id",
            "amount",
            "fee",
            "net_amount",
            "status",
            "method",
            "payout_reference",
            "reason",
            "created_at",
            "paid_at",
        ]


class PosterQuerySerializer(serializers.Serializer):
    product_id = serializers.IntegerField(min_value=1)
