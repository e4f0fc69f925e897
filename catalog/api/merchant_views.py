"""Merchant open API: products, SKUs and stock for ERP/WMS sync (scope ``catalog``)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from catalog import images, inventory, services
from catalog.api.merchant_serializers import (
    ImageSerializer,
    ImageUploadSerializer,
    ProductInSerializer,
    ProductListFilterSerializer,
    ProductOutSerializer,
    StockDeltaSerializer,
    StockOutSerializer,
    StockSetSerializer,
)
from catalog.models import Product, Sku
from catalog.selectors import access_product_by_id, access_sku_by_id
from mall.api.idempotency import idempotent
from mall.api.pagination import PageNumberPagination
from mall.api.views import MerchantAPIView, MerchantGenericAPIView
from mall.http import TenantRequest

IDEMPOTENCY_HEADER = OpenApiParameter(
    name="Idempotency-Key", type=str, location=OpenApiParameter.HEADER, required=False
)


def _product_or_404(tenant: Any, product_id: int) -> Product:
    return access_product_by_id(
        tenant=tenant,
        id=product_id,
        queryset=Product.objects.prefetch_related("skus"),
        message=_("Product not found."),
    )


def _sku_or_404(tenant: Any, sku_id: int) -> Sku:
    return access_sku_by_id(tenant=tenant, id=sku_id, message=_("SKU not found."))


class MerchantProductListView(MerchantGenericAPIView):
    required_scope = "catalog"
    pagination_class = PageNumberPagination
    serializer_class = ProductOutSerializer

    @extend_schema(
        operation_id="merchant_products_list",
        parameters=[ProductListFilterSerializer],
        responses=ProductOutSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        query = ProductListFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        qs = Product.objects.for_tenant(self.tenant).prefetch_related("skus").order_by("id")
        if "status" in query.validated_data:
            qs = qs.filter(status=query.validated_data["status"])
        if "updated_since" in query.validated_data:
            qs = qs.filter(updated_at__gte=query.validated_data["updated_since"])
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(ProductOutSerializer(page, many=True).data)

    @extend_schema(
        operation_id="merchant_products_create",
        request=ProductInSerializer,
        responses={201: ProductOutSerializer},
        parameters=[IDEMPOTENCY_HEADER],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = ProductInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        product = services.product_create(tenant=self.tenant, **fields)
        product = _product_or_404(self.tenant, product.pk)
        return Response(ProductOutSerializer(product).data, status=status.HTTP_201_CREATED)


class MerchantProductDetailView(MerchantAPIView):
    required_scope = "catalog"

    @extend_schema(operation_id="merchant_products_retrieve", responses=ProductOutSerializer)
    def get(self, request: Request, product_id: int) -> Response:
        return Response(ProductOutSerializer(_product_or_404(self.tenant, product_id)).data)

    @extend_schema(
        operation_id="merchant_products_update",
        request=ProductInSerializer(partial=True),
        responses=ProductOutSerializer,
        description="Partial update. `specs` add names/values; `skus` upsert by `id` or `code` "
        "(stock of existing SKUs is changed only through the stock endpoints).",
    )
    def patch(self, request: Request, product_id: int) -> Response:
        product = _product_or_404(self.tenant, product_id)
        data = ProductInSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        services.product_update(tenant=self.tenant, product=product, **fields)
        return Response(ProductOutSerializer(_product_or_404(self.tenant, product_id)).data)


class MerchantSkuStockView(MerchantAPIView):
    required_scope = "catalog"

    @extend_schema(
        operation_id="merchant_sku_stock_set",
        request=StockSetSerializer,
        responses=StockOutSerializer,
        description="Absolute sellable stock. With `expected_version`, a stale version -> "
        "409 `version_conflict` (details carry `current_version`).",
    )
    def put(self, request: TenantRequest, sku_id: int) -> Response:
        sku = _sku_or_404(self.tenant, sku_id)
        data = StockSetSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result, _movement = inventory.stock_set(
            tenant=self.tenant,
            sku_id=sku.pk,
            stock=data.validated_data["stock"],
            expected_version=data.validated_data.get("expected_version"),
            note=f"api key {request.api_key.prefix}",
        )
        return Response(result)

    @extend_schema(
        operation_id="merchant_sku_stock_adjust",
        request=StockDeltaSerializer,
        responses=StockOutSerializer,
        parameters=[IDEMPOTENCY_HEADER],
        description="Relative change; never below zero (409 `out_of_stock`). Send an "
        "`Idempotency-Key` so a retry does not move stock twice.",
    )
    @idempotent
    def post(self, request: Request, sku_id: int) -> Response:
        sku = _sku_or_404(self.tenant, sku_id)
        data = StockDeltaSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        movement = inventory.stock_adjust(
            tenant=self.tenant,
            sku_id=sku.pk,
            delta=data.validated_data["delta"],
            note=data.validated_data["reason"],
        )
        version = (
            Sku.objects.for_tenant(sku.tenant_id)
            .filter(pk=sku.pk)
            .values_list("version", flat=True)
            .get()
        )
        return Response({"id": sku.pk, "stock": movement.stock_after, "version": version})


class MerchantProductImageView(MerchantAPIView):
    required_scope = "catalog"
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="merchant_product_images_upload",
        request={"multipart/form-data": ImageUploadSerializer},
        responses={201: ImageSerializer},
        description="JPEG/PNG/WebP/GIF; EXIF is stripped, thumbnails (200px, 600px) written. "
        "Not an image -> 400 `invalid_image`; too big in bytes or pixels -> 400 "
        "`image_too_large`.",
    )
    def post(self, request: Request, product_id: int) -> Response:
        product = _product_or_404(self.tenant, product_id)
        data = ImageUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        image = images.product_image_add(
            tenant=self.tenant,
            product=product,
            upload=data.validated_data["file"],
            position=data.validated_data.get("position"),
        )
        return Response(ImageSerializer(image).data, status=status.HTTP_201_CREATED)
