"""Withdrawals: request (the amount leaves the balance at once), approve, pay, reject.

Balance = settled − withdrawn − pending withdrawals, always, because a request writes a
``withdraw`` entry and a rejection writes the matching ``withdraw_reversal``.

Payout, chosen on approval (``method``):

- ``wechat`` / ``sandbox``: when the shop can pay out through a gateway
  (``payments.payouts.services.payout_gateway_for``), approval requests a payout of the net amount
  (``payments.payouts.services.payout_request``, reference ``withdrawal:<id>``) in the same
  transaction; it is submitted after commit. Payments then tells us the outcome exactly once
  (:class:`WithdrawalPayoutHandler`): succeeded → ``paid`` (``payout_reference`` = the
  transfer's ``out_bill_no``); failed → ``rejected`` and the amount returns to the balance
  once (the ``withdraw_reversal`` entry is unique per withdrawal). While a gateway payout is
  in flight the withdrawal can be neither rejected nor marked paid by hand.
- ``offline``: finance pays outside the system (bank or WeChat transfer) and records the
  payout reference (``withdrawal_mark_paid``).
"""

from __future__ import annotations

import logging
from datetime import datetime, time
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from distribution import lock_objects
from distribution.errors import DistributionErrorCode
from distribution.models import WITHDRAWAL_TRANSITIONS, Distributor, LedgerEntry, Withdrawal
from distribution.services.common import distributor_lock, settings_get
from distribution.services.ledger import ledger_add
from mall.errors import ApplicationError, ConflictError, InvalidInputError, NotFoundError
from mall.money import ZERO, quantize
from mall.tenancy.models import Tenant
from mall.transitions import transition_apply
from members.models import Member
from payments.purposes import register_payout_purpose

logger = logging.getLogger(__name__)

W = Withdrawal.Status
TRANSITIONS = WITHDRAWAL_TRANSITIONS


