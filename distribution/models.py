"""Distribution: per-tenant settings, grades, distributors and their chain, customer bindings,
per-product overrides, commissions, the distributor ledger, withdrawals and team rewards.

Money invariants live here as database constraints; the write paths are in ``services``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mall.tenancy.scoping import TenantOwnedModel

MAX_TIERS = 3
MAX_CAP_RATE = Decimal("0.50")
PYRAMID_RULE = _(
    "At most 3 commission tiers: WeChat treats deeper distribution chains (and commissions "
    "paid on recruiting) as pyramid selling and bans the mini program."
)


def _money(**kwargs: object) -> models.DecimalField:
    return models.DecimalField(max_digits=12, decimal_places=2, default=0, **kwargs)  # type: ignore[arg-type]


def _rate(**kwargs: object) -> models.DecimalField:
    return models.DecimalField(max_digits=6, decimal_places=4, default=0, **kwargs)  # type: ignore[arg-type]


class DistributionSettings(TenantOwnedModel):
    """One row per tenant: whether distribution runs and under which rules."""

    class Recruitment(models.TextChoices):
        ANYONE = "anyone", _("Anyone (approved at once)")
        APPROVAL = "approval", _("Anyone, after console approval")
        SPENDING = "spending", _("After spending at least an amount")
        INVITATION = "invitation", _("By invitation (a distributor's share code) only")

    class Binding(models.TextChoices):
        FIRST_TOUCH = "first_touch", _("First touch, locked for N days")
        LAST_TOUCH = "last_touch", _("Last touch")

    enabled = models.BooleanField(default=False, verbose_name=_("enabled"))
    tiers = models.PositiveSmallIntegerField(
        default=2, help_text=PYRAMID_RULE, verbose_name=_("tiers")
    )
    recruitment = models.CharField(
        max_length=16,
        choices=Recruitment.choices,
        default=Recruitment.APPROVAL,
        verbose_name=_("recruitment"),
    )
    recruitment_min_spent = _money(
        help_text=_("For 'after spending': paid, not refunded, CNY."),
        verbose_name=_("recruitment min spent"),
    )
    binding_mode = models.CharField(
        max_length=16,
        choices=Binding.choices,
        default=Binding.FIRST_TOUCH,
        verbose_name=_("binding mode"),
    )
    lock_days = models.PositiveIntegerField(
        default=30, help_text=_("First touch: days locked."), verbose_name=_("lock days")
    )
    self_purchase_commission = models.BooleanField(
        default=False,
        help_text=_("Does a distributor earn tier 1 on its own purchases?"),
        verbose_name=_("self purchase commission"),
    )
    cap_rate = models.DecimalField(
        max_digits=6,
        decimal_places=4,
        default=Decimal("0.3000"),
        help_text=_(
            "Cap on a line's total commission, as a share of its commission base (≤ 0.50)."
        ),
        verbose_name=_("cap rate"),
    )
    withdrawal_min_amount = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("1.00"),
        verbose_name=_("withdrawal min amount"),
    )
    withdrawal_fee_rate = _rate(verbose_name=_("withdrawal fee rate"))
    withdrawal_daily_limit = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("5000.00"),
        help_text=_("Per distributor and day; 0 = no limit."),
        verbose_name=_("withdrawal daily limit"),
    )
    # [{"min_sales": "10000.00", "rate": "0.02"}, ...]: team sales above min_sales earn rate.
    reward_ladder = models.JSONField(default=list, blank=True, verbose_name=_("reward ladder"))
    rules_version = models.PositiveIntegerField(default=1, verbose_name=_("rules version"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("distribution settings")
        verbose_name_plural = _("distribution settings")
        constraints = [
            models.UniqueConstraint(fields=["tenant"], name="uniq_distribution_settings"),
            models.CheckConstraint(
                condition=Q(tiers__gte=1) & Q(tiers__lte=MAX_TIERS),
                name="distribution_tiers_1_to_3",
            ),
            models.CheckConstraint(
                condition=Q(cap_rate__gte=0) & Q(cap_rate__lte=MAX_CAP_RATE),
                name="distribution_cap_rate_max_half",
            ),
            models.CheckConstraint(
                condition=Q(withdrawal_fee_rate__gte=0) & Q(withdrawal_fee_rate__lt=1),
                name="distribution_fee_rate_valid",
            ),
            models.CheckConstraint(
                condition=Q(withdrawal_min_amount__gte=0) & Q(withdrawal_daily_limit__gte=0),
                name="distribution_withdrawal_limits_gte_0",
            ),
        ]

    def __str__(self) -> str:
        return gettext("distribution settings of tenant %(tenant)s") % {"tenant": self.tenant_id}

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.tiers is not None and not 1 <= self.tiers <= MAX_TIERS:
            errors["tiers"] = PYRAMID_RULE
        if self.cap_rate is not None and not Decimal(0) <= self.cap_rate <= MAX_CAP_RATE:
            errors["cap_rate"] = gettext(
                "The commission cap cannot exceed half (0.50) of the commission base."
            )
        try:
            ladder_validate(self.reward_ladder)
        except ValueError as exc:
            errors["reward_ladder"] = str(exc)
        if errors:
            raise ValidationError(errors)


def ladder_validate(ladder: object) -> list[tuple[Decimal, Decimal]]:
    """``[{"min_sales", "rate"}]`` -> sorted ``[(min_sales, rate)]``; ValueError when invalid."""
    if not isinstance(ladder, list):
        raise ValueError(gettext("The reward ladder is a list of {min_sales, rate}."))
    steps: list[tuple[Decimal, Decimal]] = []
    for step in ladder:
        try:
            min_sales = Decimal(str(step["min_sales"]))
            rate = Decimal(str(step["rate"]))
        except (KeyError, TypeError, ArithmeticError) as exc:
            raise ValueError(gettext("Each ladder step needs min_sales and rate.")) from exc
        if min_sales < 0 or not Decimal(0) <= rate <= Decimal("0.5"):
            raise ValueError(gettext("min_sales must be ≥ 0 and rate between 0 and 0.5."))
        steps.append((min_sales, rate))
    return sorted(steps)


class DistributorGrade(TenantOwnedModel):
    """Commission rates of the distributors of one grade, per tier, and how to reach it."""

    name = models.CharField(max_length=50, verbose_name=_("name"))
    level = models.PositiveSmallIntegerField(
        default=1, help_text=_("Higher is better."), verbose_name=_("level")
    )
    tier1_rate = _rate(verbose_name=_("tier1 rate"))
    tier2_rate = _rate(verbose_name=_("tier2 rate"))
    tier3_rate = _rate(verbose_name=_("tier3 rate"))
    upgrade_team_size = models.PositiveIntegerField(
        default=0,
        help_text=_("Reached with at least this many team members (0 = not used)."),
        verbose_name=_("upgrade team size"),
    )
    upgrade_team_sales = _money(
        help_text=_("...or this much settled team sales (0 = not used)."),
        verbose_name=_("upgrade team sales"),
    )
    is_default = models.BooleanField(default=False, verbose_name=_("is default"))

    class Meta:
        verbose_name = _("distributor grade")
        verbose_name_plural = _("distributor grades")
        ordering = ["level", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "level"], name="uniq_grade_level"),
            models.UniqueConstraint(fields=["tenant", "name"], name="uniq_grade_name"),
            models.UniqueConstraint(
                fields=["tenant"], condition=Q(is_default=True), name="uniq_default_grade"
            ),
            models.CheckConstraint(
                condition=Q(tier1_rate__gte=0, tier1_rate__lte=MAX_CAP_RATE)
                & Q(tier2_rate__gte=0, tier2_rate__lte=MAX_CAP_RATE)
                & Q(tier3_rate__gte=0, tier3_rate__lte=MAX_CAP_RATE),
                name="grade_rates_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def rate_for(self, tier: int) -> Decimal:
        return {1: self.tier1_rate, 2: self.tier2_rate, 3: self.tier3_rate}[tier]


class Distributor(TenantOwnedModel):
    """A member who sells for the shop. ``parent``/``ancestor2``/``ancestor3`` are the three
    uplines (denormalised at approval), so a buyer's commission chain is one indexed query;
    ``path`` (``/root/.../self/``) holds the whole chain for cycle checks."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        FROZEN = "frozen", _("Frozen")

    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="+", verbose_name=_("member")
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, verbose_name=_("status")
    )
    grade = models.ForeignKey(
        DistributorGrade,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("grade"),
    )
    share_code = models.CharField(max_length=16, verbose_name=_("share code"))
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent"),
    )
    ancestor2 = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ancestor2"),
    )
    ancestor3 = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ancestor3"),
    )
    path = models.CharField(max_length=1000, blank=True, default="", verbose_name=_("path"))
    depth = models.PositiveIntegerField(default=0, verbose_name=_("depth"))
    # Cached ledger sum, changed only by F() updates in the ledger's transactions.
    balance = _money(verbose_name=_("balance"))
    note = models.CharField(max_length=200, blank=True, default="", verbose_name=_("note"))
    applied_at = models.DateTimeField(auto_now_add=True, verbose_name=_("applied at"))
    reviewed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("reviewed at"))

    class Meta:
        verbose_name = _("distributor")
        verbose_name_plural = _("distributors")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "member"], name="uniq_distributor_member"),
            models.UniqueConstraint(fields=["tenant", "share_code"], name="uniq_share_code"),
            models.CheckConstraint(condition=~Q(parent=F("id")), name="distributor_not_own_parent"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "approved", "rejected", "frozen"]),
                name="distributor_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "status", "-id"], name="distributor_status")]

    def __str__(self) -> str:
        return gettext("distributor %(code)s") % {"code": self.share_code}


