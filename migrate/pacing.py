"""Client-side pacing: reserve a slot in every rate-limit scope a request touches, then wait.

Each scope is a GCRA bucket (the virtual-scheduling form of a token bucket): it remembers the
theoretical arrival time `tat` of the next request. A request touching several scopes starts at
the latest time any of them allows, and every scope then moves on from that start — so
concurrent threads are served in reservation order with no polling and no thundering herd.
The clock and sleep are injected so tests run on a fake clock in milliseconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass


@dataclass
class _Bucket:
    interval: float     # seconds between requests at the sustained rate
    tolerance: float    # how far ahead of schedule a burst may run
    tat: float          # theoretical arrival time of the next request


class Pacer:
    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.clock = clock
        self.sleep = sleep
        self._lock = threading.Lock()
        self._buckets: dict[Hashable, _Bucket] = {}
        self.waited = 0.0  # total seconds callers spent waiting here

    def _bucket(self, key: Hashable, rate: float, burst: float, now: float) -> _Bucket:
        interval = 1.0 / rate
        tolerance = max(0.0, burst - 1.0) * interval
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(interval, tolerance, now)
        elif bucket.interval != interval:  # the rate changed (settings, or a slowdown)
            bucket.interval, bucket.tolerance = interval, tolerance
        return bucket

    def reserve(self, scopes: list[tuple[Hashable, float, float]]) -> float:
        """Reserve the earliest start allowed by every (key, rate/s, burst) scope; returns it
        as a clock time. A rate ≤ 0 means unlimited."""
        with self._lock:
            now = self.clock()
            buckets = [self._bucket(k, r, b, now) for k, r, b in scopes if r > 0]
            start = max([now] + [b.tat - b.tolerance for b in buckets])
            for b in buckets:
                b.tat = max(b.tat, start) + b.interval
            return start

    def acquire(self, scopes: list[tuple[Hashable, float, float]]) -> float:
        """Wait for a slot in every scope; returns the seconds waited."""
        start = self.reserve(scopes)
        delay = start - self.clock()
        if delay > 0:
            self.sleep(delay)
            with self._lock:
                self.waited += delay
            return delay
        return 0.0

    def hold(self, key: Hashable, until: float) -> None:
        """Let nothing through `key` before clock time `until` (after a 429's Retry-After)."""
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is not None:
                bucket.tat = max(bucket.tat, until + bucket.tolerance)
