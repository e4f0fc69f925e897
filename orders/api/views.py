"""Shopper API of orders: cart, place order, my orders, buyer actions, after-sales, stores."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from mall.api.errors import ApplicationError, ErrorCode, NotFoundError
from mall.api.idempotency import idempotent
from mall.api.pagination import PageNumberPagination
from mall.api.views import MemberAPIView, ShopperAPIView
from mall.http import TenantRequest
from orders import selectors, services
from orders.api.serializers import (
    AfterSaleCreateSerializer,
    AfterSaleOutSerializer,
    CartItemAddSerializer,
    CartItemUpdateSerializer,
    CartOutSerializer,
    OrderCreateSerializer,
    OrderDetailSerializer,
    OrderListSerializer,
    OrderStatusFilterSerializer,
    ReturnShipSerializer,
    StoreOutSerializer,
    order_create_validate,
    order_detail_for_buyer,
)
from orders.errors import OrderErrorCode
from orders.models import CartItem, Order
from orders.services.common import actor_member

ERRORS = {
    400: OpenApiResponse(description="Invalid input (error shape)"),
    401: OpenApiResponse(description="Missing, invalid, expired or foreign token"),
    404: OpenApiResponse(description="Not found or another shop's (error shape)"),
    409: OpenApiResponse(description="Conflict: state or stock (error shape)"),
    422: OpenApiResponse(description="Business rule (error shape)"),
}
IDEMPOTENCY_HEADER = OpenApiParameter(
    name="Idempotency-Key", type=str, location=OpenApiParameter.HEADER, required=False
)
IN_PROGRESS_WAIT_SECONDS = 10.0


def idempotent_waiting(view_method: Callable[..., Response]) -> Callable[..., Response]:
    """``@idempotent``, but a repeat that arrives while the first request is still running
    waits for its answer (bounded) instead of failing, so every repeat gets the same answer."""
    wrapped = idempotent(view_method)

    @functools.wraps(view_method)
    def wrapper(self: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        deadline = time.monotonic() + IN_PROGRESS_WAIT_SECONDS
        delay = 0.02
        while True:
            try:
                return wrapped(self, request, *args, **kwargs)
            except ApplicationError as exc:
                if exc.code != ErrorCode.IDEMPOTENCY_IN_PROGRESS or time.monotonic() > deadline:
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 0.2)

    wrapper.idempotent = True  # type: ignore[attr-defined]
    return wrapper


def _paginate(view: Any, request: Request, items: Any, serializer: Any, context: dict) -> Response:
    paginator = PageNumberPagination()
    page = paginator.paginate_queryset(items, request, view=view)
    return paginator.get_paginated_response(serializer(page, many=True, context=context).data)


def _cart_payload(rows: list[selectors.CartRow]) -> dict[str, Any]:
    chosen = [r for r in rows if r.item.selected and r.available]
    return {
        "items": rows,
        "selected_count": sum(r.item.quantity for r in chosen),
        "selected_subtotal": sum((r.sku.price * r.item.quantity for r in chosen), Decimal("0")),
    }


class CartView(MemberAPIView):
    @extend_schema(
        operation_id="cart_get",
        summary="My cart (shared by all my platforms)",
        description="Each item says whether it can be bought now; an item whose SKU went off "
        "shelf or out of stock stays in the cart with `available: false` and `problem`.",
        responses={200: CartOutSerializer, **ERRORS},
    )
    def get(self, request: TenantRequest) -> Response:
        rows = selectors.cart_rows(
            tenant=self.tenant, member=self.member, platform=request.channel.platform
        )
        return Response(CartOutSerializer(_cart_payload(rows)).data)


class CartItemsView(MemberAPIView):
    @extend_schema(
        operation_id="cart_item_add",
        summary="Add a SKU to my cart (merged with the same SKU)",
        request=CartItemAddSerializer,
        responses={201: CartOutSerializer, **ERRORS},
    )
    def post(self, request: TenantRequest) -> Response:
        data = CartItemAddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.cart_item_add(tenant=self.tenant, member=self.member, **data.validated_data)
        rows = selectors.cart_rows(
            tenant=self.tenant, member=self.member, platform=request.channel.platform
        )
        return Response(CartOutSerializer(_cart_payload(rows)).data, status=201)


class CartItemView(MemberAPIView):
    @extend_schema(
        operation_id="cart_item_update",
        summary="Change quantity or selection of a cart item",
        request=CartItemUpdateSerializer,
        responses={200: CartOutSerializer, **ERRORS},
    )
    def patch(self, request: TenantRequest, item_id: int) -> Response:
        data = CartItemUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.cart_item_update(
            tenant=self.tenant, member=self.member, item_id=item_id, **data.validated_data
        )
        rows = selectors.cart_rows(
            tenant=self.tenant, member=self.member, platform=request.channel.platform
        )
        return Response(CartOutSerializer(_cart_payload(rows)).data)

    @extend_schema(
        operation_id="cart_item_remove", summary="Remove a cart item", responses={204: None}
    )
    def delete(self, request: Request, item_id: int) -> Response:
        services.cart_item_remove(tenant=self.tenant, member=self.member, item_id=item_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class OrderListCreateView(MemberAPIView):
    @extend_schema(
        operation_id="order_list",
        summary="My orders (from every platform)",
        parameters=[OrderStatusFilterSerializer],
        responses={200: OrderListSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        query = OrderStatusFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        orders = selectors.order_list_for_member(
            tenant=self.tenant, member=self.member, status=query.validated_data.get("status")
        )
        return _paginate(self, request, orders, OrderListSerializer, {})

    @extend_schema(
        operation_id="order_create",
        summary="Place an order (same body as the quote)",
        description="Re-prices with the engine and, in one transaction, reserves stock, locks "
        "the coupons, takes the points and writes the order `pending_payment`. Accepts "
        "`Idempotency-Key` (repeats answer the first answer). `from_cart: true` orders the "
        "selected cart items. Fails with 409 (`out_of_stock`, `coupon_unavailable`, "
        "`price_changed` when `expected_payable` differs, `campaign_budget_exhausted`) or "
        "422 (`sku_unavailable`, `coupon_not_usable`, `undeliverable`, `address_required`...) "
        "naming every problem in `details.problems[]`; nothing is left behind.",
        parameters=[IDEMPOTENCY_HEADER],
        request=OrderCreateSerializer,
        responses={201: OrderDetailSerializer, **ERRORS},
    )
    @idempotent_waiting
    def post(self, request: TenantRequest) -> Response:
        body = order_create_validate(request.data)
        lines = [
            services.CheckoutLine(
                sku_id=x["sku_id"],
                quantity=x["quantity"],
                addon_campaign_id=x.get("addon_campaign_id"),
            )
            for x in body.get("lines") or []
        ]
        if body["from_cart"] and not lines:
            lines = [
                services.CheckoutLine(sku_id=sku_id, quantity=qty)
                for sku_id, qty in CartItem.objects.for_tenant(self.tenant)
                .filter(cart__member=self.member, selected=True)
                .order_by("id")
                .values_list("sku_id", "quantity")
            ]
            if not lines:
                raise ApplicationError(
                    OrderErrorCode.INVALID_LINES, _("No items are selected in the cart.")
                )
        order = services.order_place(
            tenant=self.tenant,
            member=self.member,
            channel=request.channel,
            lines=lines,
            coupon_ids=body["coupon_ids"],
            use_points=body["use_points"],
            fulfillment=body["fulfillment"],
            address_id=body.get("address_id"),
            store_id=body.get("store_id"),
            remark=body["remark"],
            expected_payable=body.get("expected_payable"),
            from_cart=body["from_cart"],
        )
        # Answer from what checkout just wrote (no second read of the new order).
        order._prefetched_objects_cache = {  # type: ignore[attr-defined]
            "lines": order.created_lines,  # type: ignore[attr-defined]  # set by order_place
            "events": order.created_events,  # type: ignore[attr-defined]  # set by order_place
            "shipments": [],
            "after_sales": [],
        }
        return Response(order_detail_for_buyer(order), status=201)


class OrderDetailView(MemberAPIView):
    @extend_schema(
        operation_id="order_detail",
        summary="One of my orders, with shipments, tracking and timeline",
        responses={200: OrderDetailSerializer, **ERRORS},
    )
    def get(self, request: Request, number: str) -> Response:
        order = selectors.order_get_for_member(
            tenant=self.tenant, member=self.member, number=number
        )
        return Response(order_detail_for_buyer(order))


def _mine(view: MemberAPIView, number: str) -> Order:
    order = Order.objects.for_tenant(view.tenant).filter(number=number, member=view.member).first()
    if order is None:
        raise NotFoundError(_("Order not found."), code=OrderErrorCode.ORDER_NOT_FOUND)
    return order


def _detail(view: MemberAPIView, number: str) -> Response:
    order = selectors.order_get_for_member(tenant=view.tenant, member=view.member, number=number)
    return Response(order_detail_for_buyer(order))


class OrderCancelView(MemberAPIView):
    @extend_schema(
        operation_id="order_cancel",
        summary="Cancel my unpaid order",
        description="Only `pending_payment` orders; stock, coupons and points come back once. "
        "Cancelling twice is a no-op; any other status answers 409 `invalid_transition`.",
        request=None,
        responses={200: OrderDetailSerializer, **ERRORS},
    )
    def post(self, request: Request, number: str) -> Response:
        order = _mine(self, number)
        services.order_cancel(
            tenant=self.tenant,
            order=order,
            actor=actor_member(self.member),
            reason=str(request.data.get("reason", "") if hasattr(request.data, "get") else "")
            or "cancelled by buyer",
        )
        return _detail(self, number)


class OrderConfirmReceiptView(MemberAPIView):
    @extend_schema(
        operation_id="order_confirm_receipt",
        summary="Confirm I received my order",
        request=None,
        responses={200: OrderDetailSerializer, **ERRORS},
    )
    def post(self, request: Request, number: str) -> Response:
        order = _mine(self, number)
        services.order_confirm_receipt(
            tenant=self.tenant, order=order, actor=actor_member(self.member)
        )
        return _detail(self, number)


class OrderAfterSaleCreateView(MemberAPIView):
    @extend_schema(
        operation_id="after_sale_create",
        summary="Ask for a refund or a return and refund",
        description="`lines` empty: everything still refundable. `amount` defaults to the "
        "most that can be refunded (see docs/orders.md); more answers 422 "
        "`refund_exceeds_paid`. Accepts `Idempotency-Key`.",
        parameters=[IDEMPOTENCY_HEADER],
        request=AfterSaleCreateSerializer,
        responses={201: AfterSaleOutSerializer, **ERRORS},
    )
    @idempotent
    def post(self, request: Request, number: str) -> Response:
        data = AfterSaleCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        body = data.validated_data
        order = _mine(self, number)
        after_sale = services.after_sale_request(
            tenant=self.tenant,
            member=self.member,
            order=order,
            type=body["type"],
            reason=body["reason"],
            lines=[services.AfterSaleLineInput(x["line_id"], x["quantity"]) for x in body["lines"]],
            amount=body.get("amount"),
            actor=actor_member(self.member),
        )
        after_sale = selectors.after_sale_get(tenant=self.tenant, after_sale_id=after_sale.pk)
        return Response(AfterSaleOutSerializer(after_sale).data, status=201)


class AfterSaleDetailView(MemberAPIView):
    @extend_schema(
        operation_id="after_sale_detail",
        summary="One of my after-sale requests",
        responses={200: AfterSaleOutSerializer, **ERRORS},
    )
    def get(self, request: Request, after_sale_id: int) -> Response:
        after_sale = selectors.after_sale_get(
            tenant=self.tenant, after_sale_id=after_sale_id, member=self.member
        )
        return Response(AfterSaleOutSerializer(after_sale).data)


class AfterSaleReturnView(MemberAPIView):
    @extend_schema(
        operation_id="after_sale_return_ship",
        summary="I sent the goods back (carrier and tracking number)",
        request=ReturnShipSerializer,
        responses={200: AfterSaleOutSerializer, **ERRORS},
    )
    def post(self, request: Request, after_sale_id: int) -> Response:
        data = ReturnShipSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        after_sale = selectors.after_sale_get(
            tenant=self.tenant, after_sale_id=after_sale_id, member=self.member
        )
        services.after_sale_return_ship(
            tenant=self.tenant,
            after_sale=after_sale,
            actor=actor_member(self.member),
            **data.validated_data,
        )
        after_sale = selectors.after_sale_get(tenant=self.tenant, after_sale_id=after_sale_id)
        return Response(AfterSaleOutSerializer(after_sale).data)


class AfterSaleCancelView(MemberAPIView):
    @extend_schema(
        operation_id="after_sale_cancel",
        summary="Withdraw my after-sale request",
        request=None,
        responses={200: AfterSaleOutSerializer, **ERRORS},
    )
    def post(self, request: Request, after_sale_id: int) -> Response:
        after_sale = selectors.after_sale_get(
            tenant=self.tenant, after_sale_id=after_sale_id, member=self.member
        )
        services.after_sale_cancel(
            tenant=self.tenant, after_sale=after_sale, actor=actor_member(self.member)
        )
        after_sale = selectors.after_sale_get(tenant=self.tenant, after_sale_id=after_sale_id)
        return Response(AfterSaleOutSerializer(after_sale).data)


class StoreListView(ShopperAPIView):
    @extend_schema(
        operation_id="store_list",
        summary="The shop's stores (pickup points, same-city origins)",
        responses={200: StoreOutSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        stores = selectors.stores_for_pickup(tenant=self.tenant)
        return _paginate(self, request, stores, StoreOutSerializer, {})
