"""OpenAPI extensions: the X-App-Id header on every shopper operation."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter

APP_ID_HEADER = OpenApiParameter(
    name="X-App-Id",
    type=str,
    location=OpenApiParameter.HEADER,
    required=True,
    description="App id of the mini program (identifies tenant and platform).",
)


class MallAutoSchema(AutoSchema):
    def get_override_parameters(self) -> list:
        params = list(super().get_override_parameters())
        path = getattr(self, "path", "") or ""
        if path.startswith("/api/v1/") and not path.startswith("/api/v1/payments/notify/"):
            params.append(APP_ID_HEADER)
        return params
