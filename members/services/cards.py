"""Member cards (paid membership): buying a plan, and what a paid or refunded purchase does.

The money goes through payments with purpose ``card`` (``payments/cards.py``); the
reference of a purchase is ``card:<id>``. A member has at most one card: a paid purchase
activates it, or extends it from its current end while it is still running. What a card gives
is typed on the plan (card price rate, free shipping, points multiplier, coupon pack: see
docs/members.md, "Member cards"); the pack of a purchase is a follow-up run by promotions.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mall.errors import ApplicationError, ConflictError, NotFoundError
from mall.followups.services import follow_up
from mall.tenancy.models import Tenant
from mall.transitions import transition_apply
from members import lock_objects
from members.models import (
    CARD_PURCHASE_TRANSITIONS,
    CardPurchase,
    Member,
    MemberCard,
    MemberCardPlan,
)

CARD_PURPOSE = "card"
REFERENCE_PREFIX = "card:"
# An unpaid purchase is cancelled after this (the gateway is told the same deadline).
PAYMENT_WINDOW = timedelta(minutes=30)
CARD_PACK_TASK = "promotions.tasks.member_card_pack"


class CardErrorCode(StrEnum):
    PLAN_NOT_FOUND = "card_plan_not_found"
    PURCHASE_NOT_FOUND = "card_purchase_not_found"
    PURCHASE_NOT_PAYABLE = "card_purchase_not_payable"


def card_reference(purchase_id: int) -> str:
    return f"{REFERENCE_PREFIX}{purchase_id}"


def card_purchase_create(*, tenant: Tenant, member: Member, plan_id: int) -> CardPurchase:
    """A pending purchase of an active plan of ``tenant`` (404 otherwise). The member's
    unexpired pending purchase of the same plan at the same terms is answered again, so a
    repeated tap does not pile up purchases."""
    now = timezone.now()
    with transaction.atomic():
        plan = None
        if 0 < plan_id < 2**63:  # a path id beyond the column's range names nothing
            plan = (
                MemberCardPlan.objects.for_tenant(tenant).filter(pk=plan_id, is_active=True).first()
            )
        if plan is None:
            raise NotFoundError(_("No such member card plan."), code=CardErrorCode.PLAN_NOT_FOUND)
        lock_objects.members_for_update(tenant=tenant, ids=[member.pk]).first()
        existing = (
            CardPurchase.objects.for_tenant(tenant)
            .filter(
                member=member,
                plan=plan,
                status=CardPurchase.Status.PENDING_PAYMENT,
                price=plan.price,
                duration_days=plan.duration_days,
                plan_name=plan.name,
                expires_at__gt=now + timedelta(minutes=5),
            )
            .order_by("-id")
            .first()
        )
        if existing is not None:
            return existing
        purchase = CardPurchase.objects.create(
            tenant=tenant,
            member=member,
            plan=plan,
            plan_name=plan.name,
            price=plan.price,
            duration_days=plan.duration_days,
            reference=f"new:{uuid.uuid4().hex}",
            expires_at=now + PAYMENT_WINDOW,
        )
        purchase.reference = card_reference(purchase.pk)
        purchase.save(update_fields=["reference", "updated_at"])
    return purchase


def card_purchase_transition(purchase: CardPurchase, to: str) -> bool:
    """The one status change of a (locked) purchase, checked against
    ``CARD_PURCHASE_TRANSITIONS`` (409 when not allowed; ``False`` when already there)."""
    return transition_apply(purchase, CARD_PURCHASE_TRANSITIONS, to, entity="card purchase")


def _is_expired(purchase: CardPurchase, now: datetime) -> bool:
    return purchase.status == CardPurchase.Status.PENDING_PAYMENT and purchase.expires_at <= now


def card_purchase_mark_paid(
    *, tenant: Tenant, reference: str, payment_reference: str, amount: object = None
) -> bool:
    """The payment of ``reference`` succeeded (called by payments inside its transaction).

    Activates or extends the member's card exactly once. Answers ``False`` (payments then
    refunds) when the purchase is gone: cancelled, expired, refunded, or paid by another
    payment. The same payment again answers ``True`` without changing anything.
    """
    now = timezone.now()
    with transaction.atomic():
        purchase = lock_objects.card_purchase_qs_for_update(
            tenant=tenant, reference=reference
        ).first()
        if purchase is None:
            return False
        if purchase.status == CardPurchase.Status.PAID:
            return bool(payment_reference) and purchase.payment_reference == payment_reference
        if purchase.status != CardPurchase.Status.PENDING_PAYMENT:
            return False
        if _is_expired(purchase, now):
            card_purchase_transition(purchase, CardPurchase.Status.CANCELLED)
            purchase.cancelled_at = now
            purchase.save(update_fields=["status", "cancelled_at", "updated_at"])
            return False
        if amount is not None and amount != purchase.price:
            return False
        lock_objects.members_for_update(tenant=tenant, ids=[purchase.member_id]).first()
        card = lock_objects.member_card_qs_for_update(
            tenant=tenant, member_id=purchase.member_id
        ).first()
        length = timedelta(days=purchase.duration_days)
        if card is None:
            start = now
            card = MemberCard(
                tenant=tenant,
                member_id=purchase.member_id,
                plan_id=purchase.plan_id,
                starts_at=now,
                ends_at=now + length,
            )
        else:
            start = max(card.ends_at, now)
            if card.ends_at <= now:
                card.starts_at = now  # lapsed: a new membership period begins
            card.ends_at = start + length
            card.plan_id = purchase.plan_id
        card.save()
        card_purchase_transition(purchase, CardPurchase.Status.PAID)
        # The card's coupon pack for the current card month (promotions issues it).
        follow_up(
            tenant=tenant,
            task=CARD_PACK_TASK,
            key=f"card-pack:{purchase.member_id}:{purchase.pk}",
            kwargs={"tenant_id": tenant.pk, "member_id": purchase.member_id},
        )
        purchase.paid_at = now
        purchase.payment_reference = payment_reference[:64]
        purchase.period_start = start
        purchase.period_end = start + length
        purchase.save(
            update_fields=[
                "status",
                "paid_at",
                "payment_reference",
                "period_start",
                "period_end",
                "updated_at",
            ]
        )
    return True


def card_purchase_mark_refunded(*, tenant: Tenant, reference: str) -> CardPurchase | None:
    """A refund of a paid purchase finished: the purchase is refunded and the period it added
    is taken off the member's card (which ends now if nothing is left)."""
    now = timezone.now()
    with transaction.atomic():
        purchase = lock_objects.card_purchase_qs_for_update(
            tenant=tenant, reference=reference
        ).first()
        if purchase is None or purchase.status != CardPurchase.Status.PAID:
            return purchase  # unknown, or already refunded: nothing (more) to take back
        lock_objects.members_for_update(tenant=tenant, ids=[purchase.member_id]).first()
        card = lock_objects.member_card_qs_for_update(
            tenant=tenant, member_id=purchase.member_id
        ).first()
        if card is not None:
            card.ends_at = max(card.ends_at - timedelta(days=purchase.duration_days), now)
            card.save(update_fields=["ends_at", "updated_at"])
        card_purchase_transition(purchase, CardPurchase.Status.REFUNDED)
        purchase.refunded_at = now
        purchase.save(update_fields=["status", "refunded_at", "updated_at"])
    return purchase


