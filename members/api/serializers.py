"""Input and output serializers of the members API (shopper and merchant open API)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from members.models import Address, Member, MemberIdentity, MemberTier, phone_validator

TIER_DESCRIPTION = (
    "The member's tier as {id, name, level}, or null without one (details: GET /me/tier)."
)


@extend_schema_field(
    {
        "type": "object",
        "nullable": True,
        "description": TIER_DESCRIPTION,
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "level": {"type": "integer"},
        },
    }
)
class TierField(serializers.Field):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("source", "*")
        super().__init__(**kwargs)

    def to_representation(self, value: Member) -> dict[str, Any] | None:
        try:
            state = value.tier_state  # select_related by the list selectors
        except MemberTier.DoesNotExist:
            return None
        tier = state.tier
        return None if tier is None else {"id": tier.pk, "name": tier.name, "level": tier.level}


class MemberCardBriefSerializer(serializers.Serializer):
    plan_id = serializers.IntegerField()
    plan_name = serializers.CharField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()


class MemberSerializer(serializers.ModelSerializer):
    tier = TierField(help_text=TIER_DESCRIPTION)
    card = serializers.SerializerMethodField(
        help_text="The paid member card while it runs (see /member-cards), else null."
    )

    @extend_schema_field(MemberCardBriefSerializer(allow_null=True))
    def get_card(self, member: Member) -> dict | None:
        from members.cards.selectors import member_card_current

        card = member_card_current(member=member)
        if card is None:
            return None
        return MemberCardBriefSerializer(
            {
                "plan_id": card.plan_id,
                "plan_name": card.plan.name if card.plan else "",  # the plan may be deleted
                "starts_at": card.starts_at,
                "ends_at": card.ends_at,
            }
        ).data

    class Meta:
        model = Member
        fields = [
            "id",
            "nickname",
            "avatar",
            "phone",
            "birthday",
            "gender",
            "tier",
            "points",
            "growth",
            "card",
        ]
        read_only_fields = fields


class _StrictInput(serializers.Serializer):
    """Refuses keys it does not know (e.g. read-only ``phone`` or ``points`` in a PATCH)."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        initial = getattr(self, "initial_data", None)
        if isinstance(initial, dict):
            unknown = sorted(set(initial) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {name: [gettext("This field cannot be set here.")] for name in unknown}
                )
        return attrs


class WeChatLoginInputSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=128, help_text="The code from wx.login().")
    scene = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        default="",
        help_text="Mini program scene or share source; recorded on the member's first login.",
    )


class AlipayLoginInputSerializer(serializers.Serializer):
    auth_code = serializers.CharField(
        max_length=128, help_text="The authCode from my.getAuthCode()."
    )
    scene = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class LoginOutputSerializer(serializers.Serializer):
    access = serializers.CharField(help_text="Short-lived access token (Authorization: Bearer).")
    refresh = serializers.CharField(help_text="Refresh token for POST /api/v1/auth/refresh.")
    member = MemberSerializer()
    created = serializers.BooleanField(help_text="True when this login created the member.")


class RefreshInputSerializer(serializers.Serializer):
    refresh = serializers.CharField(max_length=4096)


class RefreshOutputSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField(
        required=False, help_text="Present only when refresh tokens are rotated."
    )


class MemberUpdateInputSerializer(_StrictInput):
    nickname = serializers.CharField(max_length=64, required=False, allow_blank=True)
    avatar = serializers.URLField(max_length=500, required=False, allow_blank=True)
    birthday = serializers.DateField(required=False, allow_null=True)
    gender = serializers.ChoiceField(choices=Member.Gender.choices, required=False)


class PhoneBindInputSerializer(serializers.Serializer):
    code = serializers.CharField(
        max_length=8192,
        help_text="WeChat: the code of the getPhoneNumber button. Alipay: the whole string "
        "my.getPhoneNumber answers (JSON with response and sign). Sandbox: 'sandbox:<digits>'.",
    )


class PhoneBindOutputSerializer(serializers.Serializer):
    member = MemberSerializer(help_text="The member to continue as (the survivor of a merge).")
    access = serializers.CharField(help_text="New tokens for that member; use them from now on.")
    refresh = serializers.CharField()
    merged = serializers.BooleanField(
        help_text="True when the phone belonged to another account of this shop and this "
        "account was merged into it (orders, points, coupons, addresses moved there)."
    )


class AddressSerializer(serializers.ModelSerializer):
    class Meta:
        model = Address
        fields = [
            "id",
            "name",
            "phone",
            "province",
            "city",
            "district",
            "detail",
            "province_code",
            "city_code",
            "district_code",
            "postal_code",
            "latitude",
            "longitude",
            "is_default",
            "created_at",
        ]
        read_only_fields = fields


class AddressInputSerializer(_StrictInput):
    name = serializers.CharField(max_length=50)
    phone = serializers.CharField(max_length=20, validators=[phone_validator])
    province = serializers.CharField(max_length=32)
    city = serializers.CharField(max_length=32)
    district = serializers.CharField(max_length=32, required=False, allow_blank=True)
    detail = serializers.CharField(max_length=200)
    province_code = serializers.CharField(max_length=12, required=False, allow_blank=True)
    city_code = serializers.CharField(max_length=12, required=False, allow_blank=True)
    district_code = serializers.CharField(max_length=12, required=False, allow_blank=True)
    postal_code = serializers.CharField(max_length=12, required=False, allow_blank=True)
    latitude = serializers.DecimalField(
        max_digits=9,
        decimal_places=6,
        required=False,
        allow_null=True,
        min_value=-90,
        max_value=90,
    )
    longitude = serializers.DecimalField(
        max_digits=9,
        decimal_places=6,
        required=False,
        allow_null=True,
        min_value=-180,
        max_value=180,
    )
    is_default = serializers.BooleanField(required=False)


class MemberIdentitySerializer(serializers.ModelSerializer):
    class Meta:
        model = MemberIdentity
        fields = ["platform", "app_id", "openid", "unionid", "created_at", "last_login_at"]
        read_only_fields = fields


class MerchantMemberSerializer(serializers.ModelSerializer):
    tier = TierField(help_text=TIER_DESCRIPTION)
    merged_into = serializers.IntegerField(
        source="merged_into_id",
        allow_null=True,
        read_only=True,
        help_text="Set when this member was merged into another (sync: re-point to that id).",
    )
    identities = MemberIdentitySerializer(many=True, read_only=True)

    class Meta:
        model = Member
        fields = [
            "id",
            "nickname",
            "avatar",
            "phone",
            "birthday",
            "gender",
            "tier",
            "points",
            "growth",
            "is_active",
            "merged_into",
            "source_scene",
            "identities",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
