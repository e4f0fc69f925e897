"""Points (积分): earning into lots, FIFO spending, returns, reversals with debt, expiry.

Every change locks the member's row first (``members.lock_objects.members_for_update``), then
the lots it touches (pk order), writes one ``PointsLedger`` row (plus ``PointsLotMove`` rows
for the lots it took from or gave back to) and updates the cached ``Member.points`` and
``Member.points_debt`` in the same transaction, so at every commit:

    Member.points == sum(remaining of unexpired lots) - Member.points_debt
                  == sum(PointsLedger.delta of the member)

Rules (docs/members.md, "Points"):
- an earning creates a lot that expires by the shop's rule; it pays off debt first (that part
  is recorded in ``lot.debt_paid`` and never spendable);
- spending takes the oldest-expiring lots first (FIFO) and records how much each gave;
- returning an order's spent points gives each lot back what it gave; a lot that has expired
  meanwhile gets its points back already expired (a ``return_order`` row followed by an
  ``expire`` row, so the member sees both); returned points pay off debt first, like earnings;
- reversing an order's earning takes from that earning's lot first, then from other lots FIFO;
  what is missing becomes debt (the balance goes negative);
- lots past their expiry are expired by the beat sweep (set-based, in batches) and, lazily,
  before any change of the member's points, so nothing expired is ever spent.
"""

from __future__ import annotations

import logging
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from django.db import transaction
from django.db.models import Case, F, IntegerField, Min, Q, Sum, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from mall.errors import ConflictError, InvalidInputError
from mall.events.services import event_record
from mall.tenancy.models import Tenant
from mall.tenancy.scope import all_tenants
from members import lock_objects
from members.errors import MemberErrorCode
from members.models import Member
from members.points.models import PointsLedger, PointsLot, PointsLotMove, PointsSettings, Reason
from members.points.rules import earn_multiplier

logger = logging.getLogger(__name__)

EXPIRING_EVENT = "points.expiring"
NOTIFY_DAYS = 7
BATCH = 1000


# --- Rules ----------------------------------------------------------------------------------


def points_settings(tenant: Tenant | int) -> PointsSettings:
    """The shop's rules (an unsaved default row when the shop has none)."""
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    found = PointsSettings.objects.for_tenant(tenant_id).first()
    return found or PointsSettings(tenant_id=tenant_id)


def lot_expires_at(*, tenant: Tenant, earned_at: datetime, rules: PointsSettings) -> datetime:
    """When points earned at ``earned_at`` expire: N days later, or at the end of the next
    calendar year in the shop's time zone (00:00 on 1 January two years on)."""
    if rules.expiry == PointsSettings.Expiry.DAYS:
        return earned_at + timedelta(days=rules.expiry_days)
    tz = zoneinfo.ZoneInfo(tenant.timezone)
    local = earned_at.astimezone(tz)
    return datetime(local.year + 2, 1, 1, tzinfo=tz)


def order_earn_points(*, paid_amount: Decimal, rules: PointsSettings, member: Member) -> int:
    """Points for ``paid_amount`` yuan: rate x multiplier, rounded down to a whole point."""
    raw = Decimal(paid_amount) * rules.earn_per_yuan * earn_multiplier(member)
    return max(int(raw.to_integral_value(rounding=ROUND_DOWN)), 0)


# --- Internals ------------------------------------------------------------------------------


def _tenant_id(tenant: Tenant | int) -> int:
    return tenant if isinstance(tenant, int) else tenant.pk


def _lock_member(tenant: Tenant | int, member_id: int) -> Member:
    member = lock_objects.members_for_update(tenant=tenant, ids=[member_id]).first()
    if member is None:
        raise InvalidInputError(
            MemberErrorCode.INVALID_POINTS, _("No such member."), details={"member_id": member_id}
        )
    return member


def _save_member(member: Member) -> None:
    member.save(update_fields=["points", "points_debt", "updated_at"])


def _entry(
    member: Member,
    *,
    delta: int,
    reason: str,
    ref: str = "",
    order_number: str = "",
    note: str = "",
    lot: PointsLot | None = None,
    actor: str = "",
    moves: Iterable[tuple[int, int]] = (),
) -> PointsLedger:
    """The ledger row of a change already applied to ``member`` (in memory) and its lots."""
    _save_member(member)
    entry = PointsLedger.objects.create(
        tenant_id=member.tenant_id,
        member=member,
        delta=delta,
        reason=reason,
        ref=ref,
        order_number=order_number,
        note=note[:200],
        lot=lot,
        balance_after=member.points,
        debt_after=member.points_debt,
        actor=actor[:64],
    )
    rows = [
        PointsLotMove(tenant_id=member.tenant_id, entry=entry, lot_id=lot_id, points=points)
        for lot_id, points in moves
        if points
    ]
    if rows:
        PointsLotMove.objects.bulk_create(rows)
    return entry


