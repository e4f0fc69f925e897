from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
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
from catalog.hooks import DetailPricing, shopper_pricing
from mall.api.errors import NotFoundError
from mall.api.pagination import PageNumberPagination, page_number_parse
from mall.api.renderers import JSONRenderer
from mall.api.views import ShopperAPIView
from mall.http import TenantRequest


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
    params: dict[str, Any] = {"page": page_number_parse(query.get("page"))}
    errors: dict[str, list[str]] = {}
    for name, low, high in (("category", 1, None), ("page_size", 1, 100)):
        raw = query.get(name)
        if raw in (None, ""):
            continue
        try:
            value = int(raw)
        except ValueError:
            errors[name] = [gettext("A valid integer is required.")]
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
            errors[name] = [gettext("A valid amount >= 0 is required.")]
            continue
        params[name] = amount
    q = query.get("q")
    if q:
        if len(q) > 64:
            errors["q"] = [gettext("Ensure this field has no more than 64 characters.")]
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
    def get(self, request: TenantRequest) -> HttpResponse:
        params = parse_product_list_query(request.query_params)
        page = params.get("page", 1)
        page_size = params.get("page_size", PageNumberPagination.page_size)
        tenant = self.tenant
        platform = request.channel.platform
        pricing = shopper_pricing()
        listed = selectors.product_list_page_for_shopper(
            tenant=tenant,
            platform=platform,
            category_id=params.get("category"),
            q=params.get("q", "").strip(),
            min_price=params.get("min_price"),
            max_price=params.get("max_price"),
            ordering=params.get("ordering", "default"),
            page=page,
            page_size=page_size,
            version_keys=pricing.list_version_keys(tenant.pk),
            encode=_items_json,
        )
        prices = pricing.list_prices(
            tenant=tenant,
            platform=platform,
            member=self.member,
            product_ids=[item["id"] for item in listed.items],
            now=timezone.now(),
            versions=listed.versions,
        )
        count = listed.count
        offset = (page - 1) * page_size
        url = request.build_absolute_uri()
        envelope = {
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
        }
        if not prices and listed.items_json is not None:
            # Nothing to overlay (the common case): the page's items as encoded when cached,
            # the same bytes the renderer would produce, without re-encoding them.
            head = _json_renderer.render(envelope)
            body = b"".join((head[:-1], b',"results":', listed.items_json, b"}"))
            return HttpResponse(body, content_type="application/json")
        results = [_list_item_priced(item, prices.get(item["id"])) for item in listed.items]
        return Response({**envelope, "results": results})


_json_renderer = JSONRenderer()


def _items_json(items: list[dict[str, Any]]) -> bytes:
    """The list's items as answered when no item-level price applies (``original_price`` =
    ``price``): encoded once when the selector caches the page, answered as they are."""
    return _json_renderer.render([{**item, "original_price": item["price"]} for item in items])


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _list_item_priced(item: dict[str, Any], price: Decimal | None) -> dict[str, Any]:
    """A cached list item with the caller's price: ``price`` after item-level promotions,
    ``original_price`` the lowest list price."""
    priced = {**item, "original_price": item["price"]}
    if price is not None and item["price"] is not None and price < Decimal(item["price"]):
        priced["price"] = _money(price)
    return priced


def _detail_priced(detail: dict[str, Any], priced: DetailPricing) -> dict[str, Any]:
    """The cached, member-independent detail with the caller's SKU prices and the campaigns."""
    skus = []
    for sku in detail["skus"]:
        offer = priced.sku_prices.get(sku["id"])
        skus.append(
            {
                **sku,
                "price": _money(offer.price) if offer else sku["price"],
                "original_price": sku["price"],
                "price_source": offer.source if offer else None,
                "price_campaign_id": offer.campaign_id if offer else None,
            }
        )
    prices = [Decimal(s["price"]) for s in skus]
    result = {**detail, "original_price": detail["price"], "skus": skus}
    if prices and detail["price"] is not None and min(prices) < Decimal(detail["price"]):
        result["price"] = _money(min(prices))
    result["campaigns"] = list(priced.campaigns)
    return result


class ProductDetailView(ShopperAPIView):
    @extend_schema(
        operation_id="products_retrieve",
        summary="Product detail with SKUs, specs, stock state, images, prices and campaigns",
        description="Off-shelf, draft, not shown on this platform or another shop's: 404. "
        "`skus[].price` is the best item-level price for the caller now (a flash-sale price "
        "with quota left; a member-price campaign's price for a logged-in member), "
        "`original_price` the list price; `campaigns[]` are the campaigns live now on this "
        "platform that apply to the product (flash sales with their per-SKU price and quota "
        "left).",
        responses=ProductDetailSerializer,
    )
    def get(self, request: TenantRequest, product_id: int) -> Response:
        platform = request.channel.platform
        detail = selectors.product_detail_for_shopper(
            tenant=self.tenant, platform=platform, product_id=product_id
        )
        if detail is None:
            raise NotFoundError(_("Product not found."))
        priced = shopper_pricing().detail_pricing(
            tenant=self.tenant,
            platform=platform,
            member=self.member,
            detail=detail,
            now=timezone.now(),
        )
        return Response(_detail_priced(detail, priced))
