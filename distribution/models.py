"""Distribution: per-tenant settings, grades, distributors and their chain, customer bindings,
per-product overrides, commissions, the distributor ledger, withdrawals and team rewards.

Money invariants live here as database constraints; the write paths are in ``services``.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from mall.tenancy.scoping import TenantOwnedModel

MAX_TIERS = 3
MAX_CAP_RATE = Decimal("0.50")
PYRAMID_RULE = (
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
        ANYONE = "anyone", "Anyone (approved at once)"
        APPROVAL = "approval", "Anyone, after console approval"
        SPENDING = "spending", "After spending at least an amount"
        INVITATION = "invitation", "By invitation (a distributor's share code) only"

    class Binding(models.TextChoices):
        FIRST_TOUCH = "first_touch", "First touch, locked for N days"
        LAST_TOUCH = "last_touch", "Last touch"

    enabled = models.BooleanField(default=False)
    tiers = models.PositiveSmallIntegerField(default=2, help_text=PYRAMID_RULE)
    recruitment = models.CharField(
        max_length=16, choices=Recruitment.choices, default=Recruitment.APPROVAL
    )
    recruitment_min_spent = _money(help_text="For 'after spending': paid, not refunded, CNY.")
    binding_mode = models.CharField(
        max_length=16, choices=Binding.choices, default=Binding.FIRST_TOUCH
    )
    lock_days = models.PositiveIntegerField(default=30, help_text="First touch: days locked.")
    self_purchase_commission = models.BooleanField(
        default=False, help_text="Does a distributor earn tier 1 on its own purchases?"
    )
    cap_rate = models.DecimalField(
        max_digits=6,
        decimal_places=4,
        default=Decimal("0.3000"),
        help_text="Cap on a line's total commission, as a share of its commission base (≤ 0.50).",
    )
    withdrawal_min_amount = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("1.00")
    )
    withdrawal_fee_rate = _rate()
    withdrawal_daily_limit = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("5000.00"),
        help_text="Per distributor and day; 0 = no limit.",
    )
    # [{"min_sales": "10000.00", "rate": "0.02"}, ...]: team sales above min_sales earn rate.
    reward_ladder = models.JSONField(default=list, blank=True)
    rules_version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "distribution settings"
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
        return f"distribution settings of tenant {self.tenant_id}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.tiers is not None and not 1 <= self.tiers <= MAX_TIERS:
            errors["tiers"] = PYRAMID_RULE
        if self.cap_rate is not None and not Decimal(0) <= self.cap_rate <= MAX_CAP_RATE:
            errors["cap_rate"] = "The commission cap cannot exceed 50% of the commission base."
        try:
            ladder_validate(self.reward_ladder)
        except ValueError as exc:
            errors["reward_ladder"] = str(exc)
        if errors:
            raise ValidationError(errors)


def ladder_validate(ladder: object) -> list[tuple[Decimal, Decimal]]:
    """``[{"min_sales", "rate"}]`` -> sorted ``[(min_sales, rate)]``; ValueError when invalid."""
    if not isinstance(ladder, list):
        raise ValueError("The reward ladder is a list of {min_sales, rate}.")
    steps: list[tuple[Decimal, Decimal]] = []
    for step in ladder:
        try:
            min_sales = Decimal(str(step["min_sales"]))
            rate = Decimal(str(step["rate"]))
        except (KeyError, TypeError, ArithmeticError) as exc:
            raise ValueError("Each ladder step needs min_sales and rate.") from exc
        if min_sales < 0 or not Decimal(0) <= rate <= Decimal("0.5"):
            raise ValueError("min_sales must be ≥ 0 and rate between 0 and 0.5.")
        steps.append((min_sales, rate))
    return sorted(steps)


class DistributorGrade(TenantOwnedModel):
    """Commission rates of the distributors of one grade, per tier, and how to reach it."""

    name = models.CharField(max_length=50)
    level = models.PositiveSmallIntegerField(default=1, help_text="Higher is better.")
    tier1_rate = _rate()
    tier2_rate = _rate()
    tier3_rate = _rate()
    upgrade_team_size = models.PositiveIntegerField(
        default=0, help_text="Reached with at least this many team members (0 = not used)."
    )
    upgrade_team_sales = _money(help_text="...or this much settled team sales (0 = not used).")
    is_default = models.BooleanField(default=False)

    class Meta:
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
        PENDING = "pending", "Pending approval"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        FROZEN = "frozen", "Frozen"

    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    grade = models.ForeignKey(
        DistributorGrade, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    share_code = models.CharField(max_length=16)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    ancestor2 = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    ancestor3 = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    path = models.CharField(max_length=1000, blank=True, default="")
    depth = models.PositiveIntegerField(default=0)
    # Cached ledger sum, changed only by F() updates in the ledger's transactions.
    balance = _money()
    note = models.CharField(max_length=200, blank=True, default="")
    applied_at = models.DateTimeField(auto_now_add=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
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
        return f"distributor {self.share_code}"


class Binding(TenantOwnedModel):
    """Who owns a customer. One current row per customer; ended rows are its history."""

    class Source(models.TextChoices):
        SHARE_LINK = "share_link", "Share link"
        POSTER = "poster", "Poster scene"
        LOGIN_SCENE = "login_scene", "Scene at login"
        APPLICATION = "application", "Distributor application"
        CONSOLE = "console", "Console"

    customer = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+")
    distributor = models.ForeignKey(Distributor, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=16, choices=Source.choices)
    is_current = models.BooleanField(default=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
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
        RATE = "rate", "Rate per tier"
        FIXED = "fixed", "Fixed amount per unit, per tier"
        EXCLUDED = "excluded", "No commission"

    product = models.ForeignKey(
        "catalog.Product", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    sku = models.ForeignKey(
        "catalog.Sku", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.RATE)
    tier1_value = models.DecimalField(max_digits=12, decimal_places=4, default=0)
    tier2_value = models.DecimalField(max_digits=12, decimal_places=4, default=0)
    tier3_value = models.DecimalField(max_digits=12, decimal_places=4, default=0)

    class Meta:
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
            raise ValidationError("Choose a product or a SKU (one of them).")
        if self.mode == self.Mode.RATE and any(
            v is not None and v > MAX_CAP_RATE
            for v in (self.tier1_value, self.tier2_value, self.tier3_value)
        ):
            raise ValidationError("A rate is a share (0.10 = 10%) of at most 0.50.")

    def value_for(self, tier: int) -> Decimal:
        return {1: self.tier1_value, 2: self.tier2_value, 3: self.tier3_value}[tier]


class Commission(TenantOwnedModel):
    """One beneficiary's commission on one order line, at one tier."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending (frozen until the order completes)"
        SETTLED = "settled", "Settled"
        REVERSED = "reversed", "Reversed"

    # Indexes: every index is one more insert per settled row (1M rows in one settlement run
    # must stay well under a minute), so the single-column indexes Django adds to tenant,
    # order_line and beneficiary are left out: the composite ones below start with tenant.
    tenant = models.ForeignKey(
        "mall.Tenant", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="+")
    order_line = models.ForeignKey(
        "orders.OrderLine", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    beneficiary = models.ForeignKey(
        Distributor, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    buyer = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+")
    tier = models.PositiveSmallIntegerField()
    base_amount = _money()
    rate = models.DecimalField(max_digits=6, decimal_places=4, null=True, blank=True)
    amount = _money()
    reversed_amount = _money()
    reversed_base = _money()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    rule = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    # Token of the settlement batch that settled the row (set-based settlement).
    settle_batch = models.CharField(max_length=32, blank=True, default="")

    class Meta:
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
        return f"commission {self.pk} tier {self.tier} {self.amount}"

    @property
    def net_amount(self) -> Decimal:
        return self.amount - self.reversed_amount


class CommissionReversal(TenantOwnedModel):
    """What one refund (``refund_ref``) took back from one commission: exactly once."""

    commission = models.ForeignKey(Commission, on_delete=models.PROTECT, related_name="reversals")
    refund_ref = models.CharField(max_length=64)
    line_refund_amount = _money()
    amount = _money()
    base_amount = _money()
    after_settlement = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
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
        CREDIT = "credit", "Commission settled"
        DEBIT = "debit", "Commission reversed after settlement"
        WITHDRAW = "withdraw", "Withdrawal requested"
        WITHDRAW_REVERSAL = "withdraw_reversal", "Withdrawal rejected"
        REWARD = "reward", "Team reward"

    # tenant and distributor are covered by ledger_mine / uniq_ledger_reference (see Commission).
    tenant = models.ForeignKey(
        "mall.Tenant", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    distributor = models.ForeignKey(
        Distributor, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    amount = _money()  # signed: credits > 0, debits and withdrawals < 0
    reference = models.CharField(max_length=128)
    note = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "ledger entries"
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
        REQUESTED = "requested", "Requested"
        APPROVED = "approved", "Approved"
        PAID = "paid", "Paid"
        REJECTED = "rejected", "Rejected"

    class Method(models.TextChoices):
        OFFLINE = "offline", "Offline payout recorded by finance"
        WECHAT = "wechat", "WeChat Pay transfer"
        SANDBOX = "sandbox", "Sandbox transfer"

    distributor = models.ForeignKey(Distributor, on_delete=models.PROTECT, related_name="+")
    amount = _money()
    fee = _money()
    net_amount = _money()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REQUESTED)
    method = models.CharField(max_length=16, choices=Method.choices, default=Method.OFFLINE)
    payout_reference = models.CharField(max_length=64, blank=True, default="")
    reason = models.CharField(max_length=200, blank=True, default="")
    reviewed_by = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
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
        return f"withdrawal {self.pk} {self.amount} {self.status}"


class TeamReward(TenantOwnedModel):
    """A month's team reward of one distributor (idempotent per distributor-month)."""

    distributor = models.ForeignKey(Distributor, on_delete=models.PROTECT, related_name="+")
    month = models.DateField(help_text="First day of the month.")
    team_sales = _money()
    rate = _rate()
    amount = _money()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-month", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "distributor", "month"], name="uniq_reward_month"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="reward_amount_gt_0"),
        ]

    def __str__(self) -> str:
        return f"reward {self.month:%Y-%m} {self.amount}"
