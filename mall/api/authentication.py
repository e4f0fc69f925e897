"""Authentication for the shopper API (member JWT) and the merchant open API (API key).

The tenant itself is resolved by ``mall.tenancy.middleware.TenantMiddleware``; these classes
only attach the principal and check that it belongs to that tenant.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Protocol

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken

from mall.cache import LocalCache

# Access tokens this process has verified: raw token -> claims, until the token's ``exp`` (the
# cache's clock is the wall clock). A shopper sends the same token with every request until it
# expires; its signature and claims cannot change, so they are checked once and only the
# expiry on every later request.
VERIFIED_MAX = 10_000
_verified: LocalCache[str, Mapping[str, Any]] = LocalCache(
    "verified-tokens", max_entries=VERIFIED_MAX, clock=time.time
)


def access_claims(raw: str) -> Mapping[str, Any]:
    """The claims of a valid, unexpired access token; ``TokenError`` otherwise."""
    seen = _verified.get(raw)
    if seen is not None:
        return seen
    # Signature, expiry and token type checked here (simplejwt takes the raw string too).
    claims = AccessToken(raw).payload  # type: ignore[arg-type]
    expires = claims.get("exp")
    if isinstance(expires, int | float):
        _verified.set(raw, MappingProxyType(dict(claims)), expires_at=float(expires))
    return claims


class TokenMember(Protocol):
    """What authentication reads of the member a token names."""

    @property
    def is_active(self) -> bool: ...

    @property
    def merged_into_id(self) -> int | None: ...


class MemberLoader(Protocol):
    """The tenant's member ``member_id`` as a complete model instance, or None."""

    def __call__(self, *, tenant_id: int, member_id: int) -> TokenMember | None: ...


_member_loader: MemberLoader | None = None


def register_member_loader(loader: MemberLoader) -> None:
    """Hook for ``members`` (``MembersConfig.ready()``): mall sits below members and never
    imports it, so the app that owns ``Member`` tells authentication how to load one."""
    global _member_loader
    _member_loader = loader


def _load_member(*, tenant_id: int, member_id: int) -> TokenMember | None:
    if _member_loader is None:
        raise ImproperlyConfigured("No member loader: members registers one in its ready().")
    return _member_loader(tenant_id=tenant_id, member_id=member_id)


class MemberTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <access token>``; the token's tenant must be the request's."""

    keyword = "Bearer"

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'

    def authenticate(self, request: Request) -> tuple[Any, Mapping[str, Any]] | None:
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
        member = (
            _load_member(tenant_id=tenant.pk, member_id=member_id)
            if isinstance(member_id, int)
            else None
        )
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