def withdrawal_transition(withdrawal: Withdrawal, to: str) -> bool:
    """The one status change of a (locked) withdrawal, checked against
    ``WITHDRAWAL_TRANSITIONS`` (409 when not allowed; ``False`` when already there)."""
    return transition_apply(
        withdrawal,
        WITHDRAWAL_TRANSITIONS,
        to,
        entity="withdrawal",
        code=DistributionErrorCode.INVALID_TRANSITION,
    )


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
            _("You are not a distributor."), code=DistributionErrorCode.NOT_A_DISTRIBUTOR
        )
    if amount <= 0 or amount < config.withdrawal_min_amount:
        raise ApplicationError(
            DistributionErrorCode.BELOW_MINIMUM,
            _("The minimum withdrawal is %(withdrawal_min_amount)s.")
            % {"withdrawal_min_amount": config.withdrawal_min_amount},
            details={"minimum": str(config.withdrawal_min_amount)},
        )
    fee = quantize(amount * config.withdrawal_fee_rate)
    with transaction.atomic():
        locked = distributor_lock(tenant=tenant, distributor_id=distributor.pk)
        if locked.status != Distributor.Status.APPROVED:
            raise ConflictError(
                DistributionErrorCode.DISTRIBUTOR_FROZEN,
                _("This distributor account cannot withdraw now."),
                details={"status": locked.status},
            )
        if config.withdrawal_daily_limit > 0:
            today = withdrawn_today(tenant=tenant, distributor=locked, now=now)
            if today + amount > config.withdrawal_daily_limit:
                raise ApplicationError(
                    DistributionErrorCode.DAILY_LIMIT,
                    _("At most %(withdrawal_daily_limit)s can be withdrawn per day.")
                    % {"withdrawal_daily_limit": config.withdrawal_daily_limit},
                    details={
                        "limit": str(config.withdrawal_daily_limit),
                        "today": str(today),
                    },
                )
        if locked.balance < amount:
            raise ApplicationError(
                DistributionErrorCode.INSUFFICIENT_BALANCE,
                _("The amount exceeds your withdrawable balance."),
                details={"balance": str(locked.balance)},
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
    found = lock_objects.withdrawal_qs_for_update(tenant=tenant, pk=withdrawal_id).first()
    if found is None:
        raise NotFoundError(_("Withdrawal not found."))
    return found


def _move(
    *, tenant: Tenant, withdrawal_id: int, to: str, actor: str, **fields: object
) -> tuple[Withdrawal, bool]:
    locked = _lock(tenant, withdrawal_id)
    if not withdrawal_transition(locked, to):
        return locked, False
    locked.reviewed_by = actor[:64]
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.save()
    return locked, True


PAYOUT_PURPOSE = "withdrawal"
PAYOUT_REMARK = "Commission withdrawal"
GATEWAY_METHODS = frozenset({Withdrawal.Method.WECHAT, Withdrawal.Method.SANDBOX})


def _payout_reference(withdrawal: Withdrawal) -> str:
    return f"{PAYOUT_PURPOSE}:{withdrawal.pk}"


def withdrawal_approve(
    *, tenant: Tenant, withdrawal_id: int, actor: str, method: str | None = None
) -> Withdrawal:
    """Approve a requested withdrawal. ``method`` None: pay through the shop's gateway when it
    can (WeChat Pay transfer, or the sandbox), else offline; ``"offline"`` forces the offline
    path; ``"wechat"``/``"sandbox"`` require that gateway (422 otherwise)."""
    from payments.payouts.services import payout_gateway_for, payout_request

    if method is not None and method not in Withdrawal.Method.values:
        raise InvalidInputError(
            "invalid_payout_method",
            _("Unknown payout method %(method)s.") % {"method": repr(method)},
        )
    with transaction.atomic():
        withdrawal, moved = _move(
            tenant=tenant,
            withdrawal_id=withdrawal_id,
            to=W.APPROVED,
            actor=actor,
            reviewed_at=timezone.now(),
        )
        if not moved:
            return withdrawal
        member = (
            Distributor.objects.for_tenant(tenant)
            .select_related("member")
            .get(pk=withdrawal.distributor_id)
            .member
        )
        chosen = method
        if chosen is None:
            chosen = payout_gateway_for(tenant=tenant, member=member) or Withdrawal.Method.OFFLINE
            if withdrawal.net_amount <= 0:
                chosen = Withdrawal.Method.OFFLINE
        if chosen in GATEWAY_METHODS:
            payout_request(
                tenant=tenant,
                member=member,
                amount=withdrawal.net_amount,
                reference=_payout_reference(withdrawal),
                reason=PAYOUT_REMARK,
                gateway=chosen,
            )
        withdrawal.method = chosen
        withdrawal.save(update_fields=["method"])
    return withdrawal


def withdrawal_reject(
    *, tenant: Tenant, withdrawal_id: int, actor: str, reason: str = ""
) -> Withdrawal:
    """Refused (before payout): the amount returns to the balance, once. Not while a gateway
    payout of it is in flight (a failed payout rejects it by itself)."""
    with transaction.atomic():
        _refuse_if_gateway_payout(tenant, withdrawal_id)
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
        raise InvalidInputError(
            DistributionErrorCode.PAYOUT_REFERENCE_REQUIRED,
            _("Record the payout's transfer reference."),
        )
    try:
        with transaction.atomic():
            _refuse_if_gateway_payout(tenant, withdrawal_id)
            withdrawal, _created = _move(
                tenant=tenant,
                withdrawal_id=withdrawal_id,
                to=W.PAID,
                actor=actor,
                paid_at=timezone.now(),
                payout_reference=reference[:64],
            )
    except IntegrityError as exc:
        raise ConflictError(
            DistributionErrorCode.PAYOUT_REFERENCE_USED,
            _("This payout reference is already recorded on another withdrawal."),
        ) from exc
    return withdrawal


def _refuse_if_gateway_payout(tenant: Tenant, withdrawal_id: int) -> None:
    locked = _lock(tenant, withdrawal_id)
    if locked.status == W.APPROVED and locked.method in GATEWAY_METHODS:
        raise ConflictError(
            "payout_in_progress",
            _("This withdrawal is being paid through the payment gateway; wait for its outcome."),
            details={"method": locked.method},
        )


def _payout_finished(*, tenant: Tenant, reference: str, payout: object, ok: bool) -> None:
    """Payments' outcome of a withdrawal payout (inside its transaction, payout row locked)."""
    purpose, _sep, raw_id = reference.partition(":")
    if purpose != PAYOUT_PURPOSE or not raw_id.isdigit():
        return
    out_bill_no = str(getattr(payout, "out_bill_no", ""))
    with transaction.atomic():
        locked = _lock(tenant, int(raw_id))
        target = W.PAID if ok else W.REJECTED
        if locked.status == target:
            return  # already applied
        if locked.status != W.APPROVED or locked.method not in GATEWAY_METHODS:
            logger.error(
                "withdrawal %s is %s/%s; payout %s outcome %s not applied",
                locked.pk,
                locked.status,
                locked.method,
                out_bill_no,
                "paid" if ok else "failed",
            )
            return
        if ok:
            _move(
                tenant=tenant,
                withdrawal_id=locked.pk,
                to=W.PAID,
                actor="payments",
                paid_at=timezone.now(),
                payout_reference=out_bill_no[:64],
            )
            return
        reason = f"payout failed: {getattr(payout, 'fail_reason', '')}"[:200]
        withdrawal, moved = _move(
            tenant=tenant, withdrawal_id=locked.pk, to=W.REJECTED, actor="payments", reason=reason
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


class WithdrawalPayoutHandler:
    """Registered with payments for payout references ``withdrawal:<id>``."""

    def on_payout_succeeded(self, *, tenant: Tenant, reference: str, payout: object) -> None:
        _payout_finished(tenant=tenant, reference=reference, payout=payout, ok=True)

    def on_payout_failed(self, *, tenant: Tenant, reference: str, payout: object) -> None:
        _payout_finished(tenant=tenant, reference=reference, payout=payout, ok=False)


register_payout_purpose(PAYOUT_PURPOSE, WithdrawalPayoutHandler())


def withdrawn_today(*, tenant: Tenant, distributor: Distributor, now: datetime) -> Decimal:
    return (
        Withdrawal.objects.for_tenant(tenant)
        .filter(distributor=distributor, created_at__gte=_day_start(tenant, now))
        .exclude(status=W.REJECTED)
        .aggregate(total=Sum("amount"))["total"]
        or ZERO
    )
