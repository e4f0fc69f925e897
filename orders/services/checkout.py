"""Checkout: ``order_place`` re-prices with the engine and writes the order in one transaction.

Inside the transaction, in a fixed order: insert the order (its first write, so a number
collision just retries the transaction), reserve stock for every line at once
(``catalog.inventory.stock_reserve``: rows locked by SKU id, one guarded UPDATE), lock coupons
(``promotions.services.coupon_lock``), take points (``members.points.services.points_spend``:
FIFO from the member's lots under the member's row lock, + ``PointsUse``), consume campaign
budgets and flash-sale quotas, write the lines in one INSERT, the timeline event and
``order.created``. Any failure rolls all of it back. No statement is issued per line, except
the quota of a flash-priced line (pinned by tests/orders/test_services_checkout.py).
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.errors import CatalogErrorCode
from catalog.inventory import stock_reserve
from catalog.selectors import skus_for_pricing
from mall.errors import (
    ApplicationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    render_message,
)
from mall.events.services import EventName, event_record
from mall.tenancy.models import Channel, Tenant
from members.models import Address, Member
from members.points.services import points_spend
from members.selectors import address_of_member
from orders.errors import OrderErrorCode
from orders.hooks import attribution_snapshot
from orders.models import CartItem, Fulfillment, Order, OrderLine, PointsUse, Store
from orders.services.common import actor_member, order_event_add
from orders.services.transitions import order_expiry
from promotions.pricing import ShippingInput, quote
from promotions.pricing.types import ITEM_FLASH
from promotions.selectors import CartLine, quote_inputs_load
from promotions.services import campaign_discounts_consume, coupon_lock, flash_sale_consume

# Problems of the quote that stop an order (the rest are informational, e.g. a campaign
# threshold not met). Coupon problems stop it only for coupons the buyer chose.
FATAL_PROBLEMS = frozenset({"sku_unavailable", "out_of_stock", "undeliverable"})
NUMBER_ATTEMPTS = 5


@dataclass(frozen=True)
class CheckoutLine:
    sku_id: int
    quantity: int
    addon_campaign_id: int | None = None


def order_number_new(*, now: datetime) -> str:
    """``YYYYMMDD`` (UTC+8 business day) + 10 random digits; uniqueness is the DB's job."""
    day = timezone.localtime(now).strftime("%Y%m%d")
    return f"{day}{secrets.randbelow(10**10):010d}"


def _problem(code: str, message: Any, **refs: Any) -> dict[str, Any]:
    # The message in the active language, as a plain string (details are rendered as JSON).
    text = render_message(message)
    return {"code": code, "message": text, **{k: v for k, v in refs.items() if v is not None}}


def _fail(problems: list[dict[str, Any]]) -> ApplicationError:
    codes = {p["code"] for p in problems}
    code = next(iter(codes)) if len(codes) == 1 else OrderErrorCode.CHECKOUT_FAILED
    # Problems of the current state (stock, coupons, prices, budgets, points): a conflict.
    kind = (
        ConflictError
        if codes
        <= {
            "out_of_stock",
            "coupon_unavailable",
            "price_changed",
            "campaign_budget_exhausted",
            "flash_sale_sold_out",
            "insufficient_points",
        }
        else ApplicationError
    )
    message = problems[0]["message"] if len(problems) == 1 else _("The order cannot be placed.")
    return kind(code, message, details={"problems": problems})


def haversine_km(lat1: Decimal, lng1: Decimal, lat2: Decimal, lng2: Decimal) -> Decimal:
    """Great-circle distance in km (2 places)."""
    p1, p2 = math.radians(float(lat1)), math.radians(float(lat2))
    dp, dl = p2 - p1, math.radians(float(lng2) - float(lng1))
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return Decimal(str(round(2 * 6371.0088 * math.asin(math.sqrt(a)), 2)))


def same_city_fee(*, store: Store, address: Address) -> tuple[Decimal, Decimal]:
    """(distance km, fee) of delivering from ``store`` to ``address`` by the store's bands."""
    if address.latitude is None or address.longitude is None:
        raise ApplicationError(
            OrderErrorCode.OUT_OF_DELIVERY_RANGE,
            _("This address has no location; same-city delivery needs one."),
        )
    distance = haversine_km(store.latitude, store.longitude, address.latitude, address.longitude)
    bands = sorted(store.same_city_bands or [], key=lambda b: Decimal(str(b["max_km"])))
    for band in bands:
        if distance <= Decimal(str(band["max_km"])):
            return distance, Decimal(str(band["fee"])).quantize(Decimal("0.01"))
    raise ApplicationError(
        OrderErrorCode.OUT_OF_DELIVERY_RANGE,
        _("This address is beyond the store's delivery range."),
        details={"distance_km": str(distance), "store_id": store.pk},
    )


