"""Row-locking querysets (select_for_update), ordered by pk."""

from __future__ import annotations

from django.db.models import QuerySet

from mall.tenancy.models import Tenant
from payments.models import Payment, Refund


def payment_for_update(*, tenant: Tenant | int, pk: int) -> Payment:
    return Payment.objects.for_tenant(tenant).select_for_update().get(pk=pk)


def payments_of_payable_for_update(
    *, tenant: Tenant | int, purpose: str, reference: str
) -> QuerySet[Payment]:
    return (
        Payment.objects.for_tenant(tenant)
        .select_for_update()
        .filter(purpose=purpose, reference=reference)
        .order_by("pk")
    )


def refund_for_update(*, tenant: Tenant | int, pk: int) -> Refund:
    return Refund.objects.for_tenant(tenant).select_for_update().get(pk=pk)
