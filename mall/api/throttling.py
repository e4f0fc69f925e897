from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class ChannelIPRateThrottle(SimpleRateThrottle):
    """Rate per (channel, client IP); the cache is Redis in production, so limits are global."""

    def get_rate(self) -> str | None:
        # Read the rate when the throttle is built (not at import), so settings overrides apply.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request: Request, view: Any) -> str:
        channel = getattr(request, "channel", None)
        ident = f"{channel.pk if channel is not None else 0}:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class LoginRateThrottle(ChannelIPRateThrottle):
    scope = "login"


class PhoneBindRateThrottle(ChannelIPRateThrottle):
    scope = "phone"
