"""Members: one per tenant and person, with identities on each platform, and addresses."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models

from mall.tenancy.scoping import TenantOwnedModel

phone_validator = RegexValidator(r"^\+?\d{6,20}$", "Enter a valid phone number.")


class Member(TenantOwnedModel):
    """A shopper of one tenant. Several platform identities may point at one member."""

    class Gender(models.TextChoices):
        UNKNOWN = "unknown", "Unknown"
        MALE = "male", "Male"
        FEMALE = "female", "Female"

    nickname = models.CharField(max_length=64, blank=True, default="")
    avatar = models.URLField(max_length=500, blank=True, default="")
    phone = models.CharField(max_length=20, blank=True, default="", validators=[phone_validator])
    birthday = models.DateField(null=True, blank=True)
    gender = models.CharField(max_length=8, choices=Gender.choices, default=Gender.UNKNOWN)
    points = models.IntegerField(default=0)
    growth = models.IntegerField(default=0)
    is_active = models.BooleanField(default=True)
    # The mini program scene / share source of the first login (acquisition analytics).
    source_scene = models.CharField(max_length=64, blank=True, default="")
    # Set when this member was merged into another one (phone binding); rows moved there.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "phone"],
                condition=~models.Q(phone="") & models.Q(merged_into__isnull=True),
                name="uniq_member_phone_per_tenant",
            ),
            models.CheckConstraint(condition=models.Q(points__gte=0), name="member_points_gte_0"),
        ]
        indexes = [models.Index(fields=["tenant", "updated_at"])]

    def __str__(self) -> str:
        return self.nickname or f"member {self.pk}"


class MemberIdentity(TenantOwnedModel):
    """A platform account: WeChat openid (+ unionid) or Alipay user id, under one app."""

    class Platform(models.TextChoices):
        WECHAT = "wechat", "WeChat"
        ALIPAY = "alipay", "Alipay"
        H5 = "h5", "H5"

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="identities")
    platform = models.CharField(max_length=16, choices=Platform.choices)
    app_id = models.CharField(max_length=64)
    # WeChat: openid; Alipay: user_id (or open_id for apps on the open_id scheme).
    openid = models.CharField(max_length=128)
    unionid = models.CharField(max_length=128, blank=True, default="", db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_login_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["app_id", "openid"], name="uniq_identity_app_openid"),
        ]

    def __str__(self) -> str:
        return f"{self.platform}:{self.openid}"


class Address(TenantOwnedModel):
    """A delivery address of a member. Region codes are GB/T 2260 (province, city, district)."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="addresses")
    name = models.CharField(max_length=50)
    phone = models.CharField(max_length=20, validators=[phone_validator])
    province = models.CharField(max_length=32)
    city = models.CharField(max_length=32)
    district = models.CharField(max_length=32, blank=True, default="")
    detail = models.CharField(max_length=200)
    province_code = models.CharField(max_length=12, blank=True, default="")
    city_code = models.CharField(max_length=12, blank=True, default="")
    district_code = models.CharField(max_length=12, blank=True, default="")
    postal_code = models.CharField(max_length=12, blank=True, default="")
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    MAX_PER_MEMBER = 20

    class Meta:
        ordering = ["-is_default", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["member"],
                condition=models.Q(is_default=True),
                name="uniq_default_address_per_member",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.province}{self.city}{self.district}{self.detail}"


class MemberMerge(TenantOwnedModel):
    """Audit of a phone-binding merge: who survived, who was absorbed, and what moved."""

    survivor = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    merged = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    phone = models.CharField(max_length=20)
    moved = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]


# --- Member cards (paid membership) -------------------------------------------------------
# Bought through payments with purpose ``card`` (members/cards/payables.py). What a card gives
# (discounts, free shipping, points multipliers ...) is defined by the members issue: ``benefits``
# is stored and shown as it is.


class MemberCardPlan(TenantOwnedModel):
    """A paid membership the shop sells: a price for a number of days."""

    name = models.CharField(max_length=64)
    price = models.DecimalField(max_digits=12, decimal_places=2)
    duration_days = models.PositiveIntegerField()
    benefits = models.JSONField(
        default=dict,
        blank=True,
        help_text="What the card gives; defined by the members issue.",
    )
    is_active = models.BooleanField(default=True)
    sort = models.IntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sort", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "name"], name="uniq_card_plan_name_per_tenant"
            ),
            models.CheckConstraint(condition=models.Q(price__gt=0), name="card_plan_price_gt_0"),
            models.CheckConstraint(
                condition=models.Q(duration_days__gt=0), name="card_plan_duration_gt_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.duration_days} days, {self.price})"


class CardPurchase(TenantOwnedModel):
    """One purchase of a plan by a member; the payment's reference is ``reference``."""

    class Status(models.TextChoices):
        PENDING_PAYMENT = "pending_payment", "Pending payment"
        PAID = "paid", "Paid"
        CANCELLED = "cancelled", "Cancelled"
        REFUNDED = "refunded", "Refunded"

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="card_purchases")
    plan = models.ForeignKey(MemberCardPlan, on_delete=models.PROTECT, related_name="purchases")
    # The plan as it was bought.
    plan_name = models.CharField(max_length=64)
    price = models.DecimalField(max_digits=12, decimal_places=2)
    duration_days = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING_PAYMENT)
    reference = models.CharField(max_length=64)  # "card:<id>"
    expires_at = models.DateTimeField()  # unpaid after this: cancelled
    # The period this purchase added to the member's card (set when paid).
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    payment_reference = models.CharField(max_length=64, blank=True, default="")
    paid_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "reference"], name="uniq_card_purchase_reference_per_tenant"
            ),
            models.CheckConstraint(
                condition=models.Q(price__gt=0), name="card_purchase_price_gt_0"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["pending_payment", "paid", "cancelled", "refunded"]),
                name="card_purchase_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "member", "status"])]

    def __str__(self) -> str:
        return f"{self.reference} {self.plan_name} ({self.status})"


class MemberCard(TenantOwnedModel):
    """A member's paid membership: one per member; buying again extends it from its end."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="cards")
    plan = models.ForeignKey(
        MemberCardPlan, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )  # the plan last bought
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "member"], name="uniq_member_card_per_member"
            ),
        ]

    def __str__(self) -> str:
        return f"card of member {self.member_id} until {self.ends_at:%Y-%m-%d}"
