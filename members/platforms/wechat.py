"""WeChat mini program login and phone number, through wechatpy against a configurable base URL.

wechatpy hard-codes ``api.weixin.qq.com``; :class:`MallWeChatClient` points every call (and the
access token fetch) at ``settings.WECHAT_API_BASE_URL`` so tests and sandboxes can use a local fake.
Access tokens are cached in Django's cache (Redis in production) per app id, shared by workers.
"""

from __future__ import annotations

import logging
from typing import Any

import requests
from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _
from wechatpy import WeChatClient
from wechatpy.client.api import WeChatWxa
from wechatpy.exceptions import WeChatClientException
from wechatpy.session import SessionStorage

from mall.errors import ApplicationError, InvalidInputError, UnavailableError, UpstreamError
from mall.tenancy.models import Channel
from members.errors import MemberErrorCode
from members.platforms import PlatformUser

logger = logging.getLogger(__name__)

# Refresh the access token this many seconds before WeChat expires it.
ACCESS_TOKEN_MARGIN_SECONDS = 300


class DjangoCacheSessionStorage(SessionStorage):
    """wechatpy session storage on Django's cache (keys are ``<appid>_access_token``)."""

    prefix = "wechatpy:"

    def get(self, key: str, default: Any = None) -> Any:
        value = cache.get(self.prefix + key)
        return default if value is None else value

    def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        timeout = max(int(ttl) - ACCESS_TOKEN_MARGIN_SECONDS, 60) if ttl else None
        cache.set(self.prefix + key, value, timeout)

    def delete(self, key: str) -> None:
        cache.delete(self.prefix + key)


class _TimeoutSession(requests.Session):
    """wechatpy fetches its access token without a timeout; give every request one."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self._default_timeout = timeout

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._default_timeout
        return super().request(method, url, *args, **kwargs)


class _MallWxa(WeChatWxa):
    def code_to_session(self, js_code: str) -> dict[str, Any]:
        # jscode2session takes appid + secret only. Params as a list of pairs (not a dict) so
        # wechatpy neither adds an access_token parameter nor fetches one first.
        return self._get(
            "sns/jscode2session",
            params=[
                ("appid", self.appid),
                ("secret", self.secret),
                ("js_code", js_code),
                ("grant_type", "authorization_code"),
            ],
        )


class MallWeChatClient(WeChatClient):
    wxa = _MallWxa()

    def __init__(self, appid: str, secret: str, *, base_url: str, auto_retry: bool = True) -> None:
        timeout = settings.EXTERNAL_HTTP_TIMEOUT
        super().__init__(
            appid,
            secret,
            session=DjangoCacheSessionStorage(),
            timeout=timeout,
            auto_retry=auto_retry,
        )
        self.base_url = base_url.rstrip("/")
        self.API_BASE_URL = f"{self.base_url}/cgi-bin/"
        self.wxa.API_BASE_URL = f"{self.base_url}/"
        self._http = _TimeoutSession(timeout)

    def fetch_access_token(self) -> dict[str, Any]:
        return self._fetch_access_token(
            url=f"{self.base_url}/cgi-bin/token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        )

    def get_phone_number(self, code: str) -> dict[str, Any]:
        return self.post(
            "wxa/business/getuserphonenumber",
            data={"code": code},
            api_base_url=f"{self.base_url}/",
        )


def _client(channel: Channel, *, auto_retry: bool = True) -> MallWeChatClient:
    if not channel.app_secret:
        raise UnavailableError(
            MemberErrorCode.CHANNEL_NOT_CONFIGURED,
            _("This mini program has no app secret configured."),
        )
    return MallWeChatClient(
        channel.app_id,
        channel.app_secret,
        base_url=settings.WECHAT_API_BASE_URL,
        auto_retry=auto_retry,
    )


def _unavailable(exc: Exception) -> ApplicationError:
    logger.warning("WeChat API unreachable: %r", exc)
    return UpstreamError(
        MemberErrorCode.UPSTREAM_UNAVAILABLE, _("WeChat could not be reached; try again.")
    )


def _invalid(exc: Exception) -> ApplicationError:
    logger.warning("WeChat API answered something unexpected: %r", exc)
    return UpstreamError(
        MemberErrorCode.UPSTREAM_INVALID, _("WeChat answered something unexpected; try again.")
    )


def wechat_user_for_code(*, channel: Channel, code: str) -> PlatformUser:
    """code2session: the openid (and unionid) behind a ``wx.login()`` code."""
    client = _client(channel, auto_retry=False)
    try:
        result = client.wxa.code_to_session(code)
    except WeChatClientException as exc:
        if exc.errcode is None:  # HTTP error status from WeChat
            raise _unavailable(exc) from exc
        raise InvalidInputError(
            MemberErrorCode.WECHAT_LOGIN_FAILED,
            _("WeChat refused the login code."),
            details={"errcode": exc.errcode, "errmsg": str(exc.errmsg or "")[:200]},
        ) from exc
    except requests.RequestException as exc:
        raise _unavailable(exc) from exc
    except (ValueError, KeyError, TypeError) as exc:  # unparseable answer (e.g. token fetch)
        raise _invalid(exc) from exc
    openid = result.get("openid") if isinstance(result, dict) else None
    if not isinstance(openid, str) or not openid or len(openid) > 128:
        raise UpstreamError(
            MemberErrorCode.UPSTREAM_INVALID, _("WeChat answered without an openid.")
        )
    unionid = result.get("unionid") or ""
    return PlatformUser(openid=openid, unionid=str(unionid)[:128])


def wechat_phone_for_code(*, channel: Channel, code: str) -> str:
    """getuserphonenumber: the phone number behind a ``getPhoneNumber`` button code."""
    client = _client(channel)
    try:
        result = client.get_phone_number(code)
    except WeChatClientException as exc:
        if exc.errcode is None:
            raise _unavailable(exc) from exc
        raise InvalidInputError(
            MemberErrorCode.WECHAT_PHONE_FAILED,
            _("WeChat refused the phone number code."),
            details={"errcode": exc.errcode, "errmsg": str(exc.errmsg or "")[:200]},
        ) from exc
    except requests.RequestException as exc:
        raise _unavailable(exc) from exc
    except (ValueError, KeyError, TypeError) as exc:  # unparseable answer (e.g. token fetch)
        raise _invalid(exc) from exc
    info = result.get("phone_info") if isinstance(result, dict) else None
    phone = ""
    if isinstance(info, dict):
        phone = str(info.get("purePhoneNumber") or info.get("phoneNumber") or "")
    if not phone:
        raise UpstreamError(
            MemberErrorCode.UPSTREAM_INVALID, _("WeChat answered without a phone number.")
        )
    return phone
