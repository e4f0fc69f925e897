"""Withdrawals: request (the amount leaves the balance at once), approve, pay, reject.

Balance = settled − withdrawn − pending withdrawals, always, because a request writes a
``withdraw`` entry and a rejection writes the matching ``withdraw_reversal``. Payout: the
payments app has no transfer interface yet, so finance pays outside the system (bank or
WeChat transfer) and records the payout reference here (``withdrawal_mark_paid``).
"""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from distribution.errors import DistributionErrorCode
from distribution.models import Distributor, LedgerEntry, Withdrawal
from distribution.services.common import distributor_lock, invalid_transition, settings_get
from distribution.services.ledger import ledger_add
from mall.api.errors import ApplicationError, NotFoundError
from mall.money import ZERO, quantize
from mall.tenancy.models import Tenant
from members.models import Member

W = Withdrawal.Status
TRANSITIONS: dict[str, frozenset[str]] = {
    W.REQUESTED: frozenset({W.APPROVED, W.REJECTED}),
    W.APPROVED: frozenset({W.PAID, W.REJECTED}),
    W.PAID: frozenset(),
    W.REJECTED: frozenset(),
}


def _day_start(tenant: Tenant, now: datetime) -> datetime:
    local = timezone.localtime(now, tenant.tz)
    return datetime.combine(local.date(), time.min, tzinfo=tenant.tz)


def withdrawal_request(
    *, tenant: Tenant, member: Member, amount: Decimal, now: datetime | None = None
) -> Withdrawal:
    """Withdraw from the settled balance (minimum, fee and daily limit of the tenant)."""
    now = now or timezone.now()
    amount = quantize(amount)
    config = settings_get(tenant=tenant)
    distributor = Distributor.objects.for_tenant(tenant).filter(member=member).first()
    if distributor is None:
        raise NotFoundError(
            "You are not a distributor.", code=DistributionErrorCode.NOT_A_DISTRIBUTOR
        )
    if amount <= 0 or amount < config.withdrawal_min_amount:
        raise ApplicationError(
            DistributionErrorCode.BELOW_MINIMUM,
            f"The minimum withdrawal is {config.withdrawal_min_amount}.",
            details={"minimum": str(config.withdrawal_min_amount)},
            status_code=422,
        )
    fee = quantize(amount * config.withdrawal_fee_rate)
    with transaction.atomic():
        locked = distributor_lock(tenant=tenant, distributor_id=distributor.pk)
        if locked.status != Distributor.Status.APPROVED:
            raise ApplicationError(
                DistributionErrorCode.DISTRIBUTOR_FROZEN,
                "This distributor account cannot withdraw now.",
                details={"status": locked.status},
                status_code=409,
            )
        if config.withdrawal_daily_limit > 0:
            today = withdrawn_today(tenant=tenant, distributor=locked, now=now)
            if today + amount > config.withdrawal_daily_limit:
                raise ApplicationError(
                    DistributionErrorCode.DAILY_LIMIT,
                    f"At most {config.withdrawal_daily_limit} can be withdrawn per day.",
                    details={
                        "limit": str(config.withdrawal_daily_limit),
                        "today": str(today),
                    },
                    status_code=422,
                )
        if locked.balance < amount:
            raise ApplicationError(
                DistributionErrorCode.INSUFFICIENT_BALANCE,
                "The amount exceeds your withdrawable balance.",
                details={"balance": str(locked.balance)},
                status_code=422,
            )
        withdrawal = Withdrawal.objects.create(
            tenant=tenant, distributor=locked, amount=amount, fee=fee, net_amount=amount - fee
        )
        ledger_add(
            tenant_id=tenant.pk,
            distributor_id=locked.pk,
            kind=LedgerEntry.Kind.WITHDRAW,
            amount=-amount,
            reference=f"withdrawal:{withdrawal.pk}",
        )
    return withdrawal


def _lock(tenant: Tenant, withdrawal_id: int) -> Withdrawal:
    found = (
        Withdrawal.objects.for_tenant(tenant).select_for_update().filter(pk=withdrawal_id).first()
    )
    if found is None:
        raise NotFoundError("Withdrawal not found.")
    return found


def _move(
    *, tenant: Tenant, withdrawal_id: int, to: str, actor: str, **fields: object
) -> tuple[Withdrawal, bool]:
    locked = _lock(tenant, withdrawal_id)
    if locked.status == to:
        return locked, False
    if to not in TRANSITIONS[locked.status]:
        raise invalid_transition("withdrawal", locked.status, to)
    locked.status = to
    locked.reviewed_by = actor[:64]
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.save()
    return locked, True


def withdrawal_approve(*, tenant: Tenant, withdrawal_id: int, actor: str) -> Withdrawal:
    with transaction.atomic():
        withdrawal, _ = _move(
            tenant=tenant,
            withdrawal_id=withdrawal_id,
            to=W.APPROVED,
            actor=actor,
            reviewed_at=timezone.now(),
        )
    return withdrawal


def withdrawal_reject(
    *, tenant: Tenant, withdrawal_id: int, actor: str, reason: str = ""
) -> Withdrawal:
    """Refused (before payout): the amount returns to the balance, once."""
    with transaction.atomic():
        withdrawal, moved = _move(
            tenant=tenant,
            withdrawal_id=withdrawal_id,
            to=W.REJECTED,
            actor=actor,
            reviewed_at=timezone.now(),
            reason=reason[:200],
        )
        if moved:
            ledger_add(
                tenant_id=tenant.pk,
                distributor_id=withdrawal.distributor_id,
                kind=LedgerEntry.Kind.WITHDRAW_REVERSAL,
                amount=withdrawal.amount,
                reference=f"withdrawal:{withdrawal.pk}",
                note=reason,
            )
    return withdrawal


def withdrawal_mark_paid(
    *, tenant: Tenant, withdrawal_id: int, actor: str, payout_reference: str
) -> Withdrawal:
    """Finance paid the net amount outside the system (bank/WeChat transfer) and records the
    transfer's reference; it must be unique in the tenant."""
    reference = payout_reference.strip()
    if not reference:
        raise ApplicationError(
            DistributionErrorCode.PAYOUT_REFERENCE_REQUIRED,
            "Record the payout's transfer reference.",
            status_code=400,
        )
    try:
        with transaction.atomic():
            withdrawal, _ = _move(
                tenant=tenant,
                withdrawal_id=withdrawal_id,
                to=W.PAID,
                actor=actor,
                paid_at=timezone.now(),
                payout_reference=reference[:64],
            )
    except IntegrityError as exc:
        raise ApplicationError(
            DistributionErrorCode.PAYOUT_REFERENCE_USED,
            "This payout reference is already recorded on another withdrawal.",
            status_code=409,
        ) from exc
    return withdrawal


def withdrawn_today(*, tenant: Tenant, distributor: Distributor, now: datetime) -> Decimal:
    return (
        Withdrawal.objects.for_tenant(tenant)
        .filter(distributor=distributor, created_at__gte=_day_start(tenant, now))
        .exclude(status=W.REJECTED)
        .aggregate(total=Sum("amount"))["total"]
        or ZERO
    )
