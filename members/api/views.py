"""Shopper API of the members app: login, token refresh, profile, phone, addresses."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from mall.api.idempotency import idempotent
from mall.api.throttling import LoginRateThrottle, PhoneBindRateThrottle
from mall.api.views import MemberAPIView, MemberGenericAPIView, ShopperAPIView
from mall.http import TenantRequest
from members import selectors, services
from members.api.serializers import (
    AddressInputSerializer,
    AddressSerializer,
    AlipayLoginInputSerializer,
    LoginOutputSerializer,
    MemberSerializer,
    MemberUpdateInputSerializer,
    PhoneBindInputSerializer,
    PhoneBindOutputSerializer,
    RefreshInputSerializer,
    RefreshOutputSerializer,
    WeChatLoginInputSerializer,
)
from members.models import Address
from members.services.login import LoginResult

ERRORS = {
    400: OpenApiResponse(description="Invalid input (error shape)"),
    401: OpenApiResponse(description="Missing, invalid, expired or foreign token"),
}


def _login_response(result: LoginResult) -> Response:
    body = {
        "access": result.tokens.access,
        "refresh": result.tokens.refresh,
        "member": MemberSerializer(result.member).data,
        "created": result.created,
    }
    return Response(body, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)


class WeChatLoginView(ShopperAPIView):
    authentication_classes: list[Any] = []
    throttle_classes = [LoginRateThrottle]

    @extend_schema(
        operation_id="auth_wechat_login",
        summary="Log in with a wx.login() code",
        description="code2session through WeChat (sandbox channels answer themselves). The first "
        "login creates the member (201), later ones return it (200). WeChat refusing the code "
        "answers 400 `wechat_login_failed` with `details.errcode`; WeChat unreachable answers 502 "
        "`upstream_unavailable`. Rate limited per channel and client IP (429 `rate_limited`).",
        request=WeChatLoginInputSerializer,
        responses={200: LoginOutputSerializer, 201: LoginOutputSerializer, **ERRORS},
        auth=[],
    )
    def post(self, request: TenantRequest) -> Response:
        data = WeChatLoginInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.member_login_wechat(
            channel=request.channel,
            code=data.validated_data["code"],
            scene=data.validated_data["scene"],
        )
        return _login_response(result)


class AlipayLoginView(ShopperAPIView):
    authentication_classes: list[Any] = []
    throttle_classes = [LoginRateThrottle]

    @extend_schema(
        operation_id="auth_alipay_login",
        summary="Log in with a my.getAuthCode() auth code",
        description="alipay.system.oauth.token through the Alipay gateway (signed RSA2, answer "
        "verified). Alipay refusing the code answers 400 `alipay_login_failed`.",
        request=AlipayLoginInputSerializer,
        responses={200: LoginOutputSerializer, 201: LoginOutputSerializer, **ERRORS},
        auth=[],
    )
    def post(self, request: TenantRequest) -> Response:
        data = AlipayLoginInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.member_login_alipay(
            channel=request.channel,
            auth_code=data.validated_data["auth_code"],
            scene=data.validated_data["scene"],
        )
        return _login_response(result)


class TokenRefreshView(ShopperAPIView):
    authentication_classes: list[Any] = []

    @extend_schema(
        operation_id="auth_refresh",
        summary="A new access token for a refresh token",
        description="401 `invalid_token` (bad or expired), `token_tenant_mismatch` (issued for "
        "another shop), `member_merged` (the account was merged by a phone binding: log in again) "
        "or `member_disabled`.",
        request=RefreshInputSerializer,
        responses={200: RefreshOutputSerializer, **ERRORS},
        auth=[],
    )
    def post(self, request: TenantRequest) -> Response:
        data = RefreshInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _member, tokens = services.member_tokens_refresh(
            tenant=request.tenant, raw_refresh=data.validated_data["refresh"]
        )
        body = {"access": tokens.access}
        if tokens.refresh is not None:
            body["refresh"] = tokens.refresh
        return Response(body)


class MeView(MemberAPIView):
    @extend_schema(
        operation_id="me_retrieve",
        summary="The logged-in member's profile",
        responses={200: MemberSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        return Response(MemberSerializer(self.member).data)

    @extend_schema(
        operation_id="me_update",
        summary="Change nickname, avatar, birthday or gender",
        description="`phone` (see POST /me/phone), `points`, `growth` and `tier` are read-only; "
        "sending them answers 400.",
        request=MemberUpdateInputSerializer,
        responses={200: MemberSerializer, **ERRORS},
    )
    def patch(self, request: Request) -> Response:
        data = MemberUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = services.member_update_profile(member=self.member, **data.validated_data)
        return Response(MemberSerializer(member).data)


class MePhoneView(MemberAPIView):
    throttle_classes = [PhoneBindRateThrottle]

    @extend_schema(
        operation_id="me_phone_bind",
        summary="Bind the member's phone number",
        description="WeChat channels: the code of the getPhoneNumber button. Sandbox channels: "
        "`sandbox:<digits>`. Alipay channels: not supported yet (422 `not_supported`). If "
        "another account of this shop already has the phone, this account is merged into it "
        "(`merged: true`): orders, points, coupons and addresses move there, and the answer "
        "carries new tokens for that account; the old tokens stop working.",
        request=PhoneBindInputSerializer,
        responses={200: PhoneBindOutputSerializer, **ERRORS},
    )
    def post(self, request: TenantRequest) -> Response:
        data = PhoneBindInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.member_bind_phone_by_code(
            channel=request.channel, member=self.member, code=data.validated_data["code"]
        )
        tokens = services.member_tokens_issue(member=result.member)
        return Response(
            {
                "member": MemberSerializer(result.member).data,
                "access": tokens.access,
                "refresh": tokens.refresh,
                "merged": result.merged,
            }
        )


class _AddressBase(MemberGenericAPIView):
    serializer_class = AddressSerializer

    def get_queryset(self) -> QuerySet[Address]:
        return selectors.address_list_for_member(member=self.member)


class AddressListCreateView(_AddressBase):
    @extend_schema(
        operation_id="me_addresses_list",
        summary="The member's addresses (default first)",
        responses={200: AddressSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(AddressSerializer(page, many=True).data)

    @extend_schema(
        operation_id="me_addresses_create",
        summary="Add an address",
        description="The first address becomes the default; `is_default: true` makes this one "
        f"the default. At most {Address.MAX_PER_MEMBER} per member (422 "
        "`address_limit_reached`). Accepts an `Idempotency-Key` header.",
        request=AddressInputSerializer,
        responses={201: AddressSerializer, **ERRORS},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = AddressInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        address = services.address_create(member=self.member, **data.validated_data)
        return Response(AddressSerializer(address).data, status=status.HTTP_201_CREATED)


class AddressDetailView(_AddressBase):
    @extend_schema(
        operation_id="me_addresses_retrieve",
        summary="One of the member's addresses",
        responses={200: AddressSerializer, **ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(AddressSerializer(self.get_object()).data)

    @extend_schema(
        operation_id="me_addresses_update",
        summary="Change an address",
        description="`is_default: true` makes it the default and unsets the others atomically; "
        "unsetting the default answers 422 `default_address_required`.",
        request=AddressInputSerializer(partial=True),
        responses={200: AddressSerializer, **ERRORS},
    )
    def patch(self, request: Request, pk: int) -> Response:
        address = self.get_object()
        data = AddressInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        address = services.address_update(address=address, **data.validated_data)
        return Response(AddressSerializer(address).data)

    @extend_schema(
        operation_id="me_addresses_delete",
        summary="Delete an address",
        description="Deleting the default makes the newest remaining address the default.",
        responses={204: None, **ERRORS},
    )
    def delete(self, request: Request, pk: int) -> Response:
        services.address_delete(address=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
