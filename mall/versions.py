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
from django.db import transaction

from mall.cache import LocalCache

LOCAL_MAX = 10_000
# The versions this process read, by the tuple of keys asked together (no version of its own:
# they expire after MALL_CACHE_VERSION_RECHECK_MS, and this process's bumps clear them).
_seen: LocalCache[tuple[str, ...], list[int]] = LocalCache("versions", max_entries=LOCAL_MAX)
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


def version_bump_now_and_after_commit(key: str) -> None:
    """Bump now and again after commit: a read racing the transaction may store the old state
    under the first bump, never under the second."""
    version_bump(key)
    transaction.on_commit(lambda: version_bump(key))


def versions_get(keys: Sequence[str]) -> list[int]:
    """The versions at ``keys`` (created when missing): in one Redis round trip, or as this
    process read them less than ``MALL_CACHE_VERSION_RECHECK_MS`` ago."""
    wanted = tuple(keys)
    now = _clock()
    seen = _seen.get(wanted, now=now)
    if seen is not None:
        return seen
    found = cache.get_many(list(wanted))
    values = [
        found[key] if isinstance(found.get(key), int) else cache_version(key) for key in wanted
    ]
    recheck = settings.MALL_CACHE_VERSION_RECHECK_MS / 1000
    if recheck > 0:
        _seen.set(wanted, values, ttl=recheck, now=now)
    return values


def versions_local_clear() -> None:
    """Forget the versions this process read, and every other process-local copy
    (``LocalCache.clear_all``): tests, after flushing the cache."""
    LocalCache.clear_all()
