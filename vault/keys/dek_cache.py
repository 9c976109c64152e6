"""A bounded, expiring, thread-safe cache of unwrapped data keys."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable


class DekCache:
    """Least-recently-used cache whose entries also expire after `ttl_seconds`."""

    def __init__(
        self,
        max_size: int,
        ttl_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_size = max_size
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._entries: OrderedDict[Hashable, tuple[bytes, float]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> bytes | None:
        """Return the cached data key, or None when absent or expired."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            dek, expires_at = entry
            if expires_at <= self._clock():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return dek

    def put(self, key: Hashable, dek: bytes) -> None:
        """Remember a data key, evicting the least recently used past the bound."""
        if self.max_size <= 0 or self.ttl_seconds <= 0:
            return
        with self._lock:
            self._entries[key] = (dek, self._clock() + self.ttl_seconds)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_size:
                self._entries.popitem(last=False)

    def forget(self, key: Hashable) -> None:
        """Drop one data key (after erasure, or when its wrapping changed)."""
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        """Drop every cached data key."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
