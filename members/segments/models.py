"""Tags (manual labels on members), segments (typed conditions) and the nightly RFM row."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mall.tenancy.scoping import TenantOwnedModel


class Tag(TenantOwnedModel):
    """A label a merchant puts on members by hand (or an automation rule puts on them)."""

    name = models.CharField(_("name"), max_length=32)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("member tag")
        verbose_name_plural = _("member tags")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="uniq_tag_name_per_tenant"),
        ]

    def __str__(self) -> str:
        return self.name


class MemberTag(TenantOwnedModel):
    """A tag on a member (at most once)."""

    class Source(models.TextChoices):
        MANUAL = "manual", _("Manual")
        API = "api", _("Open API")
        AUTOMATION = "automation", _("Automation")

    member = models.ForeignKey(
        "members.Member", verbose_name=_("member"), on_delete=models.CASCADE, related_name="+"
    )
    tag = models.ForeignKey(
        Tag, verbose_name=_("tag"), on_delete=models.CASCADE, related_name="member_tags"
    )
    source = models.CharField(
        _("source"), max_length=16, choices=Source.choices, default=Source.MANUAL
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("tag of a member")
        verbose_name_plural = _("tags of members")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["member", "tag"], name="uniq_member_tag"),
        ]
        indexes = [models.Index(fields=["tenant", "tag", "member"])]

    def __str__(self) -> str:
        return f"{self.member_id}:{self.tag_id}"


class Segment(TenantOwnedModel):
    """A live set of members: the members who meet all (or any) of its conditions now."""

    class Match(models.TextChoices):
        ALL = "all", _("All conditions")
        ANY = "any", _("Any condition")

    name = models.CharField(_("name"), max_length=64)
    description = models.CharField(_("description"), max_length=200, blank=True, default="")
    match = models.CharField(_("match"), max_length=8, choices=Match.choices, default=Match.ALL)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("member segment")
        verbose_name_plural = _("member segments")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="uniq_segment_name_per_tenant"),
            models.CheckConstraint(
                condition=models.Q(match__in=["all", "any"]), name="segment_match_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


WINDOW_CHOICES = [
    (30, _("30 days")),
    (90, _("90 days")),
    (180, _("180 days")),
    (365, _("365 days")),
]
WINDOWS = tuple(days for days, _label in WINDOW_CHOICES)


class SegmentCondition(TenantOwnedModel):
    """One typed row of a segment. Which fields a row uses depends on its kind (``clean``)."""

    class Kind(models.TextChoices):
        TAG = "tag", _("Has the tag")
        PLATFORM = "platform", _("Uses the platform")
        CITY = "city", _("Has an address in the city")
        BIRTHDAY_MONTH = "birthday_month", _("Birthday in the month")
        DISTRIBUTOR = "distributor", _("Is an approved distributor")
        TIER = "tier", _("Is in the tier")
        DAYS_SINCE_PAID = "days_since_paid", _("Days since the last paid order")
        PAID_ORDERS = "paid_orders", _("Paid orders in the window")
        PAID_AMOUNT = "paid_amount", _("Paid amount in the window")
        R_SCORE = "r_score", _("RFM recency score")
        F_SCORE = "f_score", _("RFM frequency score")
        M_SCORE = "m_score", _("RFM monetary score")

    class Comparison(models.TextChoices):
        AT_LEAST = "gte", _("at least")
        AT_MOST = "lte", _("at most")

    class Platform(models.TextChoices):
        WECHAT = "wechat", _("WeChat")
        ALIPAY = "alipay", _("Alipay")
        H5 = "h5", _("H5")

    segment = models.ForeignKey(
        Segment, verbose_name=_("segment"), on_delete=models.CASCADE, related_name="conditions"
    )
    kind = models.CharField(_("condition"), max_length=20, choices=Kind.choices)
    negate = models.BooleanField(
        _("not"), default=False, help_text=_("Members who do NOT meet this condition.")
    )
    tag = models.ForeignKey(
        Tag,
        verbose_name=_("tag"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    platform = models.CharField(
        _("platform"), max_length=16, choices=Platform.choices, blank=True, default=""
    )
    city = models.CharField(_("city"), max_length=32, blank=True, default="")
    month = models.PositiveSmallIntegerField(
        _("month"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
    )
    # The tier's id (members.tiers lands with its own model; no foreign key from here).
    tier_id = models.PositiveIntegerField(_("tier id"), null=True, blank=True)
    comparison = models.CharField(
        _("comparison"), max_length=4, choices=Comparison.choices, blank=True, default=""
    )
    number = models.PositiveIntegerField(
        _("number"), null=True, blank=True, help_text=_("Days, orders or score (1-5).")
    )
    amount = models.DecimalField(
        _("amount"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    window_days = models.PositiveSmallIntegerField(
        _("window"), choices=WINDOW_CHOICES, null=True, blank=True
    )

    class Meta:
        verbose_name = _("segment condition")
        verbose_name_plural = _("segment conditions")
        ordering = ["id"]
        indexes = [models.Index(fields=["tenant", "segment"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}"

    # Which fields each kind needs.
    REQUIRED: dict[str, tuple[str, ...]] = {
        Kind.TAG: ("tag",),
        Kind.PLATFORM: ("platform",),
        Kind.CITY: ("city",),
        Kind.BIRTHDAY_MONTH: ("month",),
        Kind.DISTRIBUTOR: (),
        Kind.TIER: ("tier_id",),
        Kind.DAYS_SINCE_PAID: ("comparison", "number"),
        Kind.PAID_ORDERS: ("comparison", "number", "window_days"),
        Kind.PAID_AMOUNT: ("comparison", "amount", "window_days"),
        Kind.R_SCORE: ("comparison", "number"),
        Kind.F_SCORE: ("comparison", "number"),
        Kind.M_SCORE: ("comparison", "number"),
    }

    def clean(self) -> None:
        errors: dict[str, str] = {}
        for name in self.REQUIRED.get(self.kind, ()):
            value = getattr(self, name if name != "tag" else "tag_id")
            if value in (None, ""):
                errors[name] = gettext("Required for this condition.")
        if self.kind in (self.Kind.R_SCORE, self.Kind.F_SCORE, self.Kind.M_SCORE) and (
            self.number is not None and not 1 <= self.number <= 5
        ):
            errors["number"] = gettext("A score is between 1 and 5.")
        if self.amount is not None and self.amount < 0:
            errors["amount"] = gettext("The amount cannot be negative.")
        if errors:
            raise ValidationError(errors)


class MemberRfm(TenantOwnedModel):
    """A member's paid orders summed up, and the R, F, M scores (1-5; 0 = no paid order in the
    365-day window). Refreshed nightly by ``rfm_refresh`` (set-based; see docs/members.md)."""

    member = models.OneToOneField(
        "members.Member", verbose_name=_("member"), on_delete=models.CASCADE, related_name="rfm"
    )
    last_paid_at = models.DateTimeField(_("last paid at"), null=True, blank=True)
    orders_30d = models.PositiveIntegerField(_("paid orders, 30 days"), default=0)
    orders_90d = models.PositiveIntegerField(_("paid orders, 90 days"), default=0)
    orders_180d = models.PositiveIntegerField(_("paid orders, 180 days"), default=0)
    orders_365d = models.PositiveIntegerField(_("paid orders, 365 days"), default=0)
    amount_30d = models.DecimalField(
        _("paid amount, 30 days"), max_digits=14, decimal_places=2, default=0
    )
    amount_90d = models.DecimalField(
        _("paid amount, 90 days"), max_digits=14, decimal_places=2, default=0
    )
    amount_180d = models.DecimalField(
        _("paid amount, 180 days"), max_digits=14, decimal_places=2, default=0
    )
    amount_365d = models.DecimalField(
        _("paid amount, 365 days"), max_digits=14, decimal_places=2, default=0
    )
    r_score = models.PositiveSmallIntegerField(_("R score"), default=0)
    f_score = models.PositiveSmallIntegerField(_("F score"), default=0)
    m_score = models.PositiveSmallIntegerField(_("M score"), default=0)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("member RFM")
        verbose_name_plural = _("member RFM")
        ordering = ["id"]
        indexes = [models.Index(fields=["tenant", "last_paid_at"])]

    def __str__(self) -> str:
        return f"R{self.r_score} F{self.f_score} M{self.m_score}"
