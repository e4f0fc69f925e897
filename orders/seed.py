"""Demo orders for ``manage.py seed_demo`` (idempotent): a pickup store and one order in every
state, placed through the real services on the catalog seed's SKUs.

Payment is simulated with ``order_mark_paid`` (no payment row); refunds of the demo after-sales
are marked finished directly (``after_sale_mark_refunded``), since no gateway took the money.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.management.base import OutputWrapper
from django.db import transaction

from catalog.models import Product, Sku
from mall.errors import ApplicationError
from mall.tenancy.models import Channel, Tenant
from members.models import Address, Member
from orders import services
from orders.models import AfterSale, Order, Store
from orders.services.after_sales import _lock, _move

STATES = (
    "pending_payment",
    "paid",
    "partially_shipped",
    "shipped",
    "received",
    "completed",
    "cancelled",
    "partially_refunded",
    "refunded",
    "pickup",
)
SEED_ACTOR = "system:seed"


def _store(tenant: Tenant) -> Store:
    store = Store.objects.for_tenant(tenant).filter(name="Demo flagship store").first()
    if store is None:
        store = Store.objects.create(
            tenant=tenant,
            name="Demo flagship store",
            phone="01088886666",
            province="Beijing",
            city="Beijing",
            district="Chaoyang",
            address="1 Jianguo Road",
            hours="10:00-22:00",
            latitude=Decimal("39.908000"),
            longitude=Decimal("116.460000"),
            pickup_enabled=True,
            same_city_enabled=True,
            same_city_bands=[{"max_km": "3", "fee": "6.00"}, {"max_km": "10", "fee": "15.00"}],
        )
    return store


def _refund(tenant: Tenant, order: Order, *, lines: list, member: Member) -> None:
    after_sale = services.after_sale_request(
        tenant=tenant,
        member=member,
        order=order,
        type=AfterSale.Type.REFUND,
        reason="demo refund",
        lines=lines,
        actor=SEED_ACTOR,
    )
    with transaction.atomic():
        locked = _lock(tenant, after_sale.pk)
        _move(locked, AfterSale.Status.APPROVED, SEED_ACTOR)
        _move(locked, AfterSale.Status.REFUNDING, SEED_ACTOR)
    services.after_sale_mark_refunded(tenant=tenant, after_sale_id=after_sale.pk, actor=SEED_ACTOR)


def _ship(tenant: Tenant, order: Order, **kw: object) -> None:
    services.order_ship(
        tenant=tenant,
        order=order,
        actor=SEED_ACTOR,
        carrier="shunfeng",
        tracking_no=f"SF{order.number[-10:]}",
        **kw,  # type: ignore[arg-type]
    )


def _make(
    tenant: Tenant,
    state: str,
    address: Address,
    channel: Channel | None,
    skus: list[Sku],
    store: Store,
) -> Order:
    member = address.member
    pickup = state == "pickup"
    order = services.order_place(
        tenant=tenant,
        member=member,
        channel=channel,
        lines=[services.CheckoutLine(skus[0].pk, 2), services.CheckoutLine(skus[1].pk, 1)],
        fulfillment="pickup" if pickup else "express",
        address_id=None if pickup else address.pk,
        store_id=store.pk if pickup else None,
        remark=f"demo:{state}",
    )
    if state == "pending_payment":
        return order
    if state == "cancelled":
        services.order_cancel(tenant=tenant, order=order, actor=SEED_ACTOR, reason="demo")
        return order
    services.order_mark_paid(
        tenant=tenant,
        number=order.number,
        amount=order.payable,
        payment_reference=f"demo-{order.number}",
        actor=SEED_ACTOR,
    )
    lines = list(order.lines.order_by("id"))
    if state == "partially_shipped":
        _ship(tenant, order, lines=[services.ShipLine(lines[0].pk, 1)])
    elif state in ("shipped", "received", "completed"):
        _ship(tenant, order)
        if state != "shipped":
            services.order_confirm_receipt(tenant=tenant, order=order, actor=SEED_ACTOR)
        if state == "completed":
            services.order_complete(tenant=tenant, order=order, actor=SEED_ACTOR)
    elif state == "partially_refunded":
        _refund(tenant, order, lines=[services.AfterSaleLineInput(lines[1].pk, 1)], member=member)
    elif state == "refunded":
        _refund(tenant, order, lines=[], member=member)
    return order


def seed(*, tenant: Tenant, stdout: OutputWrapper) -> None:
    store = _store(tenant)
    skus = list(
        Sku.objects.for_tenant(tenant)
        .filter(is_active=True, stock__gte=20, product__status=Product.Status.ON_SALE)
        .order_by("id")[:2]
    )
    address = Address.objects.for_tenant(tenant).select_related("member").order_by("id").first()
    if len(skus) < 2 or address is None:
        stdout.write("  orders: skipped (needs two SKUs in stock and a member with an address)")
        return
    channel = Channel.objects.for_tenant(tenant).filter(is_active=True).order_by("id").first()
    existing = set(
        Order.objects.for_tenant(tenant)
        .filter(remark__startswith="demo:")
        .values_list("remark", flat=True)
    )
    created = 0
    for state in STATES:
        if f"demo:{state}" in existing:
            continue
        try:
            _make(tenant, state, address, channel, skus, store)
        except ApplicationError as exc:
            stdout.write(f"  orders: demo {state} order skipped ({exc.code}: {exc.message})")
            continue
        created += 1
    stdout.write(f"  orders: {len(STATES)} demo orders ({created} new), store {store.name!r}")
