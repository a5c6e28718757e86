"""Generated days kept for reuse, least recently used dropped first.

One account keeps its last few days. A process serving many accounts shares one cache with a byte budget on
top, so fifty accounts each backfilling do not keep fifty accounts' worth of days (a large center's day is
about 18 MB of arrays).
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from dataclasses import fields, is_dataclass
from typing import Any

import numpy as np

DAYS_PER_OWNER = 4
# Generated days kept across all accounts of a process. One day of each of 40 small, 8 medium and 2 large
# centers (account_sizes.py) is about 320 MB; each account keeping its own four days would be 1.3 GB.
SHARED_DAY_CACHE_BYTES = 384 * 2**20


def array_bytes(value: Any) -> int:
    """Bytes of the numpy arrays held by a (nested) dataclass."""
    if isinstance(value, np.ndarray):
        return value.nbytes
    if is_dataclass(value) and not isinstance(value, type):
        return sum(array_bytes(getattr(value, f.name)) for f in fields(value))
    return 0


class DayCache:
    """At most `days_per_owner` days per owner (one owner per data generator) and, when `max_bytes` is set,
    at most that many bytes of arrays in all (the day just stored is always kept)."""

    def __init__(self, days_per_owner: int = DAYS_PER_OWNER, max_bytes: int | None = None) -> None:
        if days_per_owner < 1:
            raise ValueError("days_per_owner must be at least 1")
        if max_bytes is not None and max_bytes < 0:
            raise ValueError("max_bytes must not be negative")
        self.days_per_owner = days_per_owner
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[int, int], tuple[Any, int]] = OrderedDict()
        self._days_of: Counter[int] = Counter()
        self._bytes = 0

    def get(self, owner: int, day: int) -> Any | None:
        with self._lock:
            entry = self._entries.get((owner, day))
            if entry is None:
                return None
            self._entries.move_to_end((owner, day))
            return entry[0]

    def put(self, owner: int, day: int, value: Any) -> None:
        key = (owner, day)
        size = array_bytes(value)
        with self._lock:
            if key in self._entries:
                self._drop(key)
            self._entries[key] = (value, size)
            self._days_of[owner] += 1
            self._bytes += size
            while self._days_of[owner] > self.days_per_owner:
                self._drop(next(k for k in self._entries if k[0] == owner))
            while self.max_bytes is not None and self._bytes > self.max_bytes and len(self._entries) > 1:
                self._drop(next(iter(self._entries)))

    def _drop(self, key: tuple[int, int]) -> None:
        _, size = self._entries.pop(key)
        self._days_of[key[0]] -= 1
        self._bytes -= size

    @property
    def bytes(self) -> int:
        with self._lock:
            return self._bytes

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
