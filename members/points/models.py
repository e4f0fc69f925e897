"""Points (积分): lots with an expiry, a ledger row for every change, per-shop rules.

Invariant (tested): ``Member.points == sum(remaining of unexpired lots) - Member.points_debt``
and ``Member.points == sum(PointsLedger.delta)`` of the member. See docs/members.md, "Points".
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from mall.tenancy.scoping import TenantOwnedModel


class PointsSettings(TenantOwnedModel):
    """The shop's points rules (one row per shop; defaults apply while there is none)."""

    class Expiry(models.TextChoices):
        DAYS = "days", _("N days after earning")
        NEXT_YEAR_END = "next_year_end", _("End of the next calendar year")

    earn_per_yuan = models.DecimalField(
        _("points per yuan paid"), max_digits=8, decimal_places=2, default=1
    )
    first_order_bonus = models.PositiveIntegerField(_("first order bonus"), default=0)
    expiry = models.CharField(
        _("expiry rule"), max_length=16, choices=Expiry.choices, default=Expiry.NEXT_YEAR_END
    )
    expiry_days = models.PositiveIntegerField(_("expiry days"), default=365)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("points settings")
        verbose_name_plural = _("points settings")
        constraints = [
            models.UniqueConstraint(fields=["tenant"], name="uniq_points_settings_per_tenant"),
            models.CheckConstraint(
                condition=models.Q(earn_per_yuan__gte=0), name="points_settings_rate_gte_0"
            ),
            models.CheckConstraint(
                condition=models.Q(expiry_days__gte=1), name="points_settings_days_gte_1"
            ),
        ]

    def __str__(self) -> str:
        return f"points settings of shop {self.tenant_id}"


class Reason(models.TextChoices):
    """Why points changed (ledger rows and lots)."""

    EARN_ORDER = "earn_order", _("Order paid")
    FIRST_ORDER = "first_order", _("First order bonus")
    CHECKIN = "checkin", _("Check-in")
    SPEND_ORDER = "spend_order", _("Used for an order")
    RETURN_ORDER = "return_order", _("Returned from an order")
    REVERSE_ORDER = "reverse_order", _("Order refunded: earning reversed")
    EXPIRE = "expire", _("Expired")
    ADJUST = "adjust", _("Adjusted")
    BIRTHDAY = "birthday", _("Birthday gift")
    AUTOMATION = "automation", _("Marketing automation")


class PointsLot(TenantOwnedModel):
    """Points earned at once, with one expiry. ``remaining`` is what is left to spend;
    ``expired_points`` what expired (set when the expiry sweep ran, and by a return into a lot
    that had already expired)."""

    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.CASCADE,
        related_name="points_lots",
    )
    points = models.PositiveIntegerField(_("points earned"))
    remaining = models.PositiveIntegerField(_("remaining"))
    expired_points = models.PositiveIntegerField(_("expired points"), default=0)
    # Part of ``points`` that paid off the member's debt when earned (never spendable).
    debt_paid = models.PositiveIntegerField(_("debt paid"), default=0)
    expires_at = models.DateTimeField(_("expires at"))
    expired = models.BooleanField(_("expired"), default=False)
    expiry_notified_at = models.DateTimeField(_("expiry notified at"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    ref = models.CharField(_("reference"), max_length=64, blank=True, default="")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("points lot")
        verbose_name_plural = _("points lots")
        ordering = ["expires_at", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(points__gte=1), name="points_lot_gte_1"),
            models.CheckConstraint(
                condition=models.Q(remaining__lte=models.F("points")),
                name="points_lot_remaining_lte_points",
            ),
            models.CheckConstraint(
                condition=models.Q(expired=False) | models.Q(remaining=0),
                name="points_lot_expired_empty",
            ),
        ]
        indexes = [
            models.Index(
                fields=["expires_at"],
                condition=models.Q(expired=False),
                name="points_lot_due",
            ),
            models.Index(fields=["member", "expires_at", "id"], name="points_lot_fifo"),
        ]

    def __str__(self) -> str:
        return f"{self.remaining}/{self.points} until {self.expires_at:%Y-%m-%d}"


class PointsLedger(TenantOwnedModel):
    """One change of a member's balance. ``ref`` makes a change idempotent: one row per
    (reason, ref) when set (e.g. ``earn_order`` + the order number)."""

    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        on_delete=models.CASCADE,
        related_name="points_ledger",
    )
    delta = models.IntegerField(_("change"))
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    ref = models.CharField(_("reference"), max_length=64, blank=True, default="")
    order_number = models.CharField(_("order number"), max_length=32, blank=True, default="")
    note = models.CharField(_("note"), max_length=200, blank=True, default="")
    # The lot an earning created (its expiry is shown next to the row).
    lot = models.ForeignKey(
        PointsLot,
        verbose_name=_("lot"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    balance_after = models.IntegerField(_("balance after"))
    debt_after = models.PositiveIntegerField(_("debt after"), default=0)
    actor = models.CharField(_("actor"), max_length=64, blank=True, default="")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("points ledger row")
        verbose_name_plural = _("points ledger")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "reason", "ref"],
                condition=~models.Q(ref=""),
                name="uniq_points_ledger_reason_ref",
            ),
            models.CheckConstraint(condition=~models.Q(delta=0), name="points_ledger_delta_ne_0"),
        ]
        indexes = [models.Index(fields=["member", "-id"], name="points_ledger_member")]

    def __str__(self) -> str:
        return f"{self.delta:+d} {self.reason} {self.ref}"


class PointsLotMove(TenantOwnedModel):
    """How a ledger row touched lots: ``points`` < 0 taken from the lot (spend, reversal,
    negative adjustment), > 0 given back (return). A return reads the spend's moves of the
    order so the points go back into the lots they came from."""

    entry = models.ForeignKey(
        PointsLedger, verbose_name=_("ledger row"), on_delete=models.CASCADE, related_name="moves"
    )
    lot = models.ForeignKey(
        PointsLot, verbose_name=_("lot"), on_delete=models.CASCADE, related_name="moves"
    )
    points = models.IntegerField(_("points"))

    class Meta:
        verbose_name = _("points lot move")
        verbose_name_plural = _("points lot moves")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(points=0), name="points_move_ne_0"),
        ]

    def __str__(self) -> str:
        return f"{self.points:+d} lot {self.lot_id}"
