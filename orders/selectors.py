"""Read paths of orders: carts with availability flags, order lists and details."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Exists, F, Max, OuterRef, Prefetch, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from catalog.models import PLATFORM_FIELDS, Product, Sku
from mall.errors import NotFoundError
from mall.tenancy.models import Tenant
from members.models import Member
from orders.errors import OrderErrorCode
from orders.models import AfterSale, CartItem, Order, OrderLine, Shipment, Store


@dataclass(frozen=True)
class CartRow:
    item: CartItem
    sku: Sku
    available: bool
    problem: str  # "" / off_shelf / out_of_stock / insufficient_stock


def cart_rows(*, tenant: Tenant, member: Member, platform: str) -> list[CartRow]:
    """The member's cart lines with a flag for each SKU that went off shelf or out of stock
    (flagged, never silently dropped). Two queries."""
    items = list(
        CartItem.objects.for_tenant(tenant)
        .filter(cart__member=member)
        .select_related("sku", "sku__product")
        .order_by("-id")
    )
    field = PLATFORM_FIELDS.get(platform)
    rows = []
    for item in items:
        sku = item.sku
        product = sku.product
        if (
            not sku.is_active
            or product.status != Product.Status.ON_SALE
            or (field is not None and not getattr(product, field))
        ):
            problem = "off_shelf"
        elif sku.stock <= 0:
            problem = "out_of_stock"
        elif sku.stock < item.quantity:
            problem = "insufficient_stock"
        else:
            problem = ""
        rows.append(CartRow(item=item, sku=sku, available=not problem, problem=problem))
    return rows


def _with_lines(qs: QuerySet[Order]) -> QuerySet[Order]:
    return qs.prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("id")),
    )


def order_list_for_member(
    *, tenant: Tenant, member: Member, status: str | None = None
) -> QuerySet[Order]:
    """The member's orders from every platform, newest first."""
    qs = Order.objects.for_tenant(tenant).filter(member=member)
    if status:
        qs = qs.filter(status=status)
    return _with_lines(qs.order_by("-id"))


def _detail_qs(tenant: Tenant) -> QuerySet[Order]:
    return _with_lines(Order.objects.for_tenant(tenant)).prefetch_related(
        Prefetch("shipments", queryset=Shipment.objects.prefetch_related("lines")),
        "events",
        Prefetch("after_sales", queryset=AfterSale.objects.order_by("-id")),
    )


def order_get_for_member(*, tenant: Tenant, member: Member, number: str) -> Order:
    order = _detail_qs(tenant).filter(member=member, number=number).first()
    if order is None:
        raise NotFoundError(_("Order not found."), code=OrderErrorCode.ORDER_NOT_FOUND)
    return order


def order_get(*, tenant: Tenant, number: str) -> Order:
    order = _detail_qs(tenant).filter(number=number).first()
    if order is None:
        raise NotFoundError(_("Order not found."), code=OrderErrorCode.ORDER_NOT_FOUND)
    return order


def order_list_for_merchant(
    *, tenant: Tenant, status: str | None = None, updated_since: datetime | None = None
) -> QuerySet[Order]:
    """Open API sync: oldest change first, so a client can page forward by updated_at."""
    qs = Order.objects.for_tenant(tenant)
    if status:
        qs = qs.filter(status=status)
    if updated_since is not None:
        qs = qs.filter(updated_at__gte=updated_since)
    return _with_lines(qs.order_by("updated_at", "id"))


def after_sale_get(
    *, tenant: Tenant, after_sale_id: int, member: Member | None = None
) -> AfterSale:
    qs = (
        AfterSale.objects.for_tenant(tenant)
        .select_related("order")
        .prefetch_related("lines", "events")
    )
    if member is not None:
        qs = qs.filter(member=member)
    after_sale = qs.filter(pk=after_sale_id).first()
    if after_sale is None:
        raise NotFoundError(_("After-sale not found."), code=OrderErrorCode.AFTER_SALE_NOT_FOUND)
    return after_sale


def stores_for_pickup(*, tenant: Tenant) -> QuerySet[Store]:
    return Store.objects.for_tenant(tenant).filter(is_active=True).order_by("id")


def orders_created_between(*, tenant: Tenant, start: datetime, end: datetime) -> int:
    return (
        Order.objects.for_tenant(tenant).filter(created_at__gte=start, created_at__lt=end).count()
    )


def orders_counter(tenant: Tenant, start: datetime, end: datetime) -> int:
    """Dashboard counter: orders placed today (tenant's day)."""
    return orders_created_between(tenant=tenant, start=start, end=end)


