"""Payments' part of the cross-tenant matrix, ready to merge into tests/security/factories.py:

    from tests.payments import security_matrix as payments_matrix
    MODEL_FACTORIES.update(payments_matrix.MODEL_FACTORIES)
    ROUTES.update(payments_matrix.ROUTES)
    NOT_IN_CONSOLE.update(payments_matrix.NOT_IN_CONSOLE)

(``api/v1/orders/<str:number>/pay`` needs the ``orders.Order`` factory of the orders part.)
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from mall.tenancy.models import Tenant
from members.models import Member
from payments.models import (
    GatewayConfig,
    OrderSettlement,
    Payment,
    PaymentEvent,
    Payout,
    ProfitSharingOrder,
    ProfitSharingReceiver,
    ReconciliationMismatch,
    ReconciliationRun,
    Refund,
    ShippingUpload,
)
from tests.security.matrix import MARKER, ObjectRoute, Public


def _payment(t: Tenant) -> Payment:
    return Payment.objects.create(
        tenant=t,
        purpose="order",
        reference=MARKER,
        subject=MARKER,
        member=Member.objects.create(tenant=t, nickname=MARKER),
        gateway="sandbox",
        out_trade_no=f"P{t.pk}matrix",
        amount=Decimal("10.00"),
        status="pending",
    )


def _refund(t: Tenant) -> Refund:
    payment = _payment(t)
    Payment.objects.filter(pk=payment.pk).update(
        status="succeeded", refunded_amount=Decimal("1.00")
    )
    return Refund.objects.create(
        tenant=t,
        payment=payment,
        amount=Decimal("1.00"),
        out_refund_no=f"R{t.pk}matrix",
        request_ref=MARKER,
        reason=MARKER,
        status="failed",
    )


def _payout(t: Tenant) -> Payout:
    return Payout.objects.create(
        tenant=t,
        purpose="matrix",
        reference=f"matrix:{MARKER}"[:64],
        member=Member.objects.create(tenant=t, nickname=MARKER),
        gateway="wechat",
        amount=Decimal("3.00"),
        reason=MARKER[:32],
        out_bill_no=f"T{t.pk}matrix",
        status="waiting_confirmation",
        package_info=MARKER,
        fail_reason=MARKER,
    )


def _run(t: Tenant) -> ReconciliationRun:
    from datetime import date

    from django.utils import timezone

    return ReconciliationRun.objects.create(
        tenant=t,
        gateway="wechat",
        bill_date=date(2026, 11, 25),
        status="failed",
        error=MARKER,
        ran_at=timezone.now(),
    )


def _settlement(t: Tenant) -> OrderSettlement:
    from django.utils import timezone

    return OrderSettlement.objects.create(
        tenant=t,
        purpose="order",
        reference=MARKER[:64],
        gateway="wechat",
        gross=Decimal("10.00"),
        net=Decimal("10.00"),
        computed_at=timezone.now(),
    )


def _receiver(t: Tenant) -> ProfitSharingReceiver:
    return ProfitSharingReceiver.objects.create(
        tenant=t, type="MERCHANT_ID", account=MARKER[:64], name=MARKER, share_rate=Decimal("0.1")
    )


def _sharing(t: Tenant) -> ProfitSharingOrder:
    payment = _payment(t)
    return ProfitSharingOrder.objects.create(
        tenant=t,
        payment=payment,
        purpose="order",
        reference=MARKER[:64],
        out_order_no=f"S{t.pk}matrix",
        transaction_id=f"4200{t.pk}matrix",
        base_amount=Decimal("10.00"),
        amount=Decimal("1.00"),
        receivers=[{"type": "MERCHANT_ID", "account": MARKER, "amount": "1.00"}],
        last_error=MARKER,
    )


MODEL_FACTORIES: dict[str, Callable[[Tenant], Any]] = {
    "payments.GatewayConfig": lambda t: GatewayConfig.objects.create(
        tenant=t, gateway="wechat", app_id=MARKER, mch_id=MARKER
    ),
    "payments.Payment": _payment,
    "payments.Refund": _refund,
    "payments.PaymentEvent": lambda t: PaymentEvent.objects.create(
        tenant=t, payment=_payment(t), kind=MARKER
    ),
    "payments.Payout": _payout,
    "payments.ShippingUpload": lambda t: ShippingUpload.objects.create(
        tenant=t,
        payment=_payment(t),
        purpose="order",
        reference=MARKER[:64],
        logistics_type=4,
        packages=[{"key": MARKER, "item_desc": MARKER}],
        status="failed",
        last_error=MARKER,
    ),
    "payments.ReconciliationRun": _run,
    "payments.OrderSettlement": _settlement,
    "payments.ProfitSharingReceiver": _receiver,
    "payments.ProfitSharingOrder": _sharing,
    "payments.ReconciliationMismatch": lambda t: ReconciliationMismatch.objects.create(
        tenant=t, run=_run(t), kind="missing_ours", entry="payment", out_trade_no=MARKER[:64]
    ),
}

NOT_IN_CONSOLE: dict[str, str] = {
    "payments.PaymentEvent": "audit rows; shown read-only inline on the payment page",
    "payments.ReconciliationMismatch": "shown read-only inline on the reconciliation run page",
}

CALLBACK = Public(
    "gateway callback: tenant from the path slug, trust from the gateway signature; "
    "another tenant's trade is refused (tests/payments)"
)

ROUTES: dict[str, Any] = {
    "api/v1/orders/<str:number>/pay": ObjectRoute(
        "orders.Order", methods=("post",), body={"gateway": "sandbox"}, lookup=lambda o: o.number
    ),
    "api/v1/payments/sandbox/<str:out_trade_no>/complete": ObjectRoute(
        "payments.Payment", methods=("post",), lookup=lambda p: p.out_trade_no
    ),
    "api/v1/payments/notify/wechat/<slug:slug>": CALLBACK,
    "api/v1/payments/notify/wechat/<slug:slug>/refund": CALLBACK,
    "api/v1/payments/notify/wechat/<slug:slug>/transfer": CALLBACK,
    "api/v1/payments/payouts/<str:out_bill_no>": ObjectRoute(
        "payments.Payout", lookup=lambda p: p.out_bill_no
    ),
    "api/v1/payments/notify/alipay/<slug:slug>": CALLBACK,
    "api/v1/payments/notify/sandbox/<slug:slug>": CALLBACK,
}
