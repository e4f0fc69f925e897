"""Test-only URLconf: the project's URLs plus POST views that exercise the API plumbing."""

from __future__ import annotations

from typing import Any

from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response

from mall.api.errors import ApplicationError
from mall.api.idempotency import idempotent
from mall.api.views import ShopperAPIView
from mall.cache import redis_connection
from mall.urls import urlpatterns as project_urlpatterns

# How many times the echo view really ran (idempotency tests read and reset it).
ECHO_CALLS: list[dict[str, Any]] = []


class EchoView(ShopperAPIView):
    """Echoes the body; ``{"fail": true}`` answers 422 through ApplicationError."""

    @idempotent
    def post(self, request: Request) -> Response:
        data = request.data
        ECHO_CALLS.append({"member": getattr(self.member, "pk", None), "data": data})
        if isinstance(data, dict) and data.get("fail"):
            raise ApplicationError("demo_rule", "Refused on purpose.", details={"why": "fail"})
        return Response({"echo": data, "run": len(ECHO_CALLS)}, status=201)


class BoomView(ShopperAPIView):
    def get(self, request: Request) -> Response:
        raise RuntimeError("a bug")


class NeedsRedisView(ShopperAPIView):
    """A write that cannot work without Redis itself (as the seckill gate will be)."""

    def post(self, request: Request) -> Response:
        connection = redis_connection()
        return Response({"redis": connection is not None}, status=201)


NEEDS_REDIS_PATH = "/api/v1/test-only/needs-redis"

urlpatterns = [
    path(NEEDS_REDIS_PATH.lstrip("/"), NeedsRedisView.as_view()),
    path("api/v1/test-only/echo", EchoView.as_view()),
    path("api/v1/test-only/boom", BoomView.as_view()),
    *project_urlpatterns,
]

handler400 = "mall.api.errors.handler400"
handler403 = "mall.api.errors.handler403"
handler404 = "mall.api.errors.handler404"
handler500 = "mall.api.errors.handler500"