def _existing(tenant: Tenant | int, reason: str, ref: str) -> PointsLedger | None:
    if not ref:
        return None
    return PointsLedger.objects.for_tenant(tenant).filter(reason=reason, ref=ref).first()


def _live_lots(member: Member, now: datetime) -> list[PointsLot]:
    """Lock the member's unexpired lots (FIFO order: oldest expiry first); those already past
    their expiry are expired now (the sweep's work for one member, so nothing expired is ever
    spent). Returns the lots still live. The member's row is locked."""
    lots = list(
        lock_objects.points_lots_live_for_update(tenant=member.tenant_id, member_id=member.pk)
    )
    live = []
    for lot in lots:
        if lot.expires_at > now:
            live.append(lot)
            continue
        points = lot.remaining
        lot.expired_points += points
        lot.remaining = 0
        lot.expired = True
        lot.save(update_fields=["expired_points", "remaining", "expired"])
        if points:
            member.points -= points
            _entry(member, delta=-points, reason=Reason.EXPIRE, lot=lot, actor="system")
    return live


def _take_fifo(
    lots: list[PointsLot], points: int, *, first_lot_id: int | None = None
) -> list[tuple[int, int]]:
    """Take up to ``points`` from ``lots`` (``first_lot_id`` first, then in their FIFO
    order); returns ``(lot_id, -taken)`` moves. One UPDATE for all the lots touched."""
    ordered = sorted(lots, key=lambda lot: lot.pk != first_lot_id) if first_lot_id else lots
    moves: list[tuple[int, int]] = []
    touched = []
    left = points
    for lot in ordered:
        if left <= 0:
            break
        take = min(lot.remaining, left)
        if not take:
            continue
        lot.remaining -= take
        left -= take
        touched.append(lot)
        moves.append((lot.pk, -take))
    if touched:
        PointsLot.objects.for_tenant(touched[0].tenant_id).bulk_update(touched, ["remaining"])
    return moves


# --- Services -------------------------------------------------------------------------------


def points_earn(
    *,
    tenant: Tenant,
    member_id: int,
    points: int,
    reason: str,
    ref: str = "",
    order_number: str = "",
    note: str = "",
    actor: str = "",
    now: datetime | None = None,
) -> PointsLedger | None:
    """Earn ``points`` into a new lot (debt is paid off first). Idempotent per ``(reason,
    ref)``: a second call answers the first row. None when ``points`` is not positive."""
    if points <= 0:
        return None
    now = now or timezone.now()
    with transaction.atomic(savepoint=False):
        member = _lock_member(tenant, member_id)
        existing = _existing(tenant, reason, ref)
        if existing is not None:
            return existing
        _live_lots(member, now)
        rules = points_settings(tenant)
        paid = min(member.points_debt, points)
        lot = PointsLot.objects.create(
            tenant_id=tenant.pk,
            member=member,
            points=points,
            remaining=points - paid,
            debt_paid=paid,
            expires_at=lot_expires_at(tenant=tenant, earned_at=now, rules=rules),
            reason=reason,
            ref=ref,
        )
        member.points_debt -= paid
        member.points += points
        return _entry(
            member,
            delta=points,
            reason=reason,
            ref=ref,
            order_number=order_number,
            note=note,
            lot=lot,
            actor=actor,
        )


def points_spend(
    *,
    tenant: Tenant | int,
    member_id: int,
    points: int,
    order_number: str,
    actor: str = "",
    now: datetime | None = None,
) -> PointsLedger:
    """Spend ``points`` for an order, oldest-expiring lots first. Conflict
    ``insufficient_points`` when the balance is short (concurrent spends of the same points:
    the member's row lock makes all but the ones that fit fail). Call inside the order's
    transaction; one spend per order (``ref`` = order number)."""
    if points <= 0:
        raise InvalidInputError(MemberErrorCode.INVALID_POINTS, _("Points must be positive."))
    now = now or timezone.now()
    # The shortfall is raised after the block: an error leaving ``atomic(savepoint=False)``
    # would doom the caller's transaction, and a savepoint costs two statements per checkout.
    with transaction.atomic(savepoint=False):
        member = _lock_member(tenant, member_id)
        lots = _live_lots(member, now)
        available = member.points
        if available >= points:
            moves = _take_fifo(lots, points)
            member.points -= points
            return _entry(
                member,
                delta=-points,
                reason=Reason.SPEND_ORDER,
                ref=order_number,
                order_number=order_number,
                actor=actor,
                moves=moves,
            )
    raise ConflictError(
        MemberErrorCode.INSUFFICIENT_POINTS,
        _("Not enough points."),
        details={"requested": points, "available": max(available, 0)},
    )


