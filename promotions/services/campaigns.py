"""Campaign use cases: status transitions (beat and console) and budget/quota consumption.

The beat moves statuses at the minute; the pricing engine also checks the window at read time
(``promotions.pricing.campaign_is_live``), so a late worker never sells at an expired price.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mall.errors import ConflictError
from mall.money import quantize
from mall.tenancy.models import Tenant
from mall.transitions import transition_apply, transition_update
from promotions import lock_objects
from promotions.errors import PromotionErrorCode
from promotions.models import CAMPAIGN_TRANSITIONS, Campaign, FlashSaleSku
from promotions.sql import campaign_budget_add

Status = Campaign.Status

TRANSITIONS = CAMPAIGN_TRANSITIONS


def _refuse(current: str, to: str) -> ConflictError:
    return ConflictError(
        PromotionErrorCode.INVALID_TRANSITION,
        _("A %(current)s campaign cannot become %(to)s.") % {"current": current, "to": to},
        details={"from": current, "to": to},
    )


def campaign_transition(campaign: Campaign, to: str) -> bool:
    """The one status change of a (locked) campaign, checked against ``CAMPAIGN_TRANSITIONS``
    (409 when not allowed; ``False`` when already there). The caller saves."""
    return transition_apply(campaign, CAMPAIGN_TRANSITIONS, to, entity="campaign", refuse=_refuse)


def _transition(*, tenant: Tenant, campaign: Campaign, to: str) -> Campaign:
    with transaction.atomic():
        current = lock_objects.campaign_qs_for_update(tenant=tenant, pk=campaign.pk).get()
        if campaign_transition(current, to):
            current.save(update_fields=["status", "updated_at"])
        return current


def campaign_schedule(*, tenant: Tenant, campaign: Campaign) -> Campaign:
    """Draft -> scheduled (the beat then activates it at its start)."""
    return _transition(tenant=tenant, campaign=campaign, to=Status.SCHEDULED)


def campaign_cancel(*, tenant: Tenant, campaign: Campaign) -> Campaign:
    """Stop a campaign now; it never applies again."""
    return _transition(tenant=tenant, campaign=campaign, to=Status.CANCELLED)


def campaign_transitions_run(*, now: datetime | None = None) -> dict[str, int]:
    """Beat: scheduled -> active at the start, scheduled/active -> ended at the end (every
    tenant; conditional UPDATEs, so running twice or late is harmless)."""
    now = now or timezone.now()
    ended = transition_update(
        Campaign.objects.filter(status__in=[Status.SCHEDULED, Status.ACTIVE], ends_at__lte=now),
        CAMPAIGN_TRANSITIONS,
        Status.ENDED,
        updated_at=now,
    )
    activated = transition_update(
        Campaign.objects.filter(status=Status.SCHEDULED, starts_at__lte=now, ends_at__gt=now),
        CAMPAIGN_TRANSITIONS,
        Status.ACTIVE,
        updated_at=now,
    )
    return {"activated": activated, "ended": ended}


def campaign_budget_consume(*, tenant: Tenant, campaign_id: int, amount: Decimal) -> bool:
    """Add ``amount`` to the campaign's discount given if it stays within the budget.

    Call inside the order transaction. False: the campaign would exceed its budget and must
    not apply (re-quote). One guarded UPDATE, exact under concurrency.
    """
    amount = quantize(amount)
    if amount <= 0:
        return True
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    # Hot path (every checkout with a campaign): raw SQL (``promotions.sql``).
    return campaign_budget_add(tenant_id=tenant_id, campaign_id=campaign_id, amount=amount)


def campaign_budget_release(*, tenant: Tenant, campaign_id: int, amount: Decimal) -> bool:
    """Give back a cancelled or refunded order's discount to the budget."""
    amount = quantize(amount)
    if amount <= 0:
        return True
    return bool(
        Campaign.objects.for_tenant(tenant)
        .filter(pk=campaign_id, discount_given__gte=amount)
        .update(discount_given=F("discount_given") - amount)
    )


def campaign_discounts_consume(*, tenant: Tenant, discounts: Iterable[tuple[int, Decimal]]) -> None:
    """Consume a quote's ``campaign_discounts`` (all or none; raises 409 when one would
    exceed its budget, which rolls back the surrounding order transaction).

    One guarded UPDATE per campaign, in id order (lock order = id, no deadlocks). A single
    campaign cannot be half-consumed, so it needs no savepoint (the common case at checkout);
    several share one, so a caller that catches the 409 keeps none of them."""
    ordered = sorted(discounts)
    if len(ordered) == 1:
        _discount_consume(tenant=tenant, campaign_id=ordered[0][0], amount=ordered[0][1])
        return
    with transaction.atomic():
        for campaign_id, amount in ordered:
            _discount_consume(tenant=tenant, campaign_id=campaign_id, amount=amount)


def _discount_consume(*, tenant: Tenant, campaign_id: int, amount: Decimal) -> None:
    if not campaign_budget_consume(tenant=tenant, campaign_id=campaign_id, amount=amount):
        raise ConflictError(
            PromotionErrorCode.CAMPAIGN_BUDGET_EXHAUSTED,
            _("A campaign's budget ran out; please review the new price."),
            details={"campaign_id": campaign_id},
        )


def flash_sale_consume(*, tenant: Tenant, campaign_id: int, sku_id: int, quantity: int) -> None:
    """Take ``quantity`` from a flash-sale SKU's quota (guarded UPDATE; 409 when sold out)."""
    updated = (
        FlashSaleSku.objects.for_tenant(tenant)
        .filter(campaign_id=campaign_id, sku_id=sku_id, sold__lte=F("quota") - quantity)
        .update(sold=F("sold") + quantity)
    )
    if not updated:
        raise ConflictError(
            PromotionErrorCode.FLASH_SALE_SOLD_OUT,
            _("The flash-sale quota is used up."),
            details={"campaign_id": campaign_id, "sku_id": sku_id},
        )
