"""What a payment pays for. Payments never import the apps above it; they register here.

A purpose (``order``, ``card``) is implemented by the app that owns the payable thing when it
sits above payments: ``orders`` registers ``order`` in its ``AppConfig.ready()``. Member cards
belong to ``members``, below payments, so payments itself registers ``card`` over the members
card services (``payments/cards.py``).
Payments call these hooks around the gateway flow:

- ``payable_for_member``: the buyer asks to pay ``reference``: is it payable now, for how much,
  and what should the gateway show (subject)? Raises ApplicationError (404/409) otherwise.
- ``on_paid``: called once, inside the transaction of the first verified success. Answers
  ``True`` when the payable accepted the money, ``False`` when it can no longer take it
  (cancelled meanwhile, already paid by another payment): payments then refunds automatically.
- ``payable_get``: the payable while it can still be paid; ``None`` once it is gone (cancelled,
  paid, unknown). The fallback query closes pending gateway payments of a gone payable.
- ``on_refunded``: a refund requested through ``payments.refunds.services.refund_request`` finished
  (state ``succeeded``). Not called for the automatic refund of a payment ``on_paid`` refused
  (``request_ref`` ``auto:<payment id>``): the payable never took that money.

Entry points for the apps: ``payments.refunds.services.refund_request(*, tenant, purpose, reference,
amount, reason, request_ref)`` and ``payments.collection.services.payment_close_for(tenant, purpose,
reference)`` (see docs/payments.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from mall.tenancy.models import Tenant


@dataclass(frozen=True)
class Payable:
    purpose: str
    reference: str  # e.g. the order number
    amount: Decimal  # what is due now, CNY with 2 places
    subject: str  # shown by the gateway ("Order 2026112500001")
    member_id: int
    expires_at: Any = None  # datetime after which the payable will be cancelled, if known


class PurposeHandler(Protocol):
    def payable_for_member(self, *, tenant: Tenant, member: Any, reference: str) -> Payable: ...

    def payable_get(self, *, tenant: Tenant, reference: str) -> Payable | None: ...

    def on_paid(self, *, tenant: Tenant, reference: str, payment: Any, amount: Decimal) -> bool: ...

    def on_refunded(self, *, tenant: Tenant, reference: str, refund: Any) -> None: ...


_HANDLERS: dict[str, PurposeHandler] = {}


def register_purpose(name: str, handler: PurposeHandler) -> None:
    _HANDLERS[name] = handler


def purpose_handler(name: str) -> PurposeHandler:
    try:
        return _HANDLERS[name]
    except KeyError:
        raise LookupError(f"no payment purpose {name!r} is registered") from None


def registered_purposes() -> list[str]:
    return sorted(_HANDLERS)


# --- Payouts --------------------------------------------------------------------------------
# An app that pays members out (distribution: ``withdrawal``) registers a handler for the
# prefix of its payout references (``withdrawal:12`` -> ``withdrawal``). Payments tells it the
# outcome exactly once, inside the transaction that finalises the payout (row locked).


class PayoutHandler(Protocol):
    def on_payout_succeeded(self, *, tenant: Tenant, reference: str, payout: Any) -> None: ...

    def on_payout_failed(self, *, tenant: Tenant, reference: str, payout: Any) -> None: ...


_PAYOUT_HANDLERS: dict[str, PayoutHandler] = {}


def register_payout_purpose(name: str, handler: PayoutHandler) -> None:
    _PAYOUT_HANDLERS[name] = handler


def payout_handler(name: str) -> PayoutHandler | None:
    return _PAYOUT_HANDLERS.get(name)