def _address(tenant: Tenant, member: Member, address_id: int | None) -> Address | None:
    if not address_id:
        return None
    address = address_of_member(tenant=tenant, member=member, address_id=address_id)
    if address is None:
        raise NotFoundError(_("Address not found."), code=OrderErrorCode.ADDRESS_NOT_FOUND)
    return address


def _store(tenant: Tenant, store_id: int | None, *, pickup: bool) -> Store:
    if not store_id:
        raise ApplicationError(OrderErrorCode.STORE_REQUIRED, _("Choose a store."))
    qs = Store.objects.for_tenant(tenant).filter(pk=store_id, is_active=True)
    qs = qs.filter(pickup_enabled=True) if pickup else qs.filter(same_city_enabled=True)
    store = qs.first()
    if store is None:
        raise NotFoundError(_("Store not found."), code=OrderErrorCode.STORE_NOT_FOUND)
    return store


def _address_snapshot(address: Address) -> dict[str, Any]:
    return {
        "id": address.pk,
        "name": address.name,
        "phone": address.phone,
        "province": address.province,
        "city": address.city,
        "district": address.district,
        "detail": address.detail,
        "province_code": address.province_code,
        "city_code": address.city_code,
        "district_code": address.district_code,
        "postal_code": address.postal_code,
        "latitude": None if address.latitude is None else str(address.latitude),
        "longitude": None if address.longitude is None else str(address.longitude),
    }


def _store_snapshot(store: Store) -> dict[str, Any]:
    return {
        "id": store.pk,
        "name": store.name,
        "phone": store.phone,
        "address": store.full_address,
        "hours": store.hours,
        "latitude": str(store.latitude),
        "longitude": str(store.longitude),
    }


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def order_place(
    *,
    tenant: Tenant,
    member: Member,
    channel: Channel | None,
    lines: Sequence[CheckoutLine],
    coupon_ids: Sequence[int] = (),
    use_points: int = 0,
    fulfillment: str = Fulfillment.EXPRESS,
    address_id: int | None = None,
    store_id: int | None = None,
    remark: str = "",
    expected_payable: Decimal | None = None,
    from_cart: bool = False,
    now: datetime | None = None,
) -> Order:
    """Place an order ``pending_payment`` (all or nothing); 409/422 name every problem."""
    now = now or timezone.now()
    platform = channel.platform if channel is not None else ""
    if not lines:
        raise InvalidInputError(OrderErrorCode.INVALID_LINES, _("The order has no lines."))
    address = _address(tenant, member, address_id)
    store: Store | None = None
    distance: Decimal | None = None
    same_city: Decimal | None = None
    if fulfillment == Fulfillment.PICKUP:
        store = _store(tenant, store_id, pickup=True)
        address = None
    else:
        if address is None:
            raise ApplicationError(OrderErrorCode.ADDRESS_REQUIRED, _("Choose a delivery address."))
        if fulfillment == Fulfillment.SAME_CITY:
            store = _store(tenant, store_id, pickup=False)
            distance, same_city = same_city_fee(store=store, address=address)

    loaded = quote_inputs_load(
        tenant=tenant,
        member=member,
        platform=platform or "wechat",
        lines=[CartLine(line.sku_id, line.quantity, line.addon_campaign_id) for line in lines],
        coupon_ids=coupon_ids,
        points_to_use=use_points,
        fulfillment=fulfillment,
        address=address if fulfillment == Fulfillment.EXPRESS else None,
        now=now,
    )
    inputs = loaded.inputs
    if same_city is not None:
        inputs = replace(inputs, shipping=ShippingInput(fee=same_city))
    result = quote(inputs)

    problems: list[dict[str, Any]] = []
    wanted_coupons = set(coupon_ids)
    for p in (*loaded.problems, *result.problems):
        if p.code in FATAL_PROBLEMS or (p.coupon_id is not None and p.coupon_id in wanted_coupons):
            problems.append(
                _problem(
                    p.code,
                    p.message,
                    sku_id=p.sku_id,
                    coupon_id=p.coupon_id,
                    campaign_id=p.campaign_id,
                )
            )
    reported = {p.get("coupon_id") for p in problems}
    for coupon_id in sorted(wanted_coupons - set(result.used_coupon_ids) - reported):
        problems.append(
            _problem(
                "coupon_not_usable",
                _("This coupon cannot be used on this order."),
                coupon_id=coupon_id,
            )
        )
    if use_points > member.points:
        problems.append(
            _problem(
                OrderErrorCode.INSUFFICIENT_POINTS,
                _("Not enough points."),
                requested=use_points,
                available=member.points,
            )
        )
    if expected_payable is not None and expected_payable != result.payable:
        problems.append(
            _problem(
                OrderErrorCode.PRICE_CHANGED,
                _("The price changed; please review it."),
                expected=str(expected_payable),
                payable=str(result.payable),
            )
        )
    if problems:
        raise _fail(problems)

    try:
        return _write(
            tenant=tenant,
            member=member,
            channel=channel,
            platform=platform,
            loaded=loaded,
            result=result,
            fulfillment=fulfillment,
            address=address,
            store=store,
            distance=distance,
            remark=remark,
            from_cart=from_cart,
            now=now,
        )
    except ApplicationError as exc:
        if exc.code != CatalogErrorCode.OUT_OF_STOCK:
            raise
        # A concurrent buyer took the stock between the quote and the reservation: the
        # reservation (read under the row locks, then rolled back with the transaction)
        # names every SKU that is short.
        raise _fail(_stock_problems(exc.details)) from None


