"""Fixtures of the members tests: local fakes of WeChat and Alipay, sandbox channels."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from mall.tenancy.models import Channel
from tests.mall.factories import ChannelFactory


@pytest.fixture
def wechat_api(httpserver: HTTPServer, settings: Any) -> HTTPServer:
    """The local WeChat API: settings.WECHAT_API_BASE_URL points at it (real HTTP on loopback)."""
    settings.WECHAT_API_BASE_URL = httpserver.url_for("").rstrip("/")
    return httpserver


def expect_code2session(
    server: HTTPServer, channel: Channel, code: str, answer: dict[str, Any]
) -> None:
    """jscode2session with exactly appid, secret, js_code, grant_type (no access_token)."""
    server.expect_request(
        "/sns/jscode2session",
        method="GET",
        query_string={
            "appid": channel.app_id,
            "secret": channel.app_secret,
            "js_code": code,
            "grant_type": "authorization_code",
        },
    ).respond_with_json(answer)


@pytest.fixture
def sandbox_channel(tenant: Any) -> Channel:
    return ChannelFactory(tenant=tenant, app_id="wx-sandbox-a", is_sandbox=True)


def _private_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@dataclass
class AlipayKeys:
    app_private: rsa.RSAPrivateKey  # the merchant app's key (we sign with it)
    alipay_private: rsa.RSAPrivateKey  # "Alipay's" key (the fake signs answers with it)

    @property
    def app_private_pem(self) -> str:
        return _private_pem(self.app_private)

    @property
    def alipay_public_pem(self) -> str:
        return _public_pem(self.alipay_private)


@pytest.fixture(scope="session")
def alipay_keys() -> AlipayKeys:
    return AlipayKeys(
        app_private=rsa.generate_private_key(public_exponent=65537, key_size=2048),
        alipay_private=rsa.generate_private_key(public_exponent=65537, key_size=2048),
    )


@pytest.fixture
def alipay_channel(tenant: Any, alipay_keys: AlipayKeys) -> Channel:
    return ChannelFactory(
        tenant=tenant,
        platform=Channel.Platform.ALIPAY,
        app_id="2021000000000001",
        app_secret="",
        alipay_app_private_key=alipay_keys.app_private_pem,
        alipay_public_key=alipay_keys.alipay_public_pem,
    )


class FakeAlipayGateway:
    """Plays the Alipay gateway: verifies our RSA2 request signature with the app's public key,
    answers alipay.system.oauth.token signed with Alipay's private key."""

    def __init__(self, server: HTTPServer, keys: AlipayKeys) -> None:
        self.server = server
        self.keys = keys
        self.users: dict[str, str] = {}  # auth_code -> user_id
        self.requests: list[dict[str, str]] = []
        self.tamper = False
        server.expect_request("/gateway.do").respond_with_handler(self._handle)

    def _verify(self, params: dict[str, str]) -> bool:
        sign = params.pop("sign", "")
        message = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
        try:
            self.keys.app_private.public_key().verify(
                base64.b64decode(sign), message.encode(), padding.PKCS1v15(), hashes.SHA256()
            )
        except (InvalidSignature, ValueError):
            return False
        return True

    def _signed(self, response_type: str, inner: dict[str, Any]) -> Response:
        inner_json = json.dumps(inner, separators=(",", ":"), ensure_ascii=False)
        signature = self.keys.alipay_private.sign(
            inner_json.encode(), padding.PKCS1v15(), hashes.SHA256()
        )
        if self.tamper:
            inner_json = inner_json.replace("2088", "2099")
        sign = base64.b64encode(signature).decode()
        body = f'{{"{response_type}":{inner_json},"sign":"{sign}"}}'
        return Response(body, content_type="application/json;charset=utf-8")

    def _error(self, code: str, sub_code: str) -> Response:
        body = json.dumps(
            {
                "error_response": {
                    "code": code,
                    "msg": "Invalid Arguments",
                    "sub_code": sub_code,
                    "sub_msg": "invalid",
                },
                "sign": "",
            }
        )
        return Response(body, content_type="application/json;charset=utf-8")

    def _handle(self, request: Request) -> Response:
        params = request.args.to_dict()
        self.requests.append(dict(params))
        if params.get("app_id") is None or not self._verify(params):
            return self._error("40002", "isv.invalid-signature")
        if params.get("method") != "alipay.system.oauth.token":
            return self._error("40002", "isv.invalid-method")
        if params.get("grant_type") != "authorization_code":
            return self._error("40002", "isv.grant-type-invalid")
        user_id = self.users.get(params.get("code", ""))
        if user_id is None:
            return self._error("40002", "isv.code-invalid")
        return self._signed(
            "alipay_system_oauth_token_response",
            {
                "user_id": user_id,
                "access_token": "authusrB" + user_id,
                "expires_in": 1296000,
                "refresh_token": "refresh" + user_id,
                "re_expires_in": 2592000,
            },
        )


@pytest.fixture
def alipay_gateway(
    httpserver: HTTPServer, settings: Any, alipay_keys: AlipayKeys
) -> FakeAlipayGateway:
    settings.ALIPAY_GATEWAY_URL = httpserver.url_for("/gateway.do")
    return FakeAlipayGateway(httpserver, alipay_keys)


@pytest.fixture
def login_rate(settings: Any) -> Callable[[str], None]:
    """Set the login throttle rate for this test."""

    def set_rate(rate: str) -> None:
        rest = dict(settings.REST_FRAMEWORK)
        rest["DEFAULT_THROTTLE_RATES"] = {**rest["DEFAULT_THROTTLE_RATES"], "login": rate}
        settings.REST_FRAMEWORK = rest

    return set_rate