def points_return_order(
    *, tenant: Tenant | int, order_number: str, actor: str = "", now: datetime | None = None
) -> PointsLedger | None:
    """Give an order's spent points back into the lots they came from (once per order).
    Lots that expired meanwhile get theirs back already expired; returned points pay off
    debt first. None when the order spent nothing."""
    now = now or timezone.now()
    with transaction.atomic(savepoint=False):
        spend = _existing(tenant, Reason.SPEND_ORDER, order_number)
        if spend is None:
            return None
        member = _lock_member(tenant, spend.member_id)
        existing = _existing(tenant, Reason.RETURN_ORDER, order_number)
        if existing is not None:
            return existing
        _live_lots(member, now)
        taken: dict[int, int] = defaultdict(int)
        for lot_id, points in (
            PointsLotMove.objects.for_tenant(tenant)
            .filter(entry=spend)
            .values_list("lot_id", "points")
        ):
            taken[lot_id] -= points
        lots = {
            lot.pk: lot
            for lot in lock_objects.points_lots_for_update(tenant=tenant, ids=list(taken))
        }
        total = sum(taken.values())
        moves: list[tuple[int, int]] = []
        expired_back: list[tuple[PointsLot, int]] = []
        debt_pay = 0
        for lot_id in sorted(taken, key=lambda pk: (lots[pk].expires_at, pk)):
            lot, points = lots[lot_id], taken[lot_id]
            if lot.expired or lot.expires_at <= now:
                lot.expired = True
                lot.expired_points += points
                lot.save(update_fields=["expired_points", "expired"])
                moves.append((lot.pk, points))
                expired_back.append((lot, points))
                continue
            pay = min(member.points_debt - debt_pay, points)
            debt_pay += pay
            if points - pay:
                lot.remaining += points - pay
                lot.save(update_fields=["remaining"])
                moves.append((lot.pk, points - pay))
        member.points_debt -= debt_pay
        member.points += total
        entry = _entry(
            member,
            delta=total,
            reason=Reason.RETURN_ORDER,
            ref=order_number,
            order_number=order_number,
            actor=actor,
            moves=moves,
        )
        for lot, points in expired_back:
            member.points -= points
            _entry(
                member,
                delta=-points,
                reason=Reason.EXPIRE,
                order_number=order_number,
                lot=lot,
                actor="system",
            )
        return entry


def points_reverse_order(
    *,
    tenant: Tenant | int,
    order_number: str,
    points: int | None = None,
    ref: str = "",
    actor: str = "",
    now: datetime | None = None,
) -> PointsLedger | None:
    """Take back ``points`` (all that is left when None) of what the order earned
    (``earn_order`` and ``first_order`` rows of the order): from the earning's lot first, then
    other lots FIFO; what is missing becomes debt. Idempotent per ``ref`` (default: the order
    number, i.e. one whole reversal). None when there is nothing (more) to reverse."""
    now = now or timezone.now()
    ref = ref or order_number
    with transaction.atomic(savepoint=False):
        earns = list(
            PointsLedger.objects.for_tenant(tenant)
            .filter(
                reason__in=[Reason.EARN_ORDER, Reason.FIRST_ORDER],
                order_number=order_number,
            )
            .order_by("pk")
        )
        if not earns:
            return None
        member = _lock_member(tenant, earns[0].member_id)
        existing = _existing(tenant, Reason.REVERSE_ORDER, ref)
        if existing is not None:
            return existing
        reversed_ = -(
            PointsLedger.objects.for_tenant(tenant)
            .filter(reason=Reason.REVERSE_ORDER, order_number=order_number)
            .aggregate(total=Sum("delta"))["total"]
            or 0
        )
        left = sum(e.delta for e in earns) - reversed_
        amount = left if points is None else min(points, left)
        if amount <= 0:
            return None
        moves = _take_fifo(_live_lots(member, now), amount, first_lot_id=earns[0].lot_id)
        from_lots = -sum(points for _, points in moves)
        member.points_debt += amount - from_lots
        member.points -= amount
        return _entry(
            member,
            delta=-amount,
            reason=Reason.REVERSE_ORDER,
            ref=ref,
            order_number=order_number,
            actor=actor,
            moves=moves,
        )


