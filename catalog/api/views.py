from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from catalog import selectors
from catalog.api.serializers import (
    ORDERING_CHOICES,
    CategoryTreePageSerializer,
    ProductDetailSerializer,
    ProductListQuerySerializer,
    ProductPageSerializer,
)
from mall.api.errors import NotFoundError
from mall.api.pagination import PageNumberPagination
from mall.api.views import ShopperAPIView


class CategoryTreeView(ShopperAPIView):
    @extend_schema(
        operation_id="categories_tree",
        summary="The shop's visible category tree",
        description="The whole visible tree in one page: `results` are the roots, each with "
        "nested `children`; `next`/`previous` are always null.",
        responses=CategoryTreePageSerializer,
    )
    def get(self, request: Request) -> Response:
        roots = selectors.category_tree_visible(tenant=self.tenant)
        return Response({"count": len(roots), "next": None, "previous": None, "results": roots})


_DECIMAL_MAX = Decimal("9999999999.99")


def parse_product_list_query(query: Any) -> dict[str, Any]:
    """The list's query parameters (the same rules as ProductListQuerySerializer, which
    documents them), parsed without building a serializer on this hot path."""
    params: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, low, high in (("category", 1, None), ("page", 1, None), ("page_size", 1, 100)):
        raw = query.get(name)
        if raw in (None, ""):
            continue
        try:
            value = int(raw)
        except ValueError:
            errors[name] = ["A valid integer is required."]
            continue
        if value < low or (high is not None and value > high):
            bounds = f"between {low} and {high}" if high else f"at least {low}"
            errors[name] = [f"Ensure this value is {bounds}."]
            continue
        params[name] = value
    for name in ("min_price", "max_price"):
        raw = query.get(name)
        if raw in (None, ""):
            continue
        try:
            amount = Decimal(raw)
        except InvalidOperation:
            amount = None
        if amount is None or not amount.is_finite() or not 0 <= amount <= _DECIMAL_MAX:
            errors[name] = ["A valid amount >= 0 is required."]
            continue
        params[name] = amount
    q = query.get("q")
    if q:
        if len(q) > 64:
            errors["q"] = ["Ensure this field has no more than 64 characters."]
        else:
            params["q"] = q
    ordering = query.get("ordering")
    if ordering:
        if ordering not in ORDERING_CHOICES:
            errors["ordering"] = [f'"{ordering}" is not a valid choice.']
        else:
            params["ordering"] = ordering
    if errors:
        raise ValidationError(errors)
    return params


class ProductListView(ShopperAPIView):
    """Lean read path: values() rows rendered as dicts (serializers only document the shape)."""

    @extend_schema(
        operation_id="products_list",
        summary="On-sale products shown on this platform",
        parameters=[ProductListQuerySerializer],
        responses=ProductPageSerializer,
    )
    def get(self, request: Request) -> Response:
        params = parse_product_list_query(request.query_params)
        page = params.get("page", 1)
        page_size = params.get("page_size", PageNumberPagination.page_size)
        count, results = selectors.product_list_for_shopper(
            tenant=self.tenant,
            platform=request.channel.platform,
            category_id=params.get("category"),
            q=params.get("q", "").strip(),
            min_price=params.get("min_price"),
            max_price=params.get("max_price"),
            ordering=params.get("ordering", "default"),
            page=page,
            page_size=page_size,
        )
        offset = (page - 1) * page_size
        url = request.build_absolute_uri()
        return Response(
            {
                "count": count,
                "next": replace_query_param(url, "page", page + 1)
                if offset + page_size < count
                else None,
                "previous": (
                    None
                    if page == 1
                    else remove_query_param(url, "page")
                    if page == 2
                    else replace_query_param(url, "page", page - 1)
                ),
                "results": results,
            }
        )


class ProductDetailView(ShopperAPIView):
    @extend_schema(
        operation_id="products_retrieve",
        summary="Product detail with SKUs, specs, stock state and images",
        description="Off-shelf, draft, not shown on this platform or another shop's: 404. "
        "Active campaigns and member prices are added by the promotions issue.",
        responses=ProductDetailSerializer,
    )
    def get(self, request: Request, product_id: int) -> Response:
        detail = selectors.product_detail_for_shopper(
            tenant=self.tenant, platform=request.channel.platform, product_id=product_id
        )
        if detail is None:
            raise NotFoundError("Product not found.")
        return Response(detail)