def merge_member_cards(*, survivor: Member, loser: Member) -> int:
    """Phone merge: the survivor keeps one card and the periods add up. The time the merged
    member's card still had to run is added to the survivor's running card; when the
    survivor's card has ended, the merged member's card (and plan) carries on as it was."""
    cards = MemberCard.objects.for_tenant(survivor.tenant_id)
    theirs = cards.filter(member=loser).first()
    if theirs is None:
        return 0
    mine = cards.filter(member=survivor).first()
    if mine is None:
        return cards.filter(pk=theirs.pk).update(member=survivor)
    now = timezone.now()
    remaining = max(theirs.ends_at - max(now, theirs.starts_at), timedelta(0))
    if mine.ends_at > now:
        mine.ends_at += remaining
    elif theirs.ends_at > mine.ends_at:
        mine.starts_at, mine.ends_at = theirs.starts_at, theirs.ends_at
        mine.plan_id = theirs.plan_id or mine.plan_id
    mine.save(update_fields=["ends_at", "plan", "starts_at", "updated_at"])
    theirs.delete()
    return 1


def card_not_payable(purchase: CardPurchase) -> ApplicationError:
    expired = _is_expired(purchase, timezone.now())
    state = _("expired") if expired else CardPurchase.Status(purchase.status).label.lower()
    return ConflictError(
        CardErrorCode.PURCHASE_NOT_PAYABLE,
        _("A %(state)s card purchase cannot be paid.") % {"state": state},
        details={"status": "expired" if expired else purchase.status},
    )
