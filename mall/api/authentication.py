"""Authentication for the shopper API (member JWT) and the merchant open API (API key).

The tenant itself is resolved by ``mall.tenancy.middleware.TenantMiddleware``; these classes
only attach the principal and check that it belongs to that tenant.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken

from mall.rawsql import fetch_instances

# Access tokens this process has verified: raw token -> (expiry as a POSIX timestamp, claims).
# A shopper sends the same token with every request until it expires; its signature and
# claims cannot change, so they are checked once and only the expiry on every later request.
_verified: dict[str, tuple[float, Mapping[str, Any]]] = {}
VERIFIED_MAX = 10_000


def access_claims(raw: str) -> Mapping[str, Any]:
    """The claims of a valid, unexpired access token; ``TokenError`` otherwise."""
    now = time.time()
    seen = _verified.get(raw)
    if seen is not None:
        if seen[0] > now:
            return seen[1]
        del _verified[raw]
        raise TokenError("Token is expired")
    claims = AccessToken(raw).payload  # type: ignore[arg-type]  # simplejwt takes the str; signature, expiry and token type checked here
    expires = claims.get("exp")
    if isinstance(expires, int | float):
        if len(_verified) >= VERIFIED_MAX:
            _verified.clear()
        _verified[raw] = (float(expires), MappingProxyType(dict(claims)))
    return claims


class MemberTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <access token>``; the token's tenant must be the request's."""

    keyword = "Bearer"

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'

    def authenticate(self, request: Request) -> tuple[Any, Mapping[str, Any]] | None:
        from members.models import Member

        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        scheme, _sep, raw = header.partition(" ")
        if scheme != self.keyword or not raw.strip():
            raise exceptions.AuthenticationFailed(
                _("Malformed Authorization header."), code="invalid_token"
            )
        try:
            token = access_claims(raw.strip())
        except TokenError as exc:
            raise exceptions.AuthenticationFailed(
                _("Token is invalid or expired."), code="invalid_token"
            ) from exc
        tenant = getattr(request, "tenant", None)
        if tenant is None or token.get("tenant_id") != tenant.pk:
            raise exceptions.AuthenticationFailed(
                _("This token was issued for another shop."), code="token_tenant_mismatch"
            )
        member_id = token.get("member_id")
        # Hot path (every shopper request): a raw read of the whole row skips the ORM's query
        # compilation; the member stays a complete model instance (no deferred fields).
        found = (
            fetch_instances(Member, "tenant_id = %s AND id = %s", [tenant.pk, member_id])
            if isinstance(member_id, int)
            else []
        )
        member = found[0] if found else None
        if member is None:
            raise exceptions.AuthenticationFailed(_("Member not found."), code="invalid_token")
        if member.merged_into_id is not None:
            raise exceptions.AuthenticationFailed(
                _("This account was merged into another one; log in again."), code="member_merged"
            )
        if not member.is_active:
            raise exceptions.AuthenticationFailed(
                _("This account is disabled."), code="member_disabled"
            )
        request._request.member = member  # type: ignore[attr-defined]
        return member, token


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """The key was checked by the middleware; expose it as the request's principal."""

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="merchant-api"'

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        api_key = getattr(request, "api_key", None)
        if api_key is None:
            return None
        return api_key, api_key


class MemberTokenScheme(OpenApiAuthenticationExtension):
    target_class = "mall.api.authentication.MemberTokenAuthentication"
    name = "MemberToken"

    def get_security_definition(self, auto_schema: Any) -> dict:
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "mall.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict:
        return {"type": "http", "scheme": "bearer"}