# ``distribution.services.distributors`` applies it.
DISTRIBUTOR_TRANSITIONS: dict[str, frozenset[str]] = {
    Distributor.Status.PENDING: frozenset(
        {Distributor.Status.APPROVED, Distributor.Status.REJECTED}
    ),
    Distributor.Status.APPROVED: frozenset({Distributor.Status.FROZEN}),
    Distributor.Status.FROZEN: frozenset({Distributor.Status.APPROVED}),
    Distributor.Status.REJECTED: frozenset({Distributor.Status.PENDING}),
}


class Binding(TenantOwnedModel):
    """Who owns a customer. One current row per customer; ended rows are its history."""

    class Source(models.TextChoices):
        SHARE_LINK = "share_link", _("Share link")
        POSTER = "poster", _("Poster scene")
        LOGIN_SCENE = "login_scene", _("Scene at login")
        APPLICATION = "application", _("Distributor application")
        CONSOLE = "console", _("Console")

    customer = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="+", verbose_name=_("customer")
    )
    distributor = models.ForeignKey(
        Distributor, on_delete=models.PROTECT, related_name="+", verbose_name=_("distributor")
    )
    source = models.CharField(max_length=16, choices=Source.choices, verbose_name=_("source"))
    is_current = models.BooleanField(default=True, verbose_name=_("is current"))
    locked_until = models.DateTimeField(null=True, blank=True, verbose_name=_("locked until"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    ended_at = models.DateTimeField(null=True, blank=True, verbose_name=_("ended at"))

    class Meta:
        verbose_name = _("binding")
        verbose_name_plural = _("bindings")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "customer"],
                condition=Q(is_current=True),
                name="uniq_current_binding",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "distributor", "is_current"], name="binding_owner")
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} -> {self.distributor_id}"


