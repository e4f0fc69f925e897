"""Read paths of payments (no writes, no locks): what the services, the API and other apps
read. Row locks are in ``payments.lock_objects``; the console's figures in
``payments.dashboard`` and ``payments.console``."""

from __future__ import annotations

from django.db.models import QuerySet

from mall.tenancy.models import Tenant
from members.models import Member
from payments.models import Gateway, Payment, Payout, Refund


def payments_accepted(*, tenant: Tenant | int, purpose: str, reference: str) -> QuerySet[Payment]:
    """The succeeded payments of a payable that the payable took (oldest first)."""
    return (
        Payment.objects.for_tenant(tenant)
        .filter(
            purpose=purpose,
            reference=reference,
            status=Payment.Status.SUCCEEDED,
            purpose_accepted=True,
        )
        .order_by("pk")
    )


def payment_accepted_last(*, tenant: Tenant | int, purpose: str, reference: str) -> Payment | None:
    """The payment a payable's refunds and shipping refer to (the latest accepted one)."""
    return payments_accepted(tenant=tenant, purpose=purpose, reference=reference).last()


def sandbox_payment_for_member(
    *, tenant: Tenant | int, member: Member, out_trade_no: str
) -> Payment | None:
    return (
        Payment.objects.for_tenant(tenant)
        .filter(out_trade_no=out_trade_no, member=member, gateway=Gateway.SANDBOX)
        .first()
    )


def payout_for_member(*, tenant: Tenant | int, member: Member, out_bill_no: str) -> Payout | None:
    return Payout.objects.for_tenant(tenant).filter(out_bill_no=out_bill_no, member=member).first()


def refund_status_for(*, tenant: Tenant | int, request_ref: str) -> str | None:
    """The status of the refund asked for with ``request_ref`` (None: never created)."""
    return (
        Refund.objects.for_tenant(tenant)
        .filter(request_ref=request_ref)
        .values_list("status", flat=True)
        .first()
    )
