"""Promotions: the tenant's pricing settings, coupon templates and coupons, campaigns and
flash-sale SKUs. Counters (issued, discount given, sold) change only by guarded F() updates."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mall.tenancy.scoping import TenantOwnedModel
from promotions.pricing.types import CampaignKind
from promotions.rules import validate_rules

AMOUNT: dict[str, Any] = {"max_digits": 12, "decimal_places": 2}


class PromotionSettings(TenantOwnedModel):
    """A tenant's points rate and stacking rules; no row means the defaults below."""

    points_per_yuan = models.PositiveIntegerField(
        _("points per yuan"),
        default=100,
        validators=[MinValueValidator(1), MaxValueValidator(100_000)],
    )
    points_max_share = models.DecimalField(
        _("points max share"),
        max_digits=3,
        decimal_places=2,
        default=Decimal("0.50"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text=_("Share of the goods payable (after coupons) points may pay, 0 to 1."),
    )
    max_goods_coupons = models.PositiveSmallIntegerField(
        _("max goods coupons"), default=1, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    coupons_with_campaigns = models.BooleanField(
        _("coupons with campaigns"),
        default=True,
        help_text=_("Coupons also apply to items a full reduction/discount reduced."),
    )
    coupons_on_flash_sale = models.BooleanField(_("coupons on flash sale"), default=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("promotion settings")
        verbose_name_plural = _("promotion settings")
        constraints = [
            models.UniqueConstraint(fields=["tenant"], name="uniq_promotion_settings_per_tenant"),
            models.CheckConstraint(
                condition=Q(points_max_share__gte=0) & Q(points_max_share__lte=1),
                name="promotion_settings_share_range",
            ),
            models.CheckConstraint(
                condition=Q(points_per_yuan__gte=1), name="promotion_settings_rate_gte_1"
            ),
        ]

    def __str__(self) -> str:
        return f"promotion settings of tenant {self.tenant_id}"


class ScopeType(models.TextChoices):
    ALL = "all", _("All products")
    CATEGORIES = "categories", _("Categories")
    PRODUCTS = "products", _("Products")


class CouponTemplate(TenantOwnedModel):
    """What a coupon is worth and who may claim how many; claimed coupons are ``Coupon`` rows."""

    class Kind(models.TextChoices):
        FIXED = "fixed", _("Amount off (no threshold)")
        THRESHOLD = "threshold", _("Over X, amount off")
        PERCENT = "percent", _("Percent off (with a cap)")
        SHIPPING = "shipping", _("Shipping coupon")

    class Validity(models.TextChoices):
        FIXED = "fixed", _("Fixed window")
        RELATIVE = "relative", _("N days after claim")

    class Channel(models.TextChoices):
        PUBLIC = "public", _("Public (claim centre)")
        AUTOMATION = "automation", _("Automation / console only")
        DISTRIBUTOR = "distributor", _("Distributor share")

    name = models.CharField(_("name"), max_length=64)
    description = models.CharField(_("description"), max_length=200, blank=True, default="")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    amount = models.DecimalField(
        _("amount"),
        **AMOUNT,
        null=True,
        blank=True,
        help_text=_("Amount off; for shipping coupons empty = free."),
    )
    percent_off = models.DecimalField(
        _("percent off"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("99.99"))],
    )
    max_discount = models.DecimalField(_("max discount"), **AMOUNT, null=True, blank=True)
    threshold = models.DecimalField(_("threshold"), **AMOUNT, default=Decimal("0"))
    scope_type = models.CharField(
        _("scope type"), max_length=16, choices=ScopeType.choices, default=ScopeType.ALL
    )
    categories = models.ManyToManyField(
        "catalog.Category", verbose_name=_("categories"), blank=True, related_name="+"
    )
    products = models.ManyToManyField(
        "catalog.Product", verbose_name=_("products"), blank=True, related_name="+"
    )
    excluded_products = models.ManyToManyField(
        "catalog.Product", verbose_name=_("excluded products"), blank=True, related_name="+"
    )
    total_quantity = models.PositiveIntegerField(_("total quantity"))
    issued_count = models.PositiveIntegerField(_("issued count"), default=0, editable=False)
    per_member_limit = models.PositiveSmallIntegerField(
        _("per member limit"), default=1, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    validity_type = models.CharField(
        _("validity type"), max_length=16, choices=Validity.choices, default=Validity.FIXED
    )
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    valid_days = models.PositiveSmallIntegerField(
        _("valid days"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
    )
    claim_channel = models.CharField(
        _("claim channel"), max_length=16, choices=Channel.choices, default=Channel.PUBLIC
    )
    claim_starts_at = models.DateTimeField(_("claim starts at"), null=True, blank=True)
    claim_ends_at = models.DateTimeField(_("claim ends at"), null=True, blank=True)
    is_active = models.BooleanField(_("is active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("coupon template")
        verbose_name_plural = _("coupon templates")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="uniq_coupon_template_name"),
            models.CheckConstraint(
                condition=Q(issued_count__lte=F("total_quantity")),
                name="coupon_template_issued_lte_total",
            ),
            models.CheckConstraint(
                condition=Q(percent_off__isnull=True)
                | (Q(percent_off__gt=0) & Q(percent_off__lt=100)),
                name="coupon_template_percent_range",
            ),
            models.CheckConstraint(
                condition=(Q(amount__isnull=True) | Q(amount__gte=0))
                & (Q(max_discount__isnull=True) | Q(max_discount__gt=0))
                & Q(threshold__gte=0),
                name="coupon_template_amounts_gte_0",
            ),
            models.CheckConstraint(
                condition=Q(per_member_limit__gte=1), name="coupon_template_limit_gte_1"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.kind == self.Kind.PERCENT:
            if self.percent_off is None:
                errors["percent_off"] = gettext(
                    "A percent coupon needs its percentage (0.01 to 99.99)."
                )
        elif self.kind in (self.Kind.FIXED, self.Kind.THRESHOLD):
            if not self.amount:
                errors["amount"] = gettext("This coupon needs an amount greater than 0.")
            if self.kind == self.Kind.THRESHOLD and not self.threshold:
                errors["threshold"] = gettext("A threshold coupon needs a threshold.")
            if (
                self.kind == self.Kind.THRESHOLD
                and self.amount
                and self.threshold
                and self.amount > self.threshold
            ):
                errors["amount"] = gettext("The amount off cannot exceed the threshold.")
        if self.validity_type == self.Validity.FIXED:
            if not (self.valid_from and self.valid_until):
                errors["valid_until"] = gettext("A fixed window needs its start and end.")
            elif self.valid_until <= self.valid_from:
                errors["valid_until"] = gettext("The end must be after the start.")
        elif not self.valid_days:
            errors["valid_days"] = gettext("Give the number of days a claimed coupon is valid.")
        if (
            self.claim_starts_at
            and self.claim_ends_at
            and self.claim_ends_at <= self.claim_starts_at
        ):
            errors["claim_ends_at"] = gettext("The end must be after the start.")
        if self.pk and self.total_quantity is not None and self.total_quantity < self.issued_count:
            errors["total_quantity"] = f"{self.issued_count} are already issued."
        if errors:
            raise ValidationError(errors)


class Coupon(TenantOwnedModel):
    """A coupon held by a member. ``seq`` numbers a member's coupons of one template, so the
    unique constraint makes the per-member limit hold under concurrent claims."""

    class Status(models.TextChoices):
        UNUSED = "unused", _("Unused")
        LOCKED = "locked", _("Locked by an unpaid order")
        USED = "used", _("Used")
        EXPIRED = "expired", _("Expired")

    template = models.ForeignKey(
        CouponTemplate, verbose_name=_("template"), on_delete=models.PROTECT, related_name="coupons"
    )
    member = models.ForeignKey(
        "members.Member", verbose_name=_("member"), on_delete=models.CASCADE, related_name="+"
    )
    seq = models.PositiveSmallIntegerField(_("seq"), default=1)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.UNUSED
    )
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"))
    channel = models.CharField(_("channel"), max_length=16, choices=CouponTemplate.Channel.choices)
    order_reference = models.CharField(_("order reference"), max_length=64, blank=True, default="")
    claimed_at = models.DateTimeField(_("claimed at"), auto_now_add=True)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("coupon")
        verbose_name_plural = _("coupons")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "template", "member", "seq"], name="uniq_coupon_member_seq"
            ),
            models.CheckConstraint(
                condition=Q(valid_until__gt=F("valid_from")), name="coupon_window_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["unused", "locked", "used", "expired"]),
                name="coupon_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "member", "status"], name="coupon_member_status"),
            models.Index(fields=["status", "valid_until"], name="coupon_expiry"),
        ]

    def __str__(self) -> str:
        return f"{self.template_id} for member {self.member_id}"


# ``promotions.services.coupons`` applies it (set-based: ``coupon_transition_update``).
COUPON_TRANSITIONS: dict[str, frozenset[str]] = {
    Coupon.Status.UNUSED: frozenset({Coupon.Status.LOCKED, Coupon.Status.EXPIRED}),
    Coupon.Status.LOCKED: frozenset({Coupon.Status.USED, Coupon.Status.UNUSED}),
    Coupon.Status.USED: frozenset(),
    Coupon.Status.EXPIRED: frozenset(),
}


CAMPAIGN_KIND_LABELS = {
    CampaignKind.FULL_REDUCTION: _("Full reduction"),
    CampaignKind.DISCOUNT: _("Discount"),
    CampaignKind.GIFT: _("Gift"),
    CampaignKind.ADDON: _("Add-on purchase"),
    CampaignKind.MEMBER_PRICE: _("Member price"),
    CampaignKind.FLASH_SALE: _("Flash sale"),
    CampaignKind.FREE_SHIPPING: _("Free shipping"),
}


class Campaign(TenantOwnedModel):
    """A scheduled promotion of one kind. The kind set is open (seckill, group buy and bargain
    come later): no database constraint on it, rules validated by ``promotions.rules``."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        ACTIVE = "active", _("Active")
        ENDED = "ended", _("Ended")
        CANCELLED = "cancelled", _("Cancelled")

    KIND_CHOICES = [
        (k.value, CAMPAIGN_KIND_LABELS.get(k, k.value.replace("_", " ").capitalize()))
        for k in CampaignKind
    ]

    name = models.CharField(_("name"), max_length=64)
    kind = models.CharField(_("kind"), max_length=32, choices=KIND_CHOICES)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    priority = models.IntegerField(_("priority"), default=0, help_text=_("Higher applies first."))
    all_items = models.BooleanField(
        _("all items"), default=True, help_text=_("Off: only the scope below.")
    )
    products = models.ManyToManyField(
        "catalog.Product", verbose_name=_("products"), blank=True, related_name="+"
    )
    categories = models.ManyToManyField(
        "catalog.Category", verbose_name=_("categories"), blank=True, related_name="+"
    )
    skus = models.ManyToManyField(
        "catalog.Sku", verbose_name=_("skus"), blank=True, related_name="+"
    )
    excluded_products = models.ManyToManyField(
        "catalog.Product", verbose_name=_("excluded products"), blank=True, related_name="+"
    )
    on_wechat = models.BooleanField(_("shown on WeChat"), default=True)
    on_alipay = models.BooleanField(_("shown on Alipay"), default=True)
    on_h5 = models.BooleanField(_("shown on H5"), default=True)
    title = models.CharField(_("title"), max_length=64, blank=True, default="")
    banner = models.URLField(_("banner"), max_length=500, blank=True, default="")
    rules = models.JSONField(_("rules"), default=dict, blank=True)
    # Null: the kind's defaults (pricing.types.DEFAULT_STACKS_WITH); else a list of kinds.
    stacks_with = models.JSONField(_("stacks with"), null=True, blank=True)
    budget = models.DecimalField(_("budget"), **AMOUNT, null=True, blank=True)
    discount_given = models.DecimalField(
        _("discount given"), **AMOUNT, default=Decimal("0"), editable=False
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="campaign_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "scheduled", "active", "ended", "cancelled"]),
                name="campaign_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(discount_given__gte=0)
                & (Q(budget__isnull=True) | Q(discount_given__lte=F("budget"))),
                name="campaign_discount_within_budget",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "status", "starts_at", "ends_at"], name="campaign_live"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def platforms(self) -> frozenset[str]:
        return frozenset(
            p
            for p, shown in (
                ("wechat", self.on_wechat),
                ("alipay", self.on_alipay),
                ("h5", self.on_h5),
            )
            if shown
        )

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = gettext("The end must be after the start.")
        try:
            self.rules = validate_rules(self.kind, self.rules)
        except ValueError as exc:
            errors["rules"] = str(exc)
        if self.stacks_with is not None and (
            not isinstance(self.stacks_with, list)
            or not all(isinstance(k, str) for k in self.stacks_with)
        ):
            errors["stacks_with"] = gettext('A list of kinds, e.g. ["flash_sale", "member_price"].')
        if self.budget is not None and self.budget < self.discount_given:
            errors["budget"] = f"{self.discount_given} is already given."
        if not (self.on_wechat or self.on_alipay or self.on_h5):
            errors["on_wechat"] = gettext("Show the campaign on at least one platform.")
        if errors:
            raise ValidationError(errors)


# ``promotions.services.campaigns`` applies it (console moves and the beat's guarded UPDATEs).
CAMPAIGN_TRANSITIONS: dict[str, frozenset[str]] = {
    Campaign.Status.DRAFT: frozenset({Campaign.Status.SCHEDULED, Campaign.Status.CANCELLED}),
    Campaign.Status.SCHEDULED: frozenset(
        {
            Campaign.Status.ACTIVE,
            Campaign.Status.ENDED,
            Campaign.Status.CANCELLED,
            Campaign.Status.DRAFT,
        }
    ),
    Campaign.Status.ACTIVE: frozenset({Campaign.Status.ENDED, Campaign.Status.CANCELLED}),
    Campaign.Status.ENDED: frozenset(),
    Campaign.Status.CANCELLED: frozenset(),
}


class CampaignDisplay(TenantOwnedModel):
    """A platform-specific title and banner (falls back to the campaign's own)."""

    class Platform(models.TextChoices):
        WECHAT = "wechat", _("WeChat")
        ALIPAY = "alipay", _("Alipay")
        H5 = "h5", _("H5")

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="displays"
    )
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices)
    title = models.CharField(_("title"), max_length=64, blank=True, default="")
    banner = models.URLField(_("banner"), max_length=500, blank=True, default="")

    class Meta:
        verbose_name = _("campaign display")
        verbose_name_plural = _("campaign displays")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "campaign", "platform"], name="uniq_campaign_display_platform"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} on {self.platform}"


class FlashSaleSku(TenantOwnedModel):
    """A SKU's price in a flash-sale campaign, with its quota and per-member limit."""

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="flash_skus"
    )
    sku = models.ForeignKey(
        "catalog.Sku", verbose_name=_("sku"), on_delete=models.PROTECT, related_name="+"
    )
    price = models.DecimalField(_("price"), **AMOUNT)
    quota = models.PositiveIntegerField(_("quota"))
    sold = models.PositiveIntegerField(_("sold"), default=0, editable=False)
    per_member_limit = models.PositiveSmallIntegerField(
        _("per member limit"), default=0, help_text=_("0: no limit.")
    )

    class Meta:
        verbose_name = _("flash sale sku")
        verbose_name_plural = _("flash sale skus")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "campaign", "sku"], name="uniq_flash_sale_sku"
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="flash_sale_price_gte_0"),
            models.CheckConstraint(
                condition=Q(sold__lte=F("quota")), name="flash_sale_sold_lte_quota"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku_id} at {self.price}"