class CommissionRule(TenantOwnedModel):
    """Per-product or per-SKU override of the grade rates (SKU wins over product)."""

    class Mode(models.TextChoices):
        RATE = "rate", _("Rate per tier")
        FIXED = "fixed", _("Fixed amount per unit, per tier")
        EXCLUDED = "excluded", _("No commission")

    product = models.ForeignKey(
        "catalog.Product",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("product"),
    )
    sku = models.ForeignKey(
        "catalog.Sku",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sku"),
    )
    mode = models.CharField(
        max_length=16, choices=Mode.choices, default=Mode.RATE, verbose_name=_("mode")
    )
    tier1_value = models.DecimalField(
        max_digits=12, decimal_places=4, default=0, verbose_name=_("tier1 value")
    )
    tier2_value = models.DecimalField(
        max_digits=12, decimal_places=4, default=0, verbose_name=_("tier2 value")
    )
    tier3_value = models.DecimalField(
        max_digits=12, decimal_places=4, default=0, verbose_name=_("tier3 value")
    )

    class Meta:
        verbose_name = _("commission rule")
        verbose_name_plural = _("commission rules")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(product__isnull=False, sku__isnull=True)
                | Q(product__isnull=True, sku__isnull=False),
                name="commission_rule_product_xor_sku",
            ),
            models.UniqueConstraint(
                fields=["tenant", "product"],
                condition=Q(sku__isnull=True),
                name="uniq_rule_product",
            ),
            models.UniqueConstraint(fields=["tenant", "sku"], name="uniq_rule_sku"),
            models.CheckConstraint(
                condition=Q(tier1_value__gte=0) & Q(tier2_value__gte=0) & Q(tier3_value__gte=0),
                name="commission_rule_values_gte_0",
            ),
        ]

    def __str__(self) -> str:
        return f"rule {self.mode} for {'sku ' + str(self.sku_id) if self.sku_id else self.product}"

    def clean(self) -> None:
        if (self.product_id is None) == (self.sku_id is None):
            raise ValidationError(gettext("Choose a product or a SKU (one of them)."))
        if self.mode == self.Mode.RATE and any(
            v is not None and v > MAX_CAP_RATE
            for v in (self.tier1_value, self.tier2_value, self.tier3_value)
        ):
            raise ValidationError(gettext("A rate is a share (0.10 = 10%) of at most 0.50."))

    def value_for(self, tier: int) -> Decimal:
        return {1: self.tier1_value, 2: self.tier2_value, 3: self.tier3_value}[tier]


