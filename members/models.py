"""Members: one per tenant and person, with identities on each platform, and addresses."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from mall.tenancy.scoping import TenantOwnedModel

phone_validator = RegexValidator(r"^\+?\d{6,20}$", _("Enter a valid phone number."))


class Member(TenantOwnedModel):
    """A shopper of one tenant. Several platform identities may point at one member."""

    class Gender(models.TextChoices):
        UNKNOWN = "unknown", _("Unknown")
        MALE = "male", _("Male")
        FEMALE = "female", _("Female")

    nickname = models.CharField(_("nickname"), max_length=64, blank=True, default="")
    avatar = models.URLField(_("avatar"), max_length=500, blank=True, default="")
    phone = models.CharField(
        _("phone"), max_length=20, blank=True, default="", validators=[phone_validator]
    )
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    gender = models.CharField(
        _("gender"), max_length=8, choices=Gender.choices, default=Gender.UNKNOWN
    )
    # Cached balance of the points ledger (members/points): sum of the remaining points of
    # unexpired lots minus ``points_debt``; negative while there is debt (an order's earning
    # reversed after its points were spent), so there is no ``>= 0`` check any more.
    points = models.IntegerField(_("points"), default=0)
    points_debt = models.PositiveIntegerField(_("points debt"), default=0)
    growth = models.IntegerField(_("growth"), default=0)
    is_active = models.BooleanField(_("is active"), default=True)
    # The mini program scene / share source of the first login (acquisition analytics).
    source_scene = models.CharField(_("source scene"), max_length=64, blank=True, default="")
    # Set when this member was merged into another one (phone binding); rows moved there.
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "phone"],
                condition=~models.Q(phone="") & models.Q(merged_into__isnull=True),
                name="uniq_member_phone_per_tenant",
            ),
            models.CheckConstraint(
                condition=models.Q(points__gte=-models.F("points_debt")),
                name="member_points_gte_minus_debt",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "updated_at"])]

    def __str__(self) -> str:
        return self.nickname or f"member {self.pk}"


class MemberIdentity(TenantOwnedModel):
    """A platform account: WeChat openid (+ unionid) or Alipay user id, under one app."""

    class Platform(models.TextChoices):
        WECHAT = "wechat", _("WeChat")
        ALIPAY = "alipay", _("Alipay")
        H5 = "h5", _("H5")

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="identities"
    )
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices)
    app_id = models.CharField(_("app id"), max_length=64)
    # WeChat: openid; Alipay: user_id (or open_id for apps on the open_id scheme).
    openid = models.CharField(_("openid"), max_length=128)
    unionid = models.CharField(_("unionid"), max_length=128, blank=True, default="", db_index=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_login_at = models.DateTimeField(_("last login at"), null=True, blank=True)

    class Meta:
        verbose_name = _("member identity")
        verbose_name_plural = _("member identities")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["app_id", "openid"], name="uniq_identity_app_openid"),
        ]

    def __str__(self) -> str:
        return f"{self.platform}:{self.openid}"


class Address(TenantOwnedModel):
    """A delivery address of a member. Region codes are GB/T 2260 (province, city, district)."""

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="addresses"
    )
    name = models.CharField(_("name"), max_length=50)
    phone = models.CharField(_("phone"), max_length=20, validators=[phone_validator])
    province = models.CharField(_("province"), max_length=32)
    city = models.CharField(_("city"), max_length=32)
    district = models.CharField(_("district"), max_length=32, blank=True, default="")
    detail = models.CharField(_("detail"), max_length=200)
    province_code = models.CharField(_("province code"), max_length=12, blank=True, default="")
    city_code = models.CharField(_("city code"), max_length=12, blank=True, default="")
    district_code = models.CharField(_("district code"), max_length=12, blank=True, default="")
    postal_code = models.CharField(_("postal code"), max_length=12, blank=True, default="")
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    is_default = models.BooleanField(_("is default"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    MAX_PER_MEMBER = 20

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
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

    survivor = models.ForeignKey(
        Member, verbose_name=_("survivor"), on_delete=models.PROTECT, related_name="+"
    )
    merged = models.ForeignKey(
        Member, verbose_name=_("merged"), on_delete=models.PROTECT, related_name="+"
    )
    phone = models.CharField(_("phone"), max_length=20)
    moved = models.JSONField(_("moved"), default=dict)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("member merge")
        verbose_name_plural = _("member merges")
        ordering = ["-id"]


# --- Member cards (paid membership) -------------------------------------------------------
# Bought through payments with purpose ``card`` (payments/cards.py). What a card gives is typed:
# a card price rate on items, free shipping, a points multiplier and a coupon pack (on purchase
# and every card month, ``CardPlanCoupon``); ``benefits`` is free text shown as stored.


class MemberCardPlan(TenantOwnedModel):
    """A paid membership the shop sells: a price for a number of days."""

    name = models.CharField(_("name"), max_length=64)
    price = models.DecimalField(_("price"), max_digits=12, decimal_places=2)
    duration_days = models.PositiveIntegerField(_("duration days"))
    benefits = models.JSONField(
        _("benefits"),
        default=dict,
        blank=True,
        help_text=_("Extra benefits to show (free text, shown as stored)."),
    )
    price_rate = models.DecimalField(
        _("card price rate"),
        max_digits=4,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("1"))],
        help_text=_("Card holders pay this share of the list price, e.g. 0.90 (empty: none)."),
    )
    free_shipping = models.BooleanField(_("free shipping"), default=False)
    points_multiplier = models.DecimalField(
        _("points multiplier"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    is_active = models.BooleanField(_("is active"), default=True)
    sort = models.IntegerField(_("sort"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("member card plan")
        verbose_name_plural = _("member card plans")
        ordering = ["sort", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "name"], name="uniq_card_plan_name_per_tenant"
            ),
            models.CheckConstraint(condition=models.Q(price__gt=0), name="card_plan_price_gt_0"),
            models.CheckConstraint(
                condition=models.Q(duration_days__gt=0), name="card_plan_duration_gt_0"
            ),
            models.CheckConstraint(
                condition=models.Q(price_rate__isnull=True)
                | models.Q(price_rate__gt=0, price_rate__lte=1),
                name="card_plan_price_rate_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(points_multiplier__gte=0),
                name="card_plan_points_multiplier_gte_0",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.duration_days} days, {self.price})"


class CardPurchase(TenantOwnedModel):
    """One purchase of a plan by a member; the payment's reference is ``reference``."""

    class Status(models.TextChoices):
        PENDING_PAYMENT = "pending_payment", _("Pending payment")
        PAID = "paid", _("Paid")
        CANCELLED = "cancelled", _("Cancelled")
        REFUNDED = "refunded", _("Refunded")

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.PROTECT, related_name="card_purchases"
    )
    plan = models.ForeignKey(
        MemberCardPlan, verbose_name=_("plan"), on_delete=models.PROTECT, related_name="purchases"
    )
    # The plan as it was bought.
    plan_name = models.CharField(_("plan name"), max_length=64)
    price = models.DecimalField(_("price"), max_digits=12, decimal_places=2)
    duration_days = models.PositiveIntegerField(_("duration days"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING_PAYMENT
    )
    reference = models.CharField(_("reference"), max_length=64)  # "card:<id>"
    expires_at = models.DateTimeField(_("expires at"))  # unpaid after this: cancelled
    # The period this purchase added to the member's card (set when paid).
    period_start = models.DateTimeField(_("period start"), null=True, blank=True)
    period_end = models.DateTimeField(_("period end"), null=True, blank=True)
    payment_reference = models.CharField(
        _("payment reference"), max_length=64, blank=True, default=""
    )
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    refunded_at = models.DateTimeField(_("refunded at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("card purchase")
        verbose_name_plural = _("card purchases")
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


_C = CardPurchase.Status
CARD_PURCHASE_TRANSITIONS: dict[str, frozenset[str]] = {
    _C.PENDING_PAYMENT: frozenset({_C.PAID, _C.CANCELLED}),
    _C.PAID: frozenset({_C.REFUNDED}),
    _C.CANCELLED: frozenset(),
    _C.REFUNDED: frozenset(),
}


class MemberCard(TenantOwnedModel):
    """A member's paid membership: one per member; buying again extends it from its end."""

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="cards"
    )
    plan = models.ForeignKey(
        MemberCardPlan,
        verbose_name=_("plan"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )  # the plan last bought
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("member card")
        verbose_name_plural = _("member cards")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "member"], name="uniq_member_card_per_member"
            ),
        ]

    def __str__(self) -> str:
        return f"card of member {self.member_id} until {self.ends_at:%Y-%m-%d}"


