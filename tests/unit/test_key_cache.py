"""The key cache: a valid key is remembered for its time to live, then looked up again."""

from __future__ import annotations

from api.auth import KeyCache
from domain.keys.model import Principal

P = Principal(name="scanner-1", roles=frozenset({"warehouse"}))


def test_a_cached_key_answers_until_its_time_runs_out() -> None:
    cache = KeyCache(ttl=5)
    cache.put("mf_secret", P)
    assert cache.get("mf_secret") == P
    principal, _ = cache._entries["mf_secret"]
    cache._entries["mf_secret"] = (principal, 0.0)  # as if five seconds had passed
    assert cache.get("mf_secret") is None


def test_a_zero_ttl_caches_nothing_and_the_cache_stays_bounded() -> None:
    off = KeyCache(ttl=0)
    off.put("mf_secret", P)
    assert off.get("mf_secret") is None
    small = KeyCache(ttl=5, max_entries=2)
    for n in range(3):
        small.put(f"mf_{n}", P)
    assert len(small._entries) == 1 and small.get("mf_2") == P