class Commission(TenantOwnedModel):
    """One beneficiary's commission on one order line, at one tier."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending (frozen until the order completes)")
        SETTLED = "settled", _("Settled")
        REVERSED = "reversed", _("Reversed")

    # Indexes: every index is one more insert per settled row (1M rows in one settlement run
    # must stay well under a minute), so the single-column indexes Django adds to tenant,
    # order_line and beneficiary are left out: the composite ones below start with tenant.
    tenant = models.ForeignKey(
        "mall.Tenant",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        verbose_name=_("tenant"),
    )
    order = models.ForeignKey(
        "orders.Order", on_delete=models.PROTECT, related_name="+", verbose_name=_("order")
    )
    order_line = models.ForeignKey(
        "orders.OrderLine",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        verbose_name=_("order line"),
    )
    beneficiary = models.ForeignKey(
        Distributor,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        verbose_name=_("beneficiary"),
    )
    buyer = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="+", verbose_name=_("buyer")
    )
    tier = models.PositiveSmallIntegerField(verbose_name=_("tier"))
    base_amount = _money(verbose_name=_("base amount"))
    rate = models.DecimalField(
        max_digits=6, decimal_places=4, null=True, blank=True, verbose_name=_("rate")
    )
    amount = _money(verbose_name=_("amount"))
    reversed_amount = _money(verbose_name=_("reversed amount"))
    reversed_base = _money(verbose_name=_("reversed base"))
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, verbose_name=_("status")
    )
    rule = models.JSONField(default=dict, blank=True, verbose_name=_("rule"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    settled_at = models.DateTimeField(null=True, blank=True, verbose_name=_("settled at"))
    # Token of the settlement batch that settled the row (set-based settlement).
    settle_batch = models.CharField(
        max_length=32, blank=True, default="", verbose_name=_("settle batch")
    )

    class Meta:
        verbose_name = _("commission")
        verbose_name_plural = _("commissions")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "order_line", "tier"], name="uniq_commission_line_tier"
            ),
            models.CheckConstraint(
                condition=Q(tier__gte=1) & Q(tier__lte=MAX_TIERS), name="commission_tier_1_to_3"
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0)
                & Q(reversed_amount__gte=0)
                & Q(reversed_amount__lte=F("amount")),
                name="commission_amounts_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "settled", "reversed"]),
                name="commission_status_valid",
            ),
        ]
        indexes = [
            # Only pending rows: a settled row leaves it (no index insert on settlement).
            models.Index(
                fields=["order"], condition=Q(status="pending"), name="commission_due_pending"
            ),
            models.Index(fields=["tenant", "beneficiary", "-id"], name="commission_mine"),
        ]

    def __str__(self) -> str:
        return gettext("commission %(id)s tier %(tier)s %(amount)s") % {
            "id": self.pk,
            "tier": self.tier,
            "amount": self.amount,
        }

    @property
    def net_amount(self) -> Decimal:
        return self.amount - self.reversed_amount


_C = Commission.Status
COMMISSION_TRANSITIONS: dict[str, frozenset[str]] = {
    _C.PENDING: frozenset({_C.SETTLED, _C.REVERSED}),
    # A refund after settlement reverses a settled commission (debited on the ledger).
    _C.SETTLED: frozenset({_C.REVERSED}),
    _C.REVERSED: frozenset(),
}


class CommissionReversal(TenantOwnedModel):
    """What one refund (``refund_ref``) took back from one commission: exactly once."""

    commission = models.ForeignKey(
        Commission, on_delete=models.PROTECT, related_name="reversals", verbose_name=_("commission")
    )
    refund_ref = models.CharField(max_length=64, verbose_name=_("refund ref"))
    line_refund_amount = _money(verbose_name=_("line refund amount"))
    amount = _money(verbose_name=_("amount"))
    base_amount = _money(verbose_name=_("base amount"))
    after_settlement = models.BooleanField(default=False, verbose_name=_("after settlement"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("commission reversal")
        verbose_name_plural = _("commission reversals")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "commission", "refund_ref"], name="uniq_reversal_per_refund"
            ),
        ]

    def __str__(self) -> str:
        return f"reversal {self.refund_ref} of {self.commission_id}"


class LedgerEntry(TenantOwnedModel):
    """A signed movement of a distributor's balance. Balance = the sum of its entries."""

    class Kind(models.TextChoices):
        CREDIT = "credit", _("Commission settled")
        DEBIT = "debit", _("Commission reversed after settlement")
        WITHDRAW = "withdraw", _("Withdrawal requested")
        WITHDRAW_REVERSAL = "withdraw_reversal", _("Withdrawal rejected")
        REWARD = "reward", _("Team reward")

    # tenant and distributor are covered by ledger_mine / uniq_ledger_reference (see Commission).
    tenant = models.ForeignKey(
        "mall.Tenant",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        verbose_name=_("tenant"),
    )
    distributor = models.ForeignKey(
        Distributor,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        verbose_name=_("distributor"),
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, verbose_name=_("kind"))
    amount = _money(verbose_name=_("amount"))  # signed: credits > 0, debits and withdrawals < 0
    reference = models.CharField(max_length=128, verbose_name=_("reference"))
    note = models.CharField(max_length=200, blank=True, default="", verbose_name=_("note"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("ledger entry")
        ordering = ["-id"]
        verbose_name_plural = _("ledger entries")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "kind", "reference"], name="uniq_ledger_reference"
            ),
            models.CheckConstraint(
                condition=(Q(kind__in=["credit", "withdraw_reversal", "reward"]) & Q(amount__gt=0))
                | (Q(kind__in=["debit", "withdraw"]) & Q(amount__lt=0)),
                name="ledger_sign_by_kind",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "distributor", "-id"], name="ledger_mine")]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} ({self.reference})"


