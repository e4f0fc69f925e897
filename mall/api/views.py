"""Base classes for the two API surfaces, so every view gets the right auth and scoping."""

from __future__ import annotations

from typing import Any

from rest_framework import generics
from rest_framework.views import APIView

from mall.api.authentication import ApiKeyAuthentication, MemberTokenAuthentication
from mall.api.permissions import HasApiScope, IsMember
from mall.http import TenantRequest


class ShopperAPIView(APIView):
    """Public shopper endpoint: tenant from X-App-Id, member optional."""

    request: TenantRequest
    authentication_classes = [MemberTokenAuthentication]
    permission_classes: list[Any] = []

    @property
    def tenant(self) -> Any:
        return self.request.tenant

    @property
    def member(self) -> Any:
        return getattr(self.request._request, "member", None)


class MemberAPIView(ShopperAPIView):
    """Shopper endpoint that needs a logged-in member."""

    permission_classes = [IsMember]


class MemberGenericAPIView(generics.GenericAPIView):
    request: TenantRequest
    authentication_classes = [MemberTokenAuthentication]
    permission_classes = [IsMember]

    @property
    def tenant(self) -> Any:
        return self.request.tenant

    @property
    def member(self) -> Any:
        return self.request._request.member


class MerchantAPIView(APIView):
    """Open API endpoint: tenant from the API key; subclasses set ``required_scope``."""

    request: TenantRequest
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiScope]
    required_scope: str | None = None

    @property
    def tenant(self) -> Any:
        return self.request.tenant


class MerchantGenericAPIView(generics.GenericAPIView):
    request: TenantRequest
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiScope]
    required_scope: str | None = None

    @property
    def tenant(self) -> Any:
        return self.request.tenant