class CardPlanCoupon(TenantOwnedModel):
    """A coupon of a card plan's pack: ``quantity`` coupons of ``template`` when the card is
    bought and at the start of every card month while it runs."""

    plan = models.ForeignKey(
        MemberCardPlan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="coupons"
    )
    template = models.ForeignKey(
        "promotions.CouponTemplate",
        verbose_name=_("coupon template"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    quantity = models.PositiveSmallIntegerField(
        _("quantity"), default=1, validators=[MinValueValidator(1), MaxValueValidator(20)]
    )

    class Meta:
        verbose_name = _("card coupon")
        verbose_name_plural = _("card coupons")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "template"], name="uniq_card_plan_coupon"),
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1), name="card_plan_coupon_quantity_gte_1"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template_id} x{self.quantity}"


# Sub-packages' models (Django finds models in ``members.models``): tags, segments, RFM and
# automation; tiers and growth; points and check-in.
from members.automation.models import AutomationExecution, AutomationRule  # noqa: E402
from members.checkin.models import CheckIn, CheckInReward  # noqa: E402
from members.points.models import (  # noqa: E402
    PointsLedger,
    PointsLot,
    PointsLotMove,
    PointsSettings,
)
from members.segments.models import (  # noqa: E402
    MemberRfm,
    MemberTag,
    Segment,
    SegmentCondition,
    Tag,
)
from members.tiers.models import (  # noqa: E402
    BenefitGrant,
    GrowthEntry,
    MemberTier,
    Tier,
    TierChange,
    TierCoupon,
    TierSettings,
)

__all__ = [
    "CARD_PURCHASE_TRANSITIONS",
    "Address",
    "AutomationExecution",
    "AutomationRule",
    "BenefitGrant",
    "CardPlanCoupon",
    "CardPurchase",
    "CheckIn",
    "CheckInReward",
    "GrowthEntry",
    "Member",
    "MemberCard",
    "MemberCardPlan",
    "MemberIdentity",
    "MemberMerge",
    "MemberRfm",
    "MemberTag",
    "MemberTier",
    "PointsLedger",
    "PointsLot",
    "PointsLotMove",
    "PointsSettings",
    "Segment",
    "SegmentCondition",
    "Tag",
    "Tier",
    "TierChange",
    "TierCoupon",
    "TierSettings",
    "phone_validator",
]