def _stock_problems(details: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        _problem(
            "out_of_stock",
            _("Only %(available)s left in stock.") % {"available": short["available"]},
            sku_id=short["sku_id"],
            requested=short["requested"],
            available=short["available"],
        )
        for short in details.get("skus") or [details]
    ]


def _write(
    *,
    tenant: Tenant,
    member: Member,
    channel: Channel | None,
    platform: str,
    loaded: Any,
    result: Any,
    fulfillment: str,
    address: Address | None,
    store: Store | None,
    distance: Decimal | None,
    remark: str,
    from_cart: bool,
    now: datetime,
) -> Order:
    # Read outside the transaction (shorter row locks); a number collision retries below.
    fields = _order_fields(
        tenant=tenant,
        member=member,
        channel=channel,
        platform=platform,
        result=result,
        fulfillment=fulfillment,
        address=address,
        store=store,
        distance=distance,
        remark=remark,
        now=now,
    )
    for attempt in range(NUMBER_ATTEMPTS):
        try:
            return _write_once(
                tenant=tenant,
                member=member,
                platform=platform,
                skus=loaded.skus,
                result=result,
                fields=fields,
                from_cart=from_cart,
                now=now,
            )
        except _NumberTaken as taken:
            if attempt == NUMBER_ATTEMPTS - 1:
                raise taken.__cause__ from None  # type: ignore[misc]
    raise AssertionError("unreachable")


class _NumberTaken(Exception):
    """The order INSERT (the transaction's first write) hit a unique violation: the random
    number is taken. The transaction is rolled back and placed again with a new number."""


def _write_once(
    *,
    tenant: Tenant,
    member: Member,
    platform: str,
    skus: dict[int, Any],
    result: Any,
    fields: dict[str, Any],
    from_cart: bool,
    now: datetime,
) -> Order:
    with transaction.atomic():
        # First write, so a number collision costs nothing but a retry (no savepoint needed).
        try:
            order = Order.objects.create(number=order_number_new(now=now), **fields)
        except IntegrityError as exc:
            raise _NumberTaken from exc
        reserve: dict[int, int] = {}
        for line in result.lines:
            reserve[line.sku_id] = reserve.get(line.sku_id, 0) + line.quantity
        gifts = list(result.gifts)
        for gift in gifts:
            reserve[gift.sku_id] = reserve.get(gift.sku_id, 0) + gift.quantity
        stock_reserve(tenant=tenant, lines=reserve, reference=order.number)
        if result.used_coupon_ids:
            coupon_lock(
                tenant=tenant,
                member=member,
                coupon_ids=result.used_coupon_ids,
                order_reference=order.number,
                now=now,
            )
        if result.points_used:
            # FIFO from the member's lots under the member's row lock (members.points).
            try:
                points_spend(
                    tenant=tenant,
                    member_id=member.pk,
                    points=result.points_used,
                    order_number=order.number,
                    actor=actor_member(member),
                    now=now,
                )
            except ConflictError as exc:
                raise _fail(
                    [_problem(OrderErrorCode.INSUFFICIENT_POINTS, _("Not enough points."))]
                ) from exc
            PointsUse.objects.create(
                tenant=tenant, order=order, member=member, points=result.points_used
            )
        if result.campaign_discounts:
            campaign_discounts_consume(tenant=tenant, discounts=result.campaign_discounts)
        order_lines = []
        for line in result.lines:
            sku = skus[line.sku_id]
            for adj in line.breakdown:
                if adj.source == "item" and adj.kind == ITEM_FLASH and adj.ref_id is not None:
                    flash_sale_consume(
                        tenant=tenant,
                        campaign_id=adj.ref_id,
                        sku_id=line.sku_id,
                        quantity=line.quantity,
                    )
            order_lines.append(_line(order, sku, line))
        missing = {g.sku_id for g in gifts} - set(skus)
        if missing:
            skus = {**skus, **_skus(tenant, missing)}
        extra_lines = [_gift_line(order, skus[g.sku_id], g) for g in gifts]
        OrderLine.objects.bulk_create(order_lines + extra_lines)
        created_event = order_event_add(
            order=order,
            kind="status",
            actor=actor_member(member),
            to_status=order.status,
            data={"payable": str(order.payable)},
        )
        event_record(
            tenant=tenant,
            name=EventName.ORDER_CREATED,
            subject=f"order:{order.number}",
            payload={
                "number": order.number,
                "member_id": member.pk,
                "payable": str(order.payable),
                "platform": platform,
            },
        )
        if from_cart:
            CartItem.objects.for_tenant(tenant).filter(
                cart__member=member, sku_id__in=sorted(reserve)
            ).delete()
    # What was just written, so the caller can answer without reading it back.
    order.created_lines = order_lines + extra_lines
    order.created_events = [created_event]
    return order


