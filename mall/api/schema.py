"""OpenAPI generation (drf-spectacular): what every operation shares, stated once.

``MallAutoSchema`` is the project's ``DEFAULT_SCHEMA_CLASS``. On top of drf-spectacular it adds:

- the ``X-App-Id`` header on every shopper operation (not on the gateway callbacks);
- security that says who may call: operations that need no principal list ``{}`` (anonymous)
  beside the token scheme, operations without authentication have ``security: []``;
- lists: a GET that answers many items is described as the paginated envelope
  ``{"count", "next", "previous", "results"}`` with ``page``/``page_size``, also on plain
  ``APIView``s that paginate by hand;
- request bodies as JSON only (multipart is documented only on upload views that declare it);
- the error responses that can occur, each in the contract's error shape ``Error``: 400, 401,
  403, 404, 409, 413, 422 and 429 depending on the surface, the method, the path parameters,
  the authentication and the throttles of the operation (see docs/architecture.md).

``scripts/schemathesis.py`` checks the answers of a running server against this schema and
``tests/api/test_schema.py`` checks these rules on the generated schema.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.settings import api_settings

from mall.api.pagination import PageNumberPagination

APP_ID_HEADER = OpenApiParameter(
    name="X-App-Id",
    type=str,
    location=OpenApiParameter.HEADER,
    required=True,
    description="App id of the mini program (identifies tenant and platform).",
)

SHOPPER_PREFIX = "/api/v1/"
MERCHANT_PREFIX = "/api/merchant/"
CALLBACK_PREFIX = "/api/v1/payments/notify/"

# URLs: Django's URLValidator accepts only http(s)/ftp(s) URLs with a real host, JSON Schema's
# "uri" format far more (and no empty string), so both directions get a pattern instead.
# Input: a strict subset of what the validator accepts (so generated valid input is accepted);
# output: any http(s) URL as stored, or "" where the model allows it blank.
URL_INPUT_PATTERN = (
    r"^https?://[a-z0-9](?:[a-z0-9-]{0,20}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,20}[a-z0-9])?)*"
    r"\.[a-z]{2,6}(?:/[A-Za-z0-9._~-]{0,40}){0,4}$"
)
URL_OUTPUT_PATTERN = r"^(?:https?|ftps?)://\S+$"

ERROR_DESCRIPTIONS = {
    "400": "Invalid input, or a missing or unknown X-App-Id (error shape)",
    "401": "Missing, invalid, expired or foreign token or API key (error shape)",
    "403": "The tenant is suspended, the sandbox is disabled, or the key lacks the scope "
    "(error shape)",
    "404": "Not found, or another shop's (error shape)",
    "409": "Conflict: state, stock or idempotency key (error shape)",
    "413": "Request body too large (error shape)",
    "422": "Business rule (error shape)",
    "429": "Rate limited; Retry-After says when to try again (error shape)",
    "503": "The database (or, for a write that needs it, Redis) is unreachable; Retry-After "
    "says when to try again (error shape)",
}


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable machine-readable code, e.g. out_of_stock.")
    message = serializers.CharField(help_text="Human-readable, in the request's language.")
    details = serializers.DictField(help_text="Field errors or more facts; may be empty.")


class ErrorSerializer(serializers.Serializer):
    """The contract's error shape."""

    error = ErrorDetailSerializer()

    class Meta:
        ref_name = "Error"


def _requires_principal(view: Any) -> bool:
    from mall.api.permissions import HasApiScope, IsMember

    required = (IsMember, HasApiScope)
    return any(isinstance(p, required) for p in view.get_permissions())


def _model_field(field: Any) -> Any:
    """The model field behind a ModelSerializer field, if any."""
    parent = getattr(field, "parent", None)
    model = getattr(getattr(parent, "Meta", None), "model", None)
    if model is None or not field.source or "." in field.source:
        return None
    try:
        return model._meta.get_field(field.source)
    except Exception:  # noqa: BLE001 - not a model field: a property or a method
        return None


