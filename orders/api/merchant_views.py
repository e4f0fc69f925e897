"""Merchant open API of orders (scope ``orders``): sync, ship, after-sale handling."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from mall.api.errors import NotFoundError
from mall.api.idempotency import idempotent
from mall.api.pagination import PageNumberPagination
from mall.api.views import MerchantAPIView
from mall.http import TenantRequest
from orders import selectors, services
from orders.api.serializers import (
    AbortRefundSerializer,
    AfterSaleOutSerializer,
    ApproveSerializer,
    MerchantOrderFilterSerializer,
    MerchantOrderSerializer,
    ReceiveReturnSerializer,
    RejectSerializer,
    ShipmentOutSerializer,
    ShipSerializer,
)
from orders.api.views import ERRORS, IDEMPOTENCY_HEADER
from orders.errors import OrderErrorCode
from orders.models import Order
from orders.services.common import actor_api_key


def _order(tenant: Any, number: str) -> Order:
    order = Order.objects.for_tenant(tenant).filter(number=number).first()
    if order is None:
        raise NotFoundError(_("Order not found."), code=OrderErrorCode.ORDER_NOT_FOUND)
    return order


class MerchantOrderListView(MerchantAPIView):
    required_scope = "orders"

    @extend_schema(
        operation_id="merchant_order_list",
        summary="Orders for sync (oldest change first)",
        description="`updated_since` (ISO 8601): orders changed at or after it; page forward "
        "and remember the last `updated_at`.",
        parameters=[MerchantOrderFilterSerializer],
        responses={200: MerchantOrderSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        query = MerchantOrderFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        orders = selectors.order_list_for_merchant(
            tenant=self.tenant,
            status=query.validated_data.get("status"),
            updated_since=query.validated_data.get("updated_since"),
        ).prefetch_related("shipments__lines", "events", "after_sales")
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(orders, request, view=self)
        return paginator.get_paginated_response(MerchantOrderSerializer(page, many=True).data)


class MerchantOrderDetailView(MerchantAPIView):
    required_scope = "orders"

    @extend_schema(
        operation_id="merchant_order_detail",
        responses={200: MerchantOrderSerializer, **ERRORS},
    )
    def get(self, request: Request, number: str) -> Response:
        return Response(
            MerchantOrderSerializer(selectors.order_get(tenant=self.tenant, number=number)).data
        )


class MerchantOrderShipView(MerchantAPIView):
    required_scope = "orders"

    @extend_schema(
        operation_id="merchant_order_ship",
        summary="Ship lines (partial shipments allowed)",
        description="`lines` empty: everything left. Express needs `carrier` and "
        "`tracking_no`; same-city needs `courier_name` and `courier_phone`. Accepts "
        "`Idempotency-Key`. 409 `invalid_transition` for an order that cannot ship "
        "(unpaid, cancelled, already shipped).",
        parameters=[IDEMPOTENCY_HEADER],
        request=ShipSerializer,
        responses={201: ShipmentOutSerializer, **ERRORS},
    )
    @idempotent
    def post(self, request: TenantRequest, number: str) -> Response:
        data = ShipSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        body = data.validated_data
        shipment = services.order_ship(
            tenant=self.tenant,
            order=_order(self.tenant, number),
            actor=actor_api_key(request.api_key),
            carrier=body["carrier"],
            tracking_no=body["tracking_no"],
            courier_name=body["courier_name"],
            courier_phone=body["courier_phone"],
            lines=[services.ShipLine(x["line_id"], x["quantity"]) for x in body["lines"]],
        )
        return Response(ShipmentOutSerializer(shipment).data, status=201)


def _after_sale_answer(view: MerchantAPIView, after_sale_id: int) -> Response:
    return Response(
        AfterSaleOutSerializer(
            selectors.after_sale_get(tenant=view.tenant, after_sale_id=after_sale_id)
        ).data
    )


class MerchantAfterSaleApproveView(MerchantAPIView):
    required_scope = "orders"

    @extend_schema(
        operation_id="merchant_after_sale_approve",
        summary="Approve an after-sale (refund-only: the refund starts)",
        request=ApproveSerializer,
        responses={200: AfterSaleOutSerializer, **ERRORS},
    )
    def post(self, request: TenantRequest, after_sale_id: int) -> Response:
        data = ApproveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.after_sale_approve(
            tenant=self.tenant,
            after_sale=selectors.after_sale_get(tenant=self.tenant, after_sale_id=after_sale_id),
            actor=actor_api_key(request.api_key),
            **data.validated_data,
        )
        return _after_sale_answer(self, after_sale_id)


class MerchantAfterSaleRejectView(MerchantAPIView):
    required_scope = "orders"

    @extend_schema(
        operation_id="merchant_after_sale_reject",
        request=RejectSerializer,
        responses={200: AfterSaleOutSerializer, **ERRORS},
    )
    def post(self, request: TenantRequest, after_sale_id: int) -> Response:
        data = RejectSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.after_sale_reject(
            tenant=self.tenant,
            after_sale=selectors.after_sale_get(tenant=self.tenant, after_sale_id=after_sale_id),
            actor=actor_api_key(request.api_key),
            reason=data.validated_data["reason"],
        )
        return _after_sale_answer(self, after_sale_id)


class MerchantAfterSaleReceiveView(MerchantAPIView):
    required_scope = "orders"

    @extend_schema(
        operation_id="merchant_after_sale_receive",
        summary="The returned goods arrived (optionally choose restock now)",
        request=ReceiveReturnSerializer,
        responses={200: AfterSaleOutSerializer, **ERRORS},
    )
    def post(self, request: TenantRequest, after_sale_id: int) -> Response:
        data = ReceiveReturnSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.after_sale_return_receive(
            tenant=self.tenant,
            after_sale=selectors.after_sale_get(tenant=self.tenant, after_sale_id=after_sale_id),
            actor=actor_api_key(request.api_key),
            restock=data.validated_data.get("restock"),
        )
        return _after_sale_answer(self, after_sale_id)


class MerchantAfterSaleRefundView(MerchantAPIView):
    required_scope = "orders"

    @extend_schema(
        operation_id="merchant_after_sale_refund",
        summary="Start the refund (approved refund-only, or a return whose goods arrived)",
        request=None,
        responses={200: AfterSaleOutSerializer, **ERRORS},
    )
    def post(self, request: TenantRequest, after_sale_id: int) -> Response:
        services.after_sale_refund(
            tenant=self.tenant,
            after_sale=selectors.after_sale_get(tenant=self.tenant, after_sale_id=after_sale_id),
            actor=actor_api_key(request.api_key),
        )
        return _after_sale_answer(self, after_sale_id)


class MerchantAfterSaleAbortRefundView(MerchantAPIView):
    required_scope = "orders"

    @extend_schema(
        operation_id="merchant_after_sale_abort_refund",
        summary="Take a refunding after-sale whose refund payments never created out of refunding",
        description="Back to `approved` (refund-only) or `return_received` (return), or with "
        "`close: true` to `cancelled`. 409 `refund_under_way` when payments has the refund "
        "(one under way finishes by itself; a failed one is retried from the console); "
        "409 `invalid_transition` when the after-sale is not refunding.",
        request=AbortRefundSerializer,
        responses={200: AfterSaleOutSerializer, **ERRORS},
    )
    def post(self, request: TenantRequest, after_sale_id: int) -> Response:
        data = AbortRefundSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.after_sale_refund_abort(
            tenant=self.tenant,
            after_sale=selectors.after_sale_get(tenant=self.tenant, after_sale_id=after_sale_id),
            actor=actor_api_key(request.api_key),
            **data.validated_data,
        )
        return _after_sale_answer(self, after_sale_id)
