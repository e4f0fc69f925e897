"""Cache versions (mall.versions): bumps are seen at once in the bumping process and within
MALL_CACHE_VERSION_RECHECK_MS in every other one."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache

from mall import versions

KEYS = ("test:version:a", "test:version:b")


@pytest.fixture
def clock(monkeypatch: Any) -> list[float]:
    now = [1000.0]
    monkeypatch.setattr(versions, "_clock", lambda: now[0])
    return now


def test_versions_are_created_once_and_read_together(clock: list[float]) -> None:
    first = versions.versions_get(KEYS)
    assert len(set(first)) == 2
    assert [cache.get(key) for key in KEYS] == first
    versions.versions_local_clear()
    assert versions.versions_get(KEYS) == first  # from the shared cache, not re-created


def test_a_bump_in_this_process_is_seen_at_once(clock: list[float]) -> None:
    before = versions.versions_get(KEYS)
    versions.version_bump(KEYS[1])
    after = versions.versions_get(KEYS)
    assert after[0] == before[0] and after[1] == before[1] + 1


def test_another_process_bump_is_seen_within_the_recheck_time(
    clock: list[float], settings: Any
) -> None:
    settings.MALL_CACHE_VERSION_RECHECK_MS = 50
    before = versions.versions_get(KEYS)
    cache.incr(KEYS[0])  # what version_bump does in another worker (its memo is not ours)
    clock[0] += 0.049
    assert versions.versions_get(KEYS) == before  # trusted a little longer, no round trip
    clock[0] += 0.002
    assert versions.versions_get(KEYS) == [before[0] + 1, before[1]]


def test_recheck_zero_reads_the_shared_cache_every_time(clock: list[float], settings: Any) -> None:
    settings.MALL_CACHE_VERSION_RECHECK_MS = 0
    before = versions.versions_get(KEYS)
    cache.incr(KEYS[0])
    assert versions.versions_get(KEYS) == [before[0] + 1, before[1]]