class MallAutoSchema(AutoSchema):
    @property
    def _path(self) -> str:
        return getattr(self, "path", "") or ""

    def _is_callback(self) -> bool:
        return self._path.startswith(CALLBACK_PREFIX)

    def _is_shopper(self) -> bool:
        return self._path.startswith(SHOPPER_PREFIX) and not self._is_callback()

    def _is_merchant(self) -> bool:
        return self._path.startswith(MERCHANT_PREFIX)

    def get_override_parameters(self) -> list:
        params = list(super().get_override_parameters())
        if self._is_shopper():
            params.append(APP_ID_HEADER)
        return params

    # --- security ---------------------------------------------------------------------
    def get_auth(self) -> list[dict[str, list[str]]]:
        auths = list(super().get_auth())
        if auths and not _requires_principal(self.view):
            auths.append({})  # anonymous callers are welcome too
        return auths

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is not None and "security" not in operation:
            operation["security"] = []  # no token: gateway callbacks, logins
        return operation

    # --- fields -------------------------------------------------------------------------
    def _map_serializer_field(self, field: Any, direction: str, bypass_extensions: bool = False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.URLField) and schema.get("format") == "uri":
            schema = {k: v for k, v in schema.items() if k != "format"}
            model_field = _model_field(field)
            if field.read_only or direction == "response":
                blank = field.allow_blank or model_field is None or model_field.blank
                pattern = URL_OUTPUT_PATTERN
            else:
                blank = field.allow_blank
                pattern = URL_INPUT_PATTERN
            # An allow_blank field gets its "" alternative from drf-spectacular (oneOf).
            schema["pattern"] = f"^$|{pattern}" if blank and not field.allow_blank else pattern
            schema.setdefault(
                "description", "An http(s) URL" + (", or an empty string." if blank else ".")
            )
        return schema

    def _insert_field_validators(self, field: Any, schema: dict[str, Any]) -> None:
        super()._insert_field_validators(field, schema)
        if isinstance(field, serializers.URLField):
            # URLValidator's "uri": the pattern set above says it better.
            for part in [schema, *schema.get("oneOf", [])]:
                if "pattern" in part:
                    part.pop("format", None)

    # --- lists and bodies ---------------------------------------------------------------
    def _get_paginator(self) -> Any:
        if isinstance(self.view, GenericAPIView):
            return super()._get_paginator()
        # A plain APIView that answers a list paginates it by hand with the project's class.
        pagination_class = getattr(self.view, "pagination_class", PageNumberPagination)
        return pagination_class() if pagination_class else None

    def map_parsers(self) -> list[Any]:
        media_types = super().map_parsers()
        declared = list(getattr(self.view, "parser_classes", []))
        if declared == list(api_settings.DEFAULT_PARSER_CLASSES) and "application/json" in (
            media_types
        ):
            return ["application/json"]
        return media_types

    # --- error responses ----------------------------------------------------------------
    def _error_statuses(self) -> set[str]:
        if self._is_callback() or not (self._is_shopper() or self._is_merchant()):
            return set()
        method = self.method.upper()
        unsafe = method in ("POST", "PUT", "PATCH", "DELETE")
        has_body = method in ("POST", "PUT", "PATCH")
        statuses = {"403", "503"}
        has_path_parameters = re.search(r"{[^}]+}", self._path) is not None
        if self._is_shopper() or has_body or has_path_parameters or self._has_query_parameters():
            statuses.add("400")  # a missing X-App-Id; invalid input, out-of-range ids
        if self.view.get_authenticators() or self._is_merchant():
            statuses.add("401")
        if has_path_parameters or (method == "GET" and self._is_list_view()):
            statuses.add("404")
        if unsafe:
            statuses.update({"409", "422"})
        if has_body:
            statuses.add("413")
        if self.view.get_throttles():
            statuses.add("429")
        return statuses

    def _has_query_parameters(self) -> bool:
        return any(
            isinstance(p, dict) and p.get("in") == "query"
            for p in self._get_pagination_parameters() + self._get_filter_parameters()
        ) or any(
            getattr(p, "location", None) == OpenApiParameter.QUERY or not hasattr(p, "location")
            for p in super().get_override_parameters()
        )

    def _get_response_bodies(
        self, direction: Literal["request", "response"] = "response"
    ) -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        if self._is_callback():
            return responses
        error_ref = self.resolve_serializer(ErrorSerializer, "response").ref
        error_content = {"application/json": {"schema": error_ref}}
        for code in sorted(self._error_statuses()):
            responses.setdefault(code, {"description": ERROR_DESCRIPTIONS[code]})
        for code, response in responses.items():
            if code.isdigit() and int(code) >= 400 and not response.get("content"):
                response["content"] = error_content
                response["description"] = response.get("description") or ERROR_DESCRIPTIONS.get(
                    code, "Error (error shape)"
                )
        return dict(sorted(responses.items()))
