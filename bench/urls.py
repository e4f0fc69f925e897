"""The production URLs plus ``/bench/floor``: a bare JsonResponse, the framework's floor.

Only the benchmark's settings (bench.settings) route here; production URLs never include it.
"""

from django.http import HttpRequest, JsonResponse
from django.urls import path

from mall.urls import handler400, handler403, handler404, handler500  # noqa: F401
from mall.urls import urlpatterns as mall_urlpatterns


def floor(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


urlpatterns = [path("bench/floor", floor), *mall_urlpatterns]
