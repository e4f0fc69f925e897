"""Cache versions: random integers in the shared cache, one per thing that cached reads depend
on (a tenant's pricing snapshot, category tree, coupon scopes, ...). Every change bumps its
version; readers key what they cache, in Redis and in each process, by the versions they read,
so a change makes every older copy unreachable at once.

Reading the versions is a Redis round trip; the hottest reads (quotes, product prices) would
pay it on every request. So each process also remembers the versions it read for
``MALL_CACHE_VERSION_RECHECK_MS`` (50 ms by default; 0 reads Redis every time):

- a bump made by this process (``version_bump``) is seen by this process at once;
- a bump made by another process is seen here at most that long afterwards: a merchant's edit
  reaches every worker within 50 ms, as if the request had started 50 ms earlier. Time
  windows (a campaign starting or ending) never wait for a bump: they are checked against the
  clock on every read, and counters that move with orders (stock, flash-sale sales, campaign
  budgets) are always read fresh.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence

from django.conf import settings
from django.core.cache import cache

LOCAL_MAX = 10_000
_seen: dict[tuple[str, ...], tuple[float, list[int]]] = {}
_clock = time.monotonic


def fresh_version() -> int:
    """A new cache version: random, so versions never repeat after a cache flush (process-local
    copies keyed by version can then never be mistaken for current)."""
    return secrets.randbits(52)


def cache_version(key: str) -> int:
    """The version stored at ``key``, created if missing."""
    version = cache.get_or_set(key, fresh_version, None)
    return version if isinstance(version, int) else fresh_version()


def version_bump(key: str) -> None:
    """Make every copy cached under the current version at ``key`` stale, everywhere."""
    _seen.clear()
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, fresh_version(), None)


def versions_get(keys: Sequence[str]) -> list[int]:
    """The versions at ``keys`` (created when missing): in one Redis round trip, or as this
    process read them less than ``MALL_CACHE_VERSION_RECHECK_MS`` ago."""
    wanted = tuple(keys)
    now = _clock()
    seen = _seen.get(wanted)
    if seen is not None and seen[0] > now:
        return seen[1]
    found = cache.get_many(list(wanted))
    values = [
        found[key] if isinstance(found.get(key), int) else cache_version(key) for key in wanted
    ]
    recheck = settings.MALL_CACHE_VERSION_RECHECK_MS / 1000
    if recheck > 0:
        if len(_seen) >= LOCAL_MAX:
            _seen.clear()
        _seen[wanted] = (now + recheck, values)
    return values


def versions_local_clear() -> None:
    """Forget the versions this process read (tests, after flushing the cache)."""
    _seen.clear()
