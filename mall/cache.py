"""The shared cache (Redis) with a degraded mode: when Redis does not answer, the mall keeps
serving from the database instead of answering 500.

- Every cache call that fails to reach Redis behaves as a miss: ``get`` answers the default,
  ``get_many`` ``{}``, ``set``/``delete``/``incr`` do nothing (django-redis's
  ``IGNORE_EXCEPTIONS``), so reads load from the database and writes go on.
- After a failure the cache stops trying Redis for ``MALL_CACHE_RETRY_SECONDS`` (a circuit
  breaker, per process and Redis location), so an outage costs one connection attempt per
  process every few seconds, not one per cache call; one warning is logged per outage.
- Process-local copies (``LocalCache``, at the end) all expire the same way: by the cache
  version they were built under, and an optional time to live.
- Code that cannot work without Redis (the seckill gate) asks for the connection with
  ``redis_connection()``, which raises ``ServiceUnavailableError``: the API answers
  ``503 service_unavailable`` with ``Retry-After``.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, ClassVar, Generic, TypeVar

from django.conf import settings
from django.core.cache import caches
from django.utils.translation import gettext_lazy as _
from django_redis.cache import RedisCache
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from mall.errors import ServiceUnavailableError

logger = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# Redis location -> monotonic time until which it is considered down.
_down_until: dict[str, float] = {}
_lock = threading.Lock()
_clock = time.monotonic


def _retry_seconds() -> float:
    return float(getattr(settings, "MALL_CACHE_RETRY_SECONDS", 5))


def _is_down(server: str) -> bool:
    until = _down_until.get(server)
    return until is not None and until > _clock()


def _trip(server: str, error: BaseException) -> None:
    with _lock:
        first = not _is_down(server)
        _down_until[server] = _clock() + _retry_seconds()
    if first:
        logger.warning(
            "Redis at %s is unreachable (%s): the cache is bypassed for %ss "
            "(reads from the database, throttles not enforced).",
            server,
            error,
            _retry_seconds(),
        )


def breaker_reset() -> None:
    """Forget every outage seen (tests)."""
    with _lock:
        _down_until.clear()


class _GuardedClient:
    """Proxies django-redis's client: refuses at once while Redis is known down, and records
    an outage when a call cannot reach it."""

    def __init__(self, client: Any, server: str) -> None:
        self._client = client
        self._server = server

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            if _is_down(self._server):
                down = ConnectionInterrupted(connection=None)
                down.__cause__ = ConnectionError(f"Redis at {self._server} is down")
                raise down
            try:
                return attribute(*args, **kwargs)
            except ConnectionInterrupted as exc:
                _trip(self._server, exc)
                raise

        return call


class DegradableRedisCache(RedisCache):
    """django-redis's cache where an unreachable Redis is a cache miss (see the module)."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._ignore_exceptions = True
        self._log_ignored_exceptions = False  # one warning per outage instead (``_trip``)
        self._guarded: _GuardedClient | None = None

    @property
    def client(self) -> Any:
        if self._guarded is None:
            self._guarded = _GuardedClient(super().client, self._server)
        return self._guarded

    @property
    def available(self) -> bool:
        return not _is_down(self._server)


def cache_available() -> bool:
    """False while the shared cache is in degraded mode (Redis unreachable, recently)."""
    return bool(getattr(caches["default"], "available", True))


def redis_connection() -> Any:
    """The raw Redis connection of the shared cache, for writes that need Redis itself (the
    seckill gate). Raises ``ServiceUnavailableError`` (503 + ``Retry-After``) while Redis is
    unreachable; None when the cache is not Redis (embedded default: callers fall back)."""
    default = caches["default"]
    if not isinstance(default, RedisCache):
        return None
    server = getattr(default, "_server", "")
    if _is_down(server):
        raise redis_unavailable()
    try:
        connection = default.client.get_client(write=True)
        connection.ping()
    except (ConnectionInterrupted, RedisConnectionError, RedisTimeoutError, OSError) as exc:
        _trip(server, exc)
        raise redis_unavailable() from exc
    return connection


def redis_unavailable() -> ServiceUnavailableError:
    return ServiceUnavailableError(
        _("This service is temporarily unavailable (cache server unreachable). Try again later.")
    )


# --- process-local caches -----------------------------------------------------------------

_MISSING: Any = object()


class LocalCache(Generic[K, V]):
    """A process-local memo in front of the shared cache or the database: the one place where
    the mall keeps values in a process's memory between requests.

    One invalidation mechanism for every such cache: an entry records the **version** it was
    built under (a value of ``mall.versions``, bumped in Redis by every change of what it was
    built from) and serves only a caller that asks with that same version; an entry may also
    **expire** (``ttl`` seconds, or an absolute ``expires_at`` on the cache's clock), which
    bounds what no version covers. A full cache (``max_entries``) starts empty again.
    ``clear_all()`` empties every instance (tests, after flushing the shared cache).

    Values must be treated as read-only: every request of the process shares them.
    """

    _instances: ClassVar[list[LocalCache[Any, Any]]] = []

    def __init__(
        self, name: str, *, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.name = name
        self.max_entries = max_entries
        self.clock = clock
        # key -> (version, expires at (inf: never), value)
        self._entries: dict[K, tuple[int | None, float, V]] = {}
        LocalCache._instances.append(self)

    def get(
        self, key: K, *, version: int | None = None, now: float | None = None, default: Any = None
    ) -> V | Any:
        """The value under ``key`` if it was stored with ``version`` and has not expired at
        ``now`` (the cache's clock by default); else ``default``."""
        entry = self._entries.get(key)
        if entry is None or entry[0] != version:
            return default
        if entry[1] <= (self.clock() if now is None else now):
            return default
        return entry[2]

    def set(
        self,
        key: K,
        value: V,
        *,
        version: int | None = None,
        ttl: float | None = None,
        expires_at: float | None = None,
        now: float | None = None,
    ) -> V:
        """Store ``value`` under ``key`` for ``version``, until ``expires_at`` or for ``ttl``
        seconds from ``now`` (neither: until the version changes or the cache is cleared)."""
        if expires_at is None:
            expires_at = math.inf if ttl is None else (self.clock() if now is None else now) + ttl
        if len(self._entries) >= self.max_entries and key not in self._entries:
            self._entries.clear()
        self._entries[key] = (version, expires_at, value)
        return value

    def get_or_load(
        self, key: K, load: Callable[[], V], *, version: int | None = None, ttl: float | None = None
    ) -> V:
        """The value under ``key`` for ``version``, else ``load()`` stored (None included)."""
        now = self.clock()
        value = self.get(key, version=version, now=now, default=_MISSING)
        if value is _MISSING:
            value = self.set(key, load(), version=version, ttl=ttl, now=now)
        return value

    def discard(self, key: K) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    @classmethod
    def clear_all(cls) -> None:
        """Empty every process-local cache (tests, after flushing the shared cache)."""
        for instance in cls._instances:
            instance.clear()
