"""WeChat mini program codes for share posters (``wxa/getwxacodeunlimit``).

Uses the members app's :class:`~members.platforms.wechat.MallWeChatClient` (wechatpy pointed at
``settings.WECHAT_API_BASE_URL``, access token cached in Django's cache per app id), so tests
and sandboxes talk to a local fake. ``getwxacodeunlimit`` answers the image itself, or a JSON
error (``errcode``) with HTTP 200; both are told apart here.
"""

from __future__ import annotations

import logging
from typing import Any

import requests
from django.conf import settings
from wechatpy.exceptions import WeChatClientException

from mall.tenancy.models import Channel
from members.platforms.wechat import MallWeChatClient

logger = logging.getLogger(__name__)

SCENE_MAX_LENGTH = 32  # WeChat's limit for getwxacodeunlimit
IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")  # PNG, JPEG


class WxaCodeUnavailable(Exception):
    """The mini program code could not be had (network, WeChat error, not an image)."""


def is_real_wechat_channel(channel: Channel | None) -> bool:
    """A WeChat mini program that WeChat knows: not a sandbox, with an app secret."""
    return bool(
        channel is not None
        and channel.platform == Channel.Platform.WECHAT
        and not channel.is_sandbox
        and channel.app_secret
    )


def wxa_code_unlimited(*, channel: Channel, scene: str, page: str, width: int = 280) -> bytes:
    """The mini program code image (PNG or JPEG bytes) opening ``page`` with ``scene``."""
    if len(scene) > SCENE_MAX_LENGTH:
        raise ValueError(f"A scene has at most {SCENE_MAX_LENGTH} characters: {scene!r}")
    client = MallWeChatClient(
        channel.app_id, channel.app_secret, base_url=settings.WECHAT_API_BASE_URL
    )
    try:
        answer: Any = client.wxa.get_wxa_code_unlimited(scene, width=width, page=page or None)
    except WeChatClientException as exc:
        raise WxaCodeUnavailable(f"WeChat refused: {exc.errcode} {exc.errmsg}") from exc
    except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
        raise WxaCodeUnavailable(f"WeChat unreachable: {exc!r}") from exc
    content = getattr(answer, "content", None)
    if not isinstance(content, bytes) or not content.startswith(IMAGE_MAGIC):
        # wechatpy returns a dict for a JSON answer without errcode.
        raise WxaCodeUnavailable(f"WeChat answered no image: {str(answer)[:200]}")
    return content
