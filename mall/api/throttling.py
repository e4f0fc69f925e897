from __future__ import annotations

import logging
from typing import Any

from django_redis.exceptions import ConnectionInterrupted
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from mall.cache import cache_available

logger = logging.getLogger(__name__)


class ChannelIPRateThrottle(SimpleRateThrottle):
    """Rate per (channel, client IP); the cache is Redis in production, so limits are global."""

    def get_rate(self) -> str | None:
        # Read the rate when the throttle is built (not at import), so settings overrides apply.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)  # type: ignore[arg-type,return-value]  # stub: rates are "N/period" strings

    def allow_request(self, request: Request, view: Any) -> bool:
        """Fail open: while the cache (Redis) is unreachable the limit cannot be counted, so the
        request is let through and a warning logged; a throttle never makes an outage a 500."""
        try:
            allowed = super().allow_request(request, view)
        except (ConnectionInterrupted, ConnectionError, OSError) as exc:
            logger.warning("Throttle %r not enforced: cache unreachable (%s)", self.scope, exc)
            return True
        if self.rate is not None and not cache_available():
            logger.warning("Throttle %r not enforced: cache unreachable", self.scope)
            return True
        return allowed

    def get_cache_key(self, request: Request, view: Any) -> str:
        channel = getattr(request, "channel", None)
        ident = f"{channel.pk if channel is not None else 0}:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class LoginRateThrottle(ChannelIPRateThrottle):
    scope = "login"


class PhoneBindRateThrottle(ChannelIPRateThrottle):
    scope = "phone"