def order_export_rows(orders: QuerySet[Order]) -> list[list[Any]]:
    header = [
        "number",
        "status",
        "member_id",
        "platform",
        "fulfillment",
        "subtotal",
        "discount_total",
        "shipping_fee",
        "points_deduction",
        "payable",
        "paid_amount",
        "refunded_amount",
        "receiver",
        "phone",
        "address",
        "created_at",
        "paid_at",
        "lines",
    ]
    rows: list[list[Any]] = [header]
    for o in orders.prefetch_related("lines"):
        a = o.address or {}
        rows.append(
            [
                o.number,
                o.status,
                o.member_id,
                o.platform,
                o.fulfillment,
                o.subtotal,
                o.discount_total,
                o.shipping_fee,
                o.points_deduction,
                o.payable,
                o.paid_amount,
                o.refunded_amount,
                a.get("name", ""),
                a.get("phone", ""),
                "".join(str(a.get(k, "")) for k in ("province", "city", "district", "detail")),
                o.created_at.replace(tzinfo=None) if o.created_at else None,
                o.paid_at.replace(tzinfo=None) if o.paid_at else None,
                "; ".join(
                    f"{line.title} {line.spec_label} x{line.quantity}".strip()
                    for line in o.lines.all()
                ),
            ]
        )
    return rows


# --- Console status tabs ----------------------------------------------------------------------

S = Order.Status
_OPEN_AFTER_SALE: Q | Exists = Exists(
    AfterSale.objects.filter(order=OuterRef("pk"), status__in=AfterSale.OPEN_STATUSES)
)


@dataclass(frozen=True)
class OrderTab:
    key: str
    label: Any  # lazy translation


# The console's order tabs. "To ship" counts paid orders of every fulfilment (store pickup
# orders wait there for their pickup code); "Shipped" includes orders the buyer received but
# that are not completed yet; "In after-sale" is every order with an open after-sale request.
ORDER_TABS: tuple[OrderTab, ...] = (
    OrderTab("pending_payment", _("Pending payment")),
    OrderTab("to_ship", _("To ship")),
    OrderTab("shipped", _("Shipped")),
    OrderTab("completed", _("Completed")),
    OrderTab("cancelled", _("Cancelled")),
    OrderTab("after_sale", _("In after-sale")),
)


def order_tab_condition(key: str) -> Q | Exists:
    """The filter of one tab (``KeyError`` for an unknown key)."""
    return {
        "pending_payment": Q(status=S.PENDING_PAYMENT),
        "to_ship": Q(status__in=(S.PAID, S.PARTIALLY_SHIPPED)),
        "shipped": Q(status__in=(S.SHIPPED, S.RECEIVED)),
        "completed": Q(status=S.COMPLETED),
        "cancelled": Q(status=S.CANCELLED),
        "after_sale": _OPEN_AFTER_SALE,
    }[key]


def order_tab_filter(qs: QuerySet[Order], key: str) -> QuerySet[Order]:
    return qs.filter(order_tab_condition(key))


def order_tab_counts(*, tenant: Tenant) -> dict[str, int]:
    """Tab key -> number of the tenant's orders in it, plus ``all``. One query."""
    aggregates: dict[str, Any] = {"all": Count("pk")}
    for tab in ORDER_TABS:
        condition = order_tab_condition(tab.key)
        aggregates[tab.key] = Count(
            "pk", filter=condition if isinstance(condition, Q) else Q(condition)
        )
    return Order.objects.for_tenant(tenant).aggregate(**aggregates)


def paid_orders_for_rfm(tenant_id: int) -> QuerySet[Any]:
    """The tenant's paid orders as ``member_id``, ``paid_at``, ``amount`` (paid minus refunded;
    wholly refunded orders left out): the source of the members' nightly RFM rows
    (``members.segments.hooks.register_paid_orders``)."""
    return (
        Order.objects.for_tenant(tenant_id)
        .filter(paid_at__isnull=False)
        .exclude(status=Order.Status.REFUNDED)
        .annotate(amount=F("paid_amount") - F("refunded_amount"))
        .values("member_id", "paid_at", "amount")
    )


def carts_left_since(tenant_id: int, before: datetime) -> QuerySet[Any]:
    """Carts with items whose last change is at or before ``before``: ``member_id`` and
    ``left_at`` (that last change). The members' automation trigger "cart left for N hours"
    (``members.automation.hooks.register_trigger_source``)."""
    return (
        CartItem.objects.for_tenant(tenant_id)
        .values("cart__member_id")
        .annotate(member_id=F("cart__member_id"), left_at=Max("updated_at"))
        .filter(left_at__lte=before)
        .values("member_id", "left_at")
    )