class Withdrawal(TenantOwnedModel):
    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        APPROVED = "approved", _("Approved")
        PAID = "paid", _("Paid")
        REJECTED = "rejected", _("Rejected")

    class Method(models.TextChoices):
        OFFLINE = "offline", _("Offline payout recorded by finance")
        WECHAT = "wechat", _("WeChat Pay transfer")
        SANDBOX = "sandbox", _("Sandbox transfer")

    distributor = models.ForeignKey(
        Distributor, on_delete=models.PROTECT, related_name="+", verbose_name=_("distributor")
    )
    amount = _money(verbose_name=_("amount"))
    fee = _money(verbose_name=_("fee"))
    net_amount = _money(verbose_name=_("net amount"))
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.REQUESTED, verbose_name=_("status")
    )
    method = models.CharField(
        max_length=16, choices=Method.choices, default=Method.OFFLINE, verbose_name=_("method")
    )
    payout_reference = models.CharField(
        max_length=64, blank=True, default="", verbose_name=_("payout reference")
    )
    reason = models.CharField(max_length=200, blank=True, default="", verbose_name=_("reason"))
    reviewed_by = models.CharField(
        max_length=64, blank=True, default="", verbose_name=_("reviewed by")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    reviewed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("reviewed at"))
    paid_at = models.DateTimeField(null=True, blank=True, verbose_name=_("paid at"))

    class Meta:
        verbose_name = _("withdrawal")
        verbose_name_plural = _("withdrawals")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0) & Q(fee__gte=0) & Q(net_amount=F("amount") - F("fee")),
                name="withdrawal_amounts_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["requested", "approved", "paid", "rejected"]),
                name="withdrawal_status_valid",
            ),
            models.UniqueConstraint(
                fields=["tenant", "payout_reference"],
                condition=~Q(payout_reference=""),
                name="uniq_withdrawal_payout_reference",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "status", "-id"], name="withdrawal_status")]

    def __str__(self) -> str:
        return gettext("withdrawal %(id)s %(amount)s %(status)s") % {
            "id": self.pk,
            "amount": self.amount,
            "status": self.get_status_display(),
        }


