"""mall.cache.LocalCache: the one process-local memo (version + expiry)."""

from __future__ import annotations

from mall.cache import LocalCache


def _cache(**kwargs: object) -> tuple[LocalCache, list[float]]:
    now = [100.0]
    cache: LocalCache = LocalCache("test", clock=lambda: now[0], **kwargs)  # type: ignore[arg-type]
    return cache, now


def test_an_entry_serves_only_its_own_version() -> None:
    cache, _now = _cache()
    cache.set("k", "v", version=1)
    assert cache.get("k", version=1) == "v"
    assert cache.get("k", version=2) is None
    assert cache.get("k") is None  # stored with a version: an unversioned read misses


def test_an_entry_expires_after_its_ttl_or_at_its_end() -> None:
    cache, now = _cache()
    cache.set("a", 1, ttl=10)
    cache.set("b", 2, expires_at=105.0)
    now[0] = 104.9
    assert (cache.get("a"), cache.get("b")) == (1, 2)
    now[0] = 105.0
    assert (cache.get("a"), cache.get("b")) == (1, None)
    now[0] = 110.0
    assert cache.get("a") is None


def test_get_or_load_caches_none_and_loads_again_for_a_new_version() -> None:
    cache, _now = _cache()
    loads: list[int] = []

    def load() -> None:
        loads.append(1)

    assert cache.get_or_load("k", load, version=1) is None
    assert cache.get_or_load("k", load, version=1) is None
    assert len(loads) == 1
    cache.get_or_load("k", load, version=2)
    assert len(loads) == 2


def test_a_full_cache_starts_empty_and_clear_all_empties_every_instance() -> None:
    cache, _now = _cache(max_entries=2)
    cache.set("a", 1)
    cache.set("b", 2)
    cache.set("a", 3)  # a key already there does not count
    assert len(cache) == 2
    cache.set("c", 4)
    assert len(cache) == 1 and cache.get("c") == 4
    LocalCache.clear_all()
    assert len(cache) == 0