def _order_fields(
    *,
    tenant: Tenant,
    member: Member,
    channel: Channel | None,
    platform: str,
    result: Any,
    fulfillment: str,
    address: Address | None,
    store: Store | None,
    distance: Decimal | None,
    remark: str,
    now: datetime,
) -> dict[str, Any]:
    return {
        "tenant": tenant,
        "member": member,
        "channel": channel,
        "platform": platform,
        "fulfillment": fulfillment,
        "subtotal": result.subtotal,
        "discount_total": result.discount_total,
        "shipping_fee": result.shipping_fee,
        "points_used": result.points_used,
        "points_deduction": result.points_deduction,
        "payable": result.payable,
        "promotions": _plain([asdict(p) for p in result.promotions]),
        "gifts": _plain([asdict(g) for g in result.gifts]),
        "coupon_ids": list(result.used_coupon_ids),
        "campaign_discounts": [[cid, str(amount)] for cid, amount in result.campaign_discounts],
        "address": _address_snapshot(address) if address is not None else {},
        "store": store,
        "store_snapshot": _store_snapshot(store) if store is not None else {},
        "distance_km": distance,
        "distribution": attribution_snapshot(tenant=tenant, member=member),
        "remark": remark[:200],
        "expires_at": order_expiry(tenant=tenant, now=now),
    }


def _line(order: Order, sku: Any, line: Any) -> OrderLine:
    product = sku.product
    return OrderLine(
        tenant_id=order.tenant_id,
        order=order,
        sku_id=sku.pk,
        product_id=sku.product_id,
        sku_code=sku.code,
        title=product.title,
        specs=sku.specs,
        spec_label=sku.specs_label if sku.specs else "",
        image=product.main_image,
        unit_price=line.unit_price,
        item_price=line.item_price,
        quantity=line.quantity,
        subtotal=line.subtotal,
        discount=line.discount,
        points_deduction=line.points_deduction,
        shipping_fee=line.shipping_fee,
        payable=line.payable,
        breakdown=_plain([asdict(a) for a in line.breakdown]),
    )


def _skus(tenant: Tenant, ids: set[int]) -> dict[int, Any]:
    return skus_for_pricing(tenant_id=tenant.pk, sku_ids=ids)[0]


def _gift_line(order: Order, sku: Any, gift: Any) -> OrderLine:
    return OrderLine(
        tenant_id=order.tenant_id,
        order=order,
        sku_id=sku.pk,
        product_id=sku.product_id,
        sku_code=sku.code,
        title=sku.product.title,
        specs=sku.specs,
        spec_label=sku.specs_label if sku.specs else "",
        image=sku.product.main_image,
        is_gift=True,
        unit_price=sku.price,
        item_price=Decimal("0.00"),
        quantity=gift.quantity,
        subtotal=Decimal("0.00"),
        discount=Decimal("0.00"),
        payable=Decimal("0.00"),
        breakdown=[{"source": "campaign", "kind": "gift", "ref_id": gift.campaign_id}],
    )