# ``distribution.services.withdrawals`` applies it.
WITHDRAWAL_TRANSITIONS: dict[str, frozenset[str]] = {
    Withdrawal.Status.REQUESTED: frozenset(
        {Withdrawal.Status.APPROVED, Withdrawal.Status.REJECTED}
    ),
    Withdrawal.Status.APPROVED: frozenset({Withdrawal.Status.PAID, Withdrawal.Status.REJECTED}),
    Withdrawal.Status.PAID: frozenset(),
    Withdrawal.Status.REJECTED: frozenset(),
}


class TeamReward(TenantOwnedModel):
    """A month's team reward of one distributor (idempotent per distributor-month)."""

    distributor = models.ForeignKey(
        Distributor, on_delete=models.PROTECT, related_name="+", verbose_name=_("distributor")
    )
    month = models.DateField(help_text=_("First day of the month."), verbose_name=_("month"))
    team_sales = _money(verbose_name=_("team sales"))
    rate = _rate(verbose_name=_("rate"))
    amount = _money(verbose_name=_("amount"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("team reward")
        verbose_name_plural = _("team rewards")
        ordering = ["-month", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "distributor", "month"], name="uniq_reward_month"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="reward_amount_gt_0"),
        ]

    def __str__(self) -> str:
        return gettext("reward %(month)s %(amount)s") % {
            "month": f"{self.month:%Y-%m}",
            "amount": self.amount,
        }
