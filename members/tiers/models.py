"""Tiers (等级) and growth (成长值): the tenant's tiers with their benefits, each member's tier,
the growth ledger, tier history, and the benefit grants (coupon packs, birthday gifts) made.

Imported by ``members.models`` (the app's models module). Rules: ``docs/members.md``, "Tiers and
growth"; write paths in ``members.tiers.services``.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from mall.tenancy.scoping import TenantOwnedModel


class TierSettings(TenantOwnedModel):
    """How a tenant's members earn growth and how often tiers are reviewed (one row per tenant;
    no row: the defaults)."""

    DEFAULT_GROWTH_PER_YUAN = Decimal("1")
    DEFAULT_REVIEW_MONTHS = 6

    growth_per_yuan = models.DecimalField(
        _("growth per yuan"),
        max_digits=8,
        decimal_places=4,
        default=DEFAULT_GROWTH_PER_YUAN,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Growth earned per yuan paid (and not refunded) once an order completes."),
    )
    review_months = models.PositiveSmallIntegerField(
        _("review months"),
        default=DEFAULT_REVIEW_MONTHS,
        validators=[MaxValueValidator(120)],
        help_text=_(
            "Tiers are reviewed this many months after a member reached them, then again every "
            "period (0 = never reviewed)."
        ),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("tier settings")
        verbose_name_plural = _("tier settings")
        constraints = [
            models.UniqueConstraint(fields=["tenant"], name="uniq_tier_settings_per_tenant"),
            models.CheckConstraint(
                condition=Q(growth_per_yuan__gte=0), name="tier_settings_growth_rate_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return str(_("Tier settings"))


class Tier(TenantOwnedModel):
    """A member tier: reached at ``growth_threshold`` growth, kept at review with
    ``keep_threshold`` growth earned in the review period; higher ``level`` is better."""

    name = models.CharField(_("name"), max_length=32)
    level = models.PositiveSmallIntegerField(_("level"), help_text=_("Higher is better."))
    growth_threshold = models.PositiveIntegerField(
        _("growth threshold"), help_text=_("Reached when the member's growth gets here.")
    )
    keep_threshold = models.PositiveIntegerField(
        _("keep threshold"),
        default=0,
        help_text=_("Growth to earn within a review period to keep the tier (0 = always kept)."),
    )
    discount_rate = models.DecimalField(
        _("item discount rate"),
        max_digits=4,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("1"))],
        help_text=_(
            "Members of this tier pay this share of the list price, e.g. 0.95 (empty: none)."
        ),
    )
    free_shipping = models.BooleanField(_("free shipping"), default=False)
    points_multiplier = models.DecimalField(
        _("points multiplier"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    birthday_points = models.PositiveIntegerField(_("birthday points"), default=0)
    birthday_coupon = models.ForeignKey(
        "promotions.CouponTemplate",
        verbose_name=_("birthday coupon"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = pgettext_lazy("member tier", "tier")
        verbose_name_plural = pgettext_lazy("member tier", "tiers")
        ordering = ["level", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "level"], name="uniq_tier_level"),
            models.UniqueConstraint(fields=["tenant", "name"], name="uniq_tier_name"),
            models.CheckConstraint(
                condition=Q(discount_rate__isnull=True)
                | Q(discount_rate__gt=0, discount_rate__lte=1),
                name="tier_discount_rate_valid",
            ),
            models.CheckConstraint(
                condition=Q(points_multiplier__gte=0), name="tier_points_multiplier_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TierCoupon(TenantOwnedModel):
    """A coupon of a tier's monthly pack: ``quantity`` coupons of ``template`` each month."""

    tier = models.ForeignKey(
        Tier,
        verbose_name=pgettext_lazy("member tier", "tier"),
        on_delete=models.CASCADE,
        related_name="monthly_coupons",
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
        verbose_name = _("monthly coupon")
        verbose_name_plural = _("monthly coupons")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["tier", "template"], name="uniq_tier_coupon"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="tier_coupon_quantity_gte_1"),
        ]

    def __str__(self) -> str:
        return f"{self.template_id} x{self.quantity}"


