"""Per-order settlement ledger and WeChat Pay profit sharing of completed orders.

Settlement of a payable (``purpose`` + ``reference``), exact to the fen:

- gross: the amounts of its succeeded payments the payable accepted;
- refunds: what is reserved to go back on them (``Payment.refunded_amount``);
- commissions: the net (amount - reversed) of its ``distribution.Commission`` rows (orders);
- fee: per payment, ``quantize(amount * rate)`` with the gateway's rate (``GatewayConfig
  .fee_rate``, else ``DEFAULT_FEE_RATES``);
- supplier shares: its profit sharing orders that did not fail;
- net = gross - refunds - commissions - supplier shares - fee.

Profit sharing shares ``gross - refunds - commissions - fee`` of a WeChat payment over the
active receivers' rates (each share rounded down to the fen; the rates add up to <= 30%).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal

from django.apps import apps
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mall.errors import ApplicationError, ConflictError, NotFoundError
from mall.money import ZERO, quantize, quantize_down, to_fen
from mall.tenancy.models import Tenant
from mall.transitions import transition_update
from payments import lock_objects
from payments.common import gateway_application_error, new_out_no
from payments.errors import PaymentErrorCode
from payments.gateways.base import GatewayError
from payments.gateways.wechat import WeChatPayAdapter
from payments.models import (
    MAX_PROFIT_SHARING_RATE,
    PROFIT_SHARING_TRANSITIONS,
    Gateway,
    GatewayConfig,
    OrderSettlement,
    Payment,
    ProfitSharingOrder,
    ProfitSharingReceiver,
)
from payments.selectors import payments_accepted

logger = logging.getLogger(__name__)

DEFAULT_FEE_RATES: dict[str, Decimal] = {
    Gateway.WECHAT: Decimal("0.006"),
    Gateway.ALIPAY: Decimal("0.006"),
    Gateway.SANDBOX: Decimal("0"),
}
COMPLETED_ORDER_STATUS = "completed"


@dataclass(frozen=True)
class Parts:
    gross: Decimal
    refunds: Decimal
    commissions: Decimal
    fee: Decimal
    gateway: str

    @property
    def shareable(self) -> Decimal:
        return max(self.gross - self.refunds - self.commissions - self.fee, ZERO)


def fee_rate_for(*, tenant: Tenant, gateway: str) -> Decimal:
    config = GatewayConfig.objects.for_tenant(tenant).filter(gateway=gateway).first()
    if config is not None and config.fee_rate is not None:
        return config.fee_rate
    return DEFAULT_FEE_RATES.get(gateway, Decimal("0"))


def _paid(tenant: Tenant, purpose: str, reference: str) -> list[Payment]:
    return list(payments_accepted(tenant=tenant, purpose=purpose, reference=reference))


def _commissions(tenant: Tenant, purpose: str, reference: str) -> Decimal:
    if purpose != "order" or not apps.is_installed("distribution"):
        return ZERO
    commission = apps.get_model("distribution", "Commission")
    total = (
        commission.objects.for_tenant(tenant)
        .filter(order__number=reference)
        .aggregate(net=Sum(F("amount") - F("reversed_amount")))["net"]
    )
    return quantize(total or ZERO)


def _parts(tenant: Tenant, purpose: str, reference: str) -> Parts:
    payments = _paid(tenant, purpose, reference)
    rates: dict[str, Decimal] = {}
    fee = ZERO
    for payment in payments:
        if payment.gateway not in rates:
            rates[payment.gateway] = fee_rate_for(tenant=tenant, gateway=payment.gateway)
        fee += quantize(payment.amount * rates[payment.gateway])
    return Parts(
        gross=sum((p.amount for p in payments), ZERO),
        refunds=sum((p.refunded_amount for p in payments), ZERO),
        commissions=_commissions(tenant, purpose, reference),
        fee=fee,
        gateway=payments[-1].gateway if payments else "",
    )


def _supplier_shares(tenant: Tenant, purpose: str, reference: str) -> Decimal:
    total = (
        ProfitSharingOrder.objects.for_tenant(tenant)
        .filter(purpose=purpose, reference=reference)
        .exclude(status=ProfitSharingOrder.Status.FAILED)
        .aggregate(total=Sum("amount"))["total"]
    )
    return total or ZERO


def settlement_compute_for(*, tenant: Tenant, purpose: str, reference: str) -> OrderSettlement:
    """Compute (or recompute: the same row) the settlement of a payable."""
    parts = _parts(tenant, purpose, reference)
    shares = _supplier_shares(tenant, purpose, reference)
    values = {
        "gateway": parts.gateway,
        "gross": parts.gross,
        "refunds": parts.refunds,
        "commissions": parts.commissions,
        "supplier_shares": shares,
        "fee": parts.fee,
        "net": parts.gross - parts.refunds - parts.commissions - shares - parts.fee,
        "computed_at": timezone.now(),
    }
    with transaction.atomic():
        try:
            with transaction.atomic():
                settlement, _created = OrderSettlement.objects.update_or_create(
                    tenant=tenant, purpose=purpose, reference=reference, defaults=values
                )
        except IntegrityError:  # created concurrently: update that row
            OrderSettlement.objects.for_tenant(tenant).filter(
                purpose=purpose, reference=reference
            ).update(**values)
            settlement = OrderSettlement.objects.for_tenant(tenant).get(
                purpose=purpose, reference=reference
            )
    return settlement


# --- Profit sharing ------------------------------------------------------------------------


def profit_sharing_receiver_add(
    *,
    tenant: Tenant,
    type: str,
    account: str,
    name: str,
    share_rate: Decimal,
    relation_type: str = ProfitSharingReceiver.Relation.SUPPLIER,
) -> ProfitSharingReceiver:
    """Register a receiver with WeChat Pay and keep it; the active rates stay <= 30%."""
    if type not in ProfitSharingReceiver.Type.values or not account:
        raise ApplicationError(
            PaymentErrorCode.PROFIT_SHARING_RECEIVER_INVALID,
            _("Unknown receiver type or empty account."),
        )
    if not Decimal("0") < share_rate <= MAX_PROFIT_SHARING_RATE:
        raise _rate_exceeded(share_rate)
    config = GatewayConfig.objects.for_tenant(tenant).filter(gateway=Gateway.WECHAT).first()
    if config is None:
        raise ApplicationError(
            PaymentErrorCode.GATEWAY_NOT_CONFIGURED, _("WeChat Pay is not configured.")
        )
    with transaction.atomic():
        # The WeChat configuration row serialises receiver changes of the tenant (the 30% sum).
        lock_objects.gateway_config_qs_for_update(tenant=tenant, gateway=config.gateway).first()
        receivers = lock_objects.profit_sharing_receivers_for_update(tenant=tenant)
        receiver, _created = receivers.get_or_create(
            tenant=tenant,
            type=type,
            account=account,
            defaults={"name": name, "relation_type": relation_type, "share_rate": share_rate},
        )
        others = receivers.filter(is_active=True).exclude(pk=receiver.pk)
        total = sum((r.share_rate for r in others), Decimal("0")) + share_rate
        if total > MAX_PROFIT_SHARING_RATE:
            raise _rate_exceeded(total)
    try:
        WeChatPayAdapter(config).add_receiver(receiver=receiver)
    except GatewayError as exc:
        if receiver.registered_at is None:
            receiver.delete()
        raise gateway_application_error(exc) from exc
    ProfitSharingReceiver.objects.for_tenant(receiver.tenant_id).filter(pk=receiver.pk).update(
        name=name,
        relation_type=relation_type,
        share_rate=share_rate,
        is_active=True,
        registered_at=timezone.now(),
    )
    receiver.refresh_from_db()
    return receiver


def profit_sharing_receiver_remove(*, tenant: Tenant, receiver_id: int) -> ProfitSharingReceiver:
    """Remove a receiver: deleted at WeChat Pay (when it was registered there), then kept
    inactive here (its past sharing orders still name it; adding it again re-activates it).

    Idempotent: an inactive receiver is answered as it is, without calling WeChat. When
    WeChat refuses or cannot be reached, nothing changes here (the error says why).
    """
    receiver = ProfitSharingReceiver.objects.for_tenant(tenant).filter(pk=receiver_id).first()
    if receiver is None:
        raise NotFoundError(
            _("No such profit sharing receiver."),
            code=PaymentErrorCode.PROFIT_SHARING_RECEIVER_NOT_FOUND,
        )
    if not receiver.is_active:
        return receiver
    if receiver.registered_at is not None:
        config = GatewayConfig.objects.for_tenant(tenant).filter(gateway=Gateway.WECHAT).first()
        if config is None:
            raise ApplicationError(
                PaymentErrorCode.GATEWAY_NOT_CONFIGURED, _("WeChat Pay is not configured.")
            )
        try:
            WeChatPayAdapter(config).delete_receiver(receiver=receiver)
        except GatewayError as exc:
            raise gateway_application_error(exc) from exc
    # ``registered_at`` stays (when it was last registered): a failed re-add then keeps the
    # row (the add service deletes only receivers that were never registered).
    ProfitSharingReceiver.objects.for_tenant(receiver.tenant_id).filter(pk=receiver.pk).update(
        is_active=False
    )
    receiver.refresh_from_db()
    return receiver


def _rate_exceeded(rate: Decimal) -> ApplicationError:
    return ConflictError(
        PaymentErrorCode.PROFIT_SHARING_RATE_EXCEEDED,
        _("The receivers' share rates may add up to at most 30%."),
        details={"rate": str(rate), "max": str(MAX_PROFIT_SHARING_RATE)},
    )


def _apply(order: ProfitSharingOrder, state: str, order_id: str, raw: dict, error: str) -> None:
    """The one status change of a sharing order: a conditional UPDATE guarded by
    ``PROFIT_SHARING_TRANSITIONS`` (a finished or failed order stays as it is)."""
    fields: dict = {"attempts": F("attempts") + 1, "last_error": error[:500]}
    if raw:
        fields["raw"] = raw
    if order_id:
        fields["order_id"] = order_id
    mine = ProfitSharingOrder.objects.for_tenant(order.tenant_id).filter(pk=order.pk)
    if state in {"finished", "failed"}:
        transition_update(
            mine, PROFIT_SHARING_TRANSITIONS, state, finished_at=timezone.now(), **fields
        )
    else:
        mine.filter(status=ProfitSharingOrder.Status.PROCESSING).update(**fields)
    order.refresh_from_db()


def _submit(order: ProfitSharingOrder, config: GatewayConfig) -> ProfitSharingOrder:
    adapter = WeChatPayAdapter(config)
    try:
        result = adapter.profit_share(order=order)
    except GatewayError as exc:
        # Refused for good: failed; unreachable: stays processing, queried / resent later
        # (WeChat de-duplicates the out_order_no).
        state = "failed" if exc.kind == GatewayError.REFUSED else "processing"
        _apply(order, state, "", {}, f"{exc.code}: {exc.message}")
        return order
    _apply(order, result.state, result.order_id, result.raw, "")
    return order


def profit_sharing_request_for(
    *, tenant: Tenant, purpose: str, reference: str
) -> ProfitSharingOrder | None:
    """Share the WeChat payment of a completed payable with the active receivers, once.

    Idempotent: a payment already shared answers its order (queried again while processing).
    None when there is nothing to share (no WeChat payment, no receivers, zero amounts).
    """
    payment = next(
        (
            p
            for p in reversed(_paid(tenant, purpose, reference))
            if p.gateway == Gateway.WECHAT and p.transaction_id
        ),
        None,
    )
    if payment is None:
        return None
    config = GatewayConfig.objects.for_tenant(tenant).filter(gateway=Gateway.WECHAT).first()
    if config is None:
        return None
    existing = ProfitSharingOrder.objects.for_tenant(tenant).filter(payment=payment).first()
    if existing is not None:
        return profit_sharing_sync(order=existing, config=config)
    receivers = list(
        ProfitSharingReceiver.objects.for_tenant(tenant)
        .filter(is_active=True, registered_at__isnull=False)
        .order_by("id")
    )
    if not receivers:
        return None
    base = _parts(tenant, purpose, reference).shareable
    base = min(base, payment.amount - payment.refunded_amount)
    lines = []
    for receiver in receivers:
        amount = quantize_down(base * receiver.share_rate)
        if amount > ZERO:
            lines.append(
                {
                    "receiver_id": receiver.pk,
                    "type": receiver.type,
                    "account": receiver.account,
                    "amount": str(amount),
                    "amount_fen": to_fen(amount),
                    "description": f"Share of {purpose} {reference}"[:80],
                }
            )
    if not lines:
        return None
    try:
        with transaction.atomic():
            order = ProfitSharingOrder.objects.create(
                tenant=tenant,
                payment=payment,
                purpose=purpose,
                reference=reference,
                out_order_no=new_out_no("S"),
                transaction_id=payment.transaction_id,
                base_amount=base,
                amount=sum((Decimal(x["amount"]) for x in lines), ZERO),
                receivers=lines,
            )
    except IntegrityError:  # created concurrently: that one is sent (once) below
        order = ProfitSharingOrder.objects.for_tenant(tenant).get(payment=payment)
    return profit_sharing_sync(order=order, config=config)


def profit_sharing_sync(
    *, order: ProfitSharingOrder, config: GatewayConfig | None = None
) -> ProfitSharingOrder:
    """Send a processing sharing order WeChat has not received yet, or query it.

    One exchange with WeChat at a time per sharing order: the row is locked for the exchange
    (a gateway call, bounded by ``EXTERNAL_HTTP_TIMEOUT``) and a caller that finds it locked
    leaves it to the holder and answers the order as it stands. So concurrent requests, beat
    runs and retries never send it twice: an order already sent (``attempts`` > 0) is queried,
    and sent again only when WeChat answers that it never received it.
    """
    if order.status != ProfitSharingOrder.Status.PROCESSING:
        return order
    config = config or (
        GatewayConfig.objects.for_tenant(order.tenant_id).filter(gateway=Gateway.WECHAT).first()
    )
    if config is None:
        return order
    with transaction.atomic():
        locked = lock_objects.profit_sharing_order_processing_skip_locked(
            tenant=order.tenant_id, pk=order.pk
        )
        if locked is None:  # finished meanwhile, or another worker is talking to WeChat
            order.refresh_from_db()
            return order
        if locked.attempts == 0:
            return _submit(locked, config)
        try:
            result = WeChatPayAdapter(config).profit_share_query(order=locked)
        except GatewayError as exc:
            _apply(locked, "processing", "", {}, f"{exc.code}: {exc.message}")
            return locked
        if result.state == "not_found":
            return _submit(locked, config)
        _apply(locked, result.state, result.order_id, result.raw, "")
        return locked


def settlements_run(*, limit: int = 500) -> int:
    """Beat: for completed orders, share profits (WeChat) and compute the settlement.

    Orders completed without a settlement, and settlements with a processing sharing order,
    are handled; each order on its own (one failure does not stop the others)."""
    order_model = apps.get_model("orders", "Order")
    settled = OrderSettlement.objects.filter(
        tenant_id=OuterRef("tenant_id"), purpose="order", reference=OuterRef("number")
    )
    processing = ProfitSharingOrder.objects.filter(
        tenant_id=OuterRef("tenant_id"),
        purpose="order",
        reference=OuterRef("number"),
        status=ProfitSharingOrder.Status.PROCESSING,
    )
    candidates = (
        order_model.objects.filter(status=COMPLETED_ORDER_STATUS)
        .filter(~Exists(settled) | Exists(processing))
        .select_related("tenant")
        .order_by("completed_at", "id")
        .only("id", "number", "tenant")[:limit]
    )
    count = 0
    for order in candidates:
        try:
            profit_sharing_request_for(tenant=order.tenant, purpose="order", reference=order.number)
            settlement_compute_for(tenant=order.tenant, purpose="order", reference=order.number)
        except Exception:
            logger.exception("settlement of order %s failed", order.number)
            continue
        count += 1
    return count
