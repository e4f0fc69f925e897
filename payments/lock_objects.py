"""Row-locking querysets of payments (select_for_update, ordered by pk; call inside a
transaction). Every row lock of the app is here."""

from __future__ import annotations

from django.db.models import QuerySet

from mall.tenancy.models import Tenant
from payments.models import (
    GatewayConfig,
    Payment,
    Payout,
    ProfitSharingOrder,
    ProfitSharingReceiver,
    Refund,
    ShippingUpload,
)


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


def payout_for_update(*, pk: int) -> Payout:
    """By id alone, with its tenant: the gateway's answer names the payout (tasks, notifications
    of the payout's own tenant)."""
    return Payout.objects.select_for_update().select_related("tenant").get(pk=pk)


def gateway_config_qs_for_update(*, tenant: Tenant | int, gateway: str) -> QuerySet[GatewayConfig]:
    return GatewayConfig.objects.for_tenant(tenant).select_for_update().filter(gateway=gateway)


def shipping_upload_qs_for_update(
    *, tenant: Tenant | int, purpose: str, reference: str
) -> QuerySet[ShippingUpload]:
    return (
        ShippingUpload.objects.for_tenant(tenant)
        .select_for_update()
        .filter(purpose=purpose, reference=reference)
    )


def profit_sharing_receivers_for_update(*, tenant: Tenant | int) -> QuerySet[ProfitSharingReceiver]:
    return ProfitSharingReceiver.objects.for_tenant(tenant).select_for_update().order_by("pk")


def profit_sharing_order_processing_skip_locked(
    *, tenant: Tenant | int, pk: int
) -> ProfitSharingOrder | None:
    """The processing sharing order, or None when it finished or another worker holds it."""
    return (
        ProfitSharingOrder.objects.for_tenant(tenant)
        .select_for_update(skip_locked=True)
        .filter(pk=pk, status=ProfitSharingOrder.Status.PROCESSING)
        .first()
    )
