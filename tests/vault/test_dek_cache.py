"""The data-key cache is bounded in size and in lifetime."""

from vault.keys.dek_cache import DekCache


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_cache_evicts_the_least_recently_used_past_its_size() -> None:
    cache = DekCache(max_size=2, ttl_seconds=60)
    cache.put("a", b"A")
    cache.put("b", b"B")
    assert cache.get("a") == b"A"
    cache.put("c", b"C")
    assert cache.get("b") is None
    assert (cache.get("a"), cache.get("c"), len(cache)) == (b"A", b"C", 2)


def test_cache_entries_expire() -> None:
    clock = FakeClock()
    cache = DekCache(max_size=10, ttl_seconds=5, clock=clock)
    cache.put("a", b"A")
    clock.now = 4.9
    assert cache.get("a") == b"A"
    clock.now = 5.0
    assert cache.get("a") is None


def test_a_zero_sized_cache_keeps_nothing() -> None:
    cache = DekCache(max_size=0, ttl_seconds=60)
    cache.put("a", b"A")
    assert cache.get("a") is None


def test_forget_drops_one_key() -> None:
    cache = DekCache(max_size=10, ttl_seconds=60)
    cache.put("a", b"A")
    cache.put("b", b"B")
    cache.forget("a")
    assert (cache.get("a"), cache.get("b")) == (None, b"B")