def points_adjust(
    *,
    tenant: Tenant,
    member_id: int,
    delta: int,
    note: str,
    actor: str,
    ref: str = "",
    now: datetime | None = None,
) -> PointsLedger:
    """A manual adjustment with a reason (console, open API): a positive one is an earning
    (a lot with the shop's expiry); a negative one takes from the lots FIFO and may not go
    below zero (``insufficient_points``)."""
    note = (note or "").strip()
    if not note:
        raise InvalidInputError(
            MemberErrorCode.INVALID_POINTS,
            _("Give a reason for the adjustment."),
            details={"reason": [_("This field is required.")]},
        )
    if delta == 0 or abs(delta) > 10_000_000:
        raise InvalidInputError(
            MemberErrorCode.INVALID_POINTS,
            _("The change must be a whole number of points other than zero."),
            details={"delta": [_("Not zero, at most 10,000,000 either way.")]},
        )
    now = now or timezone.now()
    if delta > 0:
        entry = points_earn(
            tenant=tenant,
            member_id=member_id,
            points=delta,
            reason=Reason.ADJUST,
            ref=ref,
            note=note,
            actor=actor,
            now=now,
        )
        assert entry is not None
        return entry
    with transaction.atomic(savepoint=False):
        member = _lock_member(tenant, member_id)
        existing = _existing(tenant, Reason.ADJUST, ref)
        if existing is not None:
            return existing
        lots = _live_lots(member, now)
        available = member.points
        if available >= -delta:
            moves = _take_fifo(lots, -delta)
            member.points += delta
            return _entry(
                member,
                delta=delta,
                reason=Reason.ADJUST,
                ref=ref,
                note=note,
                actor=actor,
                moves=moves,
            )
    raise ConflictError(
        MemberErrorCode.INSUFFICIENT_POINTS,
        _("Not enough points."),
        details={"requested": -delta, "available": max(available, 0)},
    )


# --- Orders ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderEarning:
    points: int
    bonus: int


def points_earn_for_order(
    *,
    tenant: Tenant,
    member_id: int,
    order_number: str,
    paid_amount: Decimal,
    first_order: bool,
    now: datetime | None = None,
) -> OrderEarning:
    """The paid order's earning (call inside the paid transition's transaction): ``paid_amount``
    x the shop's rate x ``earn_multiplier(member)``, rounded down; plus the first-order bonus
    when ``first_order``. Idempotent per order (``ref`` = order number)."""
    rules = points_settings(tenant)
    member = Member.objects.for_tenant(tenant).get(pk=member_id)
    points = order_earn_points(paid_amount=paid_amount, rules=rules, member=member)
    earned = points_earn(
        tenant=tenant,
        member_id=member_id,
        points=points,
        reason=Reason.EARN_ORDER,
        ref=order_number,
        order_number=order_number,
        actor="system",
        now=now,
    )
    bonus = None
    if first_order and rules.first_order_bonus:
        bonus = points_earn(
            tenant=tenant,
            member_id=member_id,
            points=rules.first_order_bonus,
            reason=Reason.FIRST_ORDER,
            ref=f"member:{member_id}",
            order_number=order_number,
            actor="system",
            now=now,
        )
    return OrderEarning(
        points=earned.delta if earned else 0,
        bonus=bonus.delta if bonus and bonus.order_number == order_number else 0,
    )


def points_reverse_for_refund(
    *,
    tenant: Tenant,
    order_number: str,
    paid_amount: Decimal,
    refunded_amount: Decimal,
    refund_ref: str,
    now: datetime | None = None,
) -> PointsLedger | None:
    """After a refund: keep ``floor(earned x (paid - refunded) / paid)`` of what the order
    earned (nothing when fully refunded), reverse the rest not reversed yet. Idempotent per
    refund (``refund_ref``)."""
    earned = (
        PointsLedger.objects.for_tenant(tenant)
        .filter(reason__in=[Reason.EARN_ORDER, Reason.FIRST_ORDER], order_number=order_number)
        .aggregate(total=Sum("delta"))["total"]
        or 0
    )
    if earned <= 0 or paid_amount <= 0:
        return None
    if refunded_amount >= paid_amount:
        keep = 0
    else:
        keep = int(
            (Decimal(earned) * (paid_amount - refunded_amount) / paid_amount).to_integral_value(
                rounding=ROUND_DOWN
            )
        )
    reversed_ = -(
        PointsLedger.objects.for_tenant(tenant)
        .filter(reason=Reason.REVERSE_ORDER, order_number=order_number)
        .aggregate(total=Sum("delta"))["total"]
        or 0
    )
    amount = earned - reversed_ - keep
    if amount <= 0:
        return None
    return points_reverse_order(
        tenant=tenant, order_number=order_number, points=amount, ref=refund_ref, now=now
    )


