"""The ``card`` payment purpose: how payments sees a member card purchase (see purposes.py).

Members sit below payments and never import it, so payments implements and registers the
purpose for them (``PaymentsConfig.ready()``), over the card services of ``members``."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mall.errors import NotFoundError
from mall.tenancy.models import Tenant
from members.models import CardPurchase
from members.services import cards
from payments.purposes import Payable

logger = logging.getLogger(__name__)


def _payable(purchase: CardPurchase) -> Payable:
    return Payable(
        purpose=cards.CARD_PURPOSE,
        reference=purchase.reference,
        amount=purchase.price,
        subject=f"Member card {purchase.plan_name}",
        member_id=purchase.member_id,
        expires_at=purchase.expires_at,
    )


def _pending(purchase: CardPurchase | None) -> bool:
    return (
        purchase is not None
        and purchase.status == CardPurchase.Status.PENDING_PAYMENT
        and purchase.expires_at > timezone.now()
    )


class CardPayableHandler:
    def payable_for_member(self, *, tenant: Tenant, member: Any, reference: str) -> Payable:
        purchase = (
            CardPurchase.objects.for_tenant(tenant)
            .filter(reference=reference, member_id=member.pk)
            .first()
        )
        if purchase is None:
            raise NotFoundError(
                _("No such card purchase."), code=cards.CardErrorCode.PURCHASE_NOT_FOUND
            )
        if not _pending(purchase):
            raise cards.card_not_payable(purchase)
        return _payable(purchase)

    def payable_get(self, *, tenant: Tenant, reference: str) -> Payable | None:
        purchase = CardPurchase.objects.for_tenant(tenant).filter(reference=reference).first()
        if purchase is None or not _pending(purchase):
            return None  # gone: paid, cancelled, expired or unknown
        return _payable(purchase)

    def on_paid(self, *, tenant: Tenant, reference: str, payment: Any, amount: Decimal) -> bool:
        return cards.card_purchase_mark_paid(
            tenant=tenant,
            reference=reference,
            payment_reference=str(getattr(payment, "pk", "") or ""),
            amount=amount,
        )

    def on_refunded(self, *, tenant: Tenant, reference: str, refund: Any) -> None:
        purchase = cards.card_purchase_mark_refunded(tenant=tenant, reference=reference)
        if purchase is None:
            logger.warning("refund of unknown card purchase %s", reference)
