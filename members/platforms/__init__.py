"""Adapters to the mini program platforms (WeChat, Alipay) and the local sandbox.

Each answers a :class:`PlatformUser` for a login code, raising ``ApplicationError`` with a
members error code when the platform refuses or cannot be reached.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PlatformUser:
    """Who the platform says logged in: openid (WeChat) or user id (Alipay), maybe a unionid."""

    openid: str
    unionid: str = ""