class MemberTier(TenantOwnedModel):
    """A member's tier: since when (the review anchor) and when it is reviewed next."""

    member = models.OneToOneField(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.CASCADE,
        related_name="tier_state",
    )
    tier = models.ForeignKey(
        Tier,
        verbose_name=pgettext_lazy("member tier", "tier"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    since = models.DateTimeField(_("since"))
    # Reviews passed in this tier: the next one is at since + (reviews + 1) periods, over the
    # growth earned since since + reviews periods (anchored: no drift from short months).
    reviews = models.PositiveIntegerField(_("reviews passed"), default=0)
    review_at = models.DateTimeField(_("review at"), null=True, blank=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("member tier")
        verbose_name_plural = _("member tiers")
        ordering = ["id"]
        indexes = [models.Index(fields=["tenant", "tier"], name="member_tier_tier")]

    def __str__(self) -> str:
        return f"member {self.member_id}: {self.tier_id}"


class GrowthEntry(TenantOwnedModel):
    """One change of a member's growth (the ledger: ``Member.growth`` is their sum)."""

    class Reason(models.TextChoices):
        ORDER = "order", _("Order completed")
        CHECKIN = "checkin", _("Check-in")
        MANUAL = "manual", _("Manual adjustment")
        REVIEW = "review", _("Tier review")
        MERGE = "merge", _("Accounts merged")
        OTHER = "other", _("Other")

    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.CASCADE,
        related_name="growth_entries",
    )
    delta = models.IntegerField(_("delta"))
    balance_after = models.IntegerField(_("balance after"))
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    # What it is for, unique per tenant (idempotency): "order:<number>", "checkin:<id>:<date>".
    ref = models.CharField(_("reference"), max_length=100)
    note = models.CharField(_("note"), max_length=200, blank=True, default="")
    created_at = models.DateTimeField(_("created at"), db_index=True)

    class Meta:
        verbose_name = _("growth entry")
        verbose_name_plural = _("growth entries")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "ref"], name="uniq_growth_ref"),
            models.CheckConstraint(condition=~Q(delta=0), name="growth_delta_ne_0"),
        ]
        indexes = [
            models.Index(fields=["tenant", "member", "created_at"], name="growth_member_time")
        ]

    def __str__(self) -> str:
        return f"{self.ref} {self.delta:+d}"


class TierChange(TenantOwnedModel):
    """History: a member's tier changed (or was kept at a review)."""

    class Reason(models.TextChoices):
        UPGRADE = "upgrade", _("Upgrade")
        KEPT = "kept", _("Kept at review")
        DROPPED = "dropped", _("Dropped at review")
        MANUAL = "manual", _("Set in the console")
        MERGE = "merge", _("Accounts merged")

    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.CASCADE,
        related_name="tier_changes",
    )
    from_tier = models.ForeignKey(
        Tier,
        verbose_name=_("from tier"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    to_tier = models.ForeignKey(
        Tier,
        verbose_name=_("to tier"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    growth = models.IntegerField(_("growth"))
    window_growth = models.IntegerField(_("growth in the review period"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("tier change")
        verbose_name_plural = _("tier changes")
        ordering = ["-id"]
        indexes = [models.Index(fields=["tenant", "member"], name="tier_change_member")]

    def __str__(self) -> str:
        return f"member {self.member_id}: {self.reason}"


class BenefitGrant(TenantOwnedModel):
    """A periodic benefit given once (the unique ``key`` per tenant): a tier's monthly coupon
    pack ("tier-pack:<member>:2026-12"), a card's pack for one card month
    ("card-pack:<member>:<period start>"), a birthday gift ("birthday:<member>:2026")."""

    class Kind(models.TextChoices):
        TIER_PACK = "tier_pack", _("Tier monthly coupons")
        CARD_PACK = "card_pack", _("Card coupons")
        BIRTHDAY = "birthday", _("Birthday gift")

    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.CASCADE,
        related_name="benefit_grants",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    key = models.CharField(_("key"), max_length=100)
    # {"coupons": [coupon ids], "skipped": {template_id: error code}, "points": n}
    detail = models.JSONField(pgettext_lazy("benefit grant", "detail"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("benefit grant")
        verbose_name_plural = _("benefit grants")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "key"], name="uniq_benefit_grant_key"),
        ]

    def __str__(self) -> str:
        return self.key