# --- Beat: expiry and its notice ------------------------------------------------------------


def points_expire_due(*, now: datetime | None = None, batch: int = BATCH) -> int:
    """Expire every shop's lots past their expiry (the beat sweep): per batch of members, a
    handful of set-based statements (lock the members, lock and empty their due lots, one
    ledger row per lot, one UPDATE of the members' balances). Returns the lots expired."""
    now = now or timezone.now()
    done = 0
    after = 0  # members are taken in id order: each batch starts after the previous one
    with all_tenants():  # beat sweep over every shop
        while True:
            member_ids = list(
                PointsLot.objects.all_tenants()
                .filter(expired=False, expires_at__lte=now, member_id__gt=after)
                .order_by("member_id")
                .values_list("member_id", flat=True)
                .distinct()[:batch]
            )
            if not member_ids:
                return done
            after = member_ids[-1]
            with transaction.atomic():
                members = {
                    m.pk: m for m in lock_objects.members_any_tenant_for_update(ids=member_ids)
                }
                due = list(
                    lock_objects.points_lots_past_expiry_for_update(member_ids=members, now=now)
                    .order_by("pk")
                    .values("pk", "tenant_id", "member_id", "remaining")
                )
                if not due:
                    continue
                PointsLot.objects.all_tenants().filter(pk__in=[d["pk"] for d in due]).update(
                    expired_points=F("expired_points") + F("remaining"),
                    remaining=0,
                    expired=True,
                )
                lost: dict[int, int] = defaultdict(int)
                rows = []
                for d in due:
                    if not d["remaining"]:
                        continue
                    member = members[d["member_id"]]
                    lost[member.pk] += d["remaining"]
                    rows.append(
                        PointsLedger(
                            tenant_id=d["tenant_id"],
                            member_id=member.pk,
                            delta=-d["remaining"],
                            reason=Reason.EXPIRE,
                            lot_id=d["pk"],
                            balance_after=member.points - lost[member.pk],
                            debt_after=member.points_debt,
                            actor="system",
                        )
                    )
                PointsLedger.objects.bulk_create(rows)
                if lost:
                    Member.objects.all_tenants().filter(pk__in=list(lost)).update(
                        points=F("points")
                        - Case(
                            *[When(pk=pk, then=Value(n)) for pk, n in lost.items()],
                            default=Value(0),
                            output_field=IntegerField(),
                        ),
                        updated_at=now,
                    )
                done += len(due)


def points_expiry_notify(
    *, now: datetime | None = None, days: int = NOTIFY_DAYS, batch: int = BATCH
) -> int:
    """Record one ``points.expiring`` outbox event per member whose lots expire within
    ``days`` and were not announced yet, and mark those lots announced (same transaction).
    Returns the events recorded."""
    now = now or timezone.now()
    until = now + timedelta(days=days)
    due_q = Q(expired=False, remaining__gt=0, expiry_notified_at__isnull=True)
    due_q &= Q(expires_at__gt=now, expires_at__lte=until)
    sent = 0
    with all_tenants():  # beat sweep over every shop
        while True:
            with transaction.atomic():
                ids = list(
                    lock_objects.points_lots_skip_locked(due_q)
                    .order_by("pk")
                    .values_list("pk", flat=True)[:batch]
                )
                if not ids:
                    return sent
                groups = (
                    PointsLot.objects.all_tenants()
                    .filter(pk__in=ids)
                    .values("tenant_id", "member_id")
                    .annotate(points=Sum("remaining"), first=Min("expires_at"))
                    .order_by("member_id")
                )
                for group in groups:
                    event_record(
                        tenant=group["tenant_id"],
                        name=EXPIRING_EVENT,
                        subject=f"member:{group['member_id']}",
                        payload={
                            "member_id": group["member_id"],
                            "points": group["points"],
                            "expires_at": group["first"].isoformat(),
                        },
                    )
                    sent += 1
                PointsLot.objects.all_tenants().filter(pk__in=ids).update(expiry_notified_at=now)
