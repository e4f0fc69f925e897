from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from catalog import selectors
from catalog.api.serializers import CategoryTreePageSerializer
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
