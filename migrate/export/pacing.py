"""Client-side pacing: reserve a slot in every rate-limit scope a request touches, then wait.

Each scope is a GCRA bucket (the virtual-scheduling form of a token bucket): it remembers the
theoretical arrival time `tat` of the next request. A request touching several scopes starts at
the latest time any of them allows, and every scope then moves on from that start — so
concurrent threads are served in reservation order with no polling and no thundering herd.
The clock and sleep are injected so tests run on a fake clock in milliseconds.
"""

from __future__ import annotations

import heapq
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
        self._gates: dict[Hashable, PriorityGate] = {}
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
            return self.reserve_locked(scopes, self.clock())

    def reserve_locked(self, scopes: list[tuple[Hashable, float, float]], now: float) -> float:
        buckets = [self._bucket(k, r, b, now) for k, r, b in scopes if r > 0]
        start = max([now] + [b.tat - b.tolerance for b in buckets])
        for b in buckets:
            b.tat = max(b.tat, start) + b.interval
        return start

    def acquire(self, scopes: list[tuple[Hashable, float, float]]) -> float:
        """Wait for a slot in every scope; returns the seconds waited.

        Only the scope that binds (the one free the latest) is reserved ahead of time; the
        others are taken when the request actually goes. Reserving them all at the binding
        time would book, say, a team's bucket seconds ahead for a request stuck behind a
        tenant-wide limit, and starve that team's other requests meanwhile.
        """
        started = self.clock()
        scopes = [s for s in scopes if s[1] > 0]
        if scopes:
            with self._lock:
                now = self.clock()
                buckets = [(self._bucket(k, r, b, now), (k, r, b)) for k, r, b in scopes]
                binding = max(buckets, key=lambda item: item[0].tat - item[0].tolerance)
                start = self.reserve_locked([binding[1]], now)
            self._sleep_until(start)
            others = [scope for _bucket, scope in buckets if scope is not binding[1]]
            while others:
                with self._lock:
                    now = self.clock()
                    ready = max([now] + [self._bucket(k, r, b, now).tat - self._bucket(k, r, b, now).tolerance
                                         for k, r, b in others])
                    if ready <= now:
                        self.reserve_locked(others, now)
                        break
                self._sleep_until(ready)
        waited = max(0.0, self.clock() - started)
        if waited:
            with self._lock:
                self.waited += waited
        return waited

    def _sleep_until(self, moment: float) -> None:
        delay = moment - self.clock()
        if delay > 0:
            self.sleep(delay)

    def acquire_with_priority(self, scopes: list[tuple[Hashable, float, float]],
                              gated: Hashable, priority: float) -> float:
        """Like `acquire`, but the scope `gated` hands out its slots by priority (PriorityGate)."""
        own = [s for s in scopes if s[0] != gated]
        waited = self.acquire(own)
        rate = next(r for k, r, _b in scopes if k == gated)
        with self._lock:
            gate = self._gates.get(gated)
            if gate is None or gate.interval != 1.0 / rate:
                gate = self._gates[gated] = PriorityGate(rate, self.clock)
        extra = gate.acquire(priority)
        with self._lock:
            self.waited += extra
        return waited + extra

    def hold(self, key: Hashable, until: float) -> None:
        """Let nothing through `key` before clock time `until` (after a 429's Retry-After)."""
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is not None:
                bucket.tat = max(bucket.tat, until + bucket.tolerance)


class PriorityGate:
    """A rate-limited scope whose slots go to the waiting request of highest priority.

    Used where one tenant-wide limit is shared by many independent streams of unequal length
    (a tenant's teams under getAllMessages): first-come-first-served gives every stream the
    same share and leaves the longest one to finish alone at its own cap; serving the stream
    with the most work left first lets the shared limit, not the longest stream, set the time.
    Only the waiter at the head is ever woken (no thundering herd among hundreds of threads).
    """

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = 1.0 / rate
        self.clock = clock
        self._lock = threading.Lock()
        self._waiting: list[tuple[float, int, threading.Event]] = []
        self._seq = 0
        self._next_free = clock()

    def acquire(self, priority: float) -> float:
        """Wait for a slot; a higher `priority` is served first. Returns the seconds waited."""
        started = self.clock()
        event = threading.Event()
        with self._lock:
            self._seq += 1
            entry = (-priority, self._seq, event)
            heapq.heappush(self._waiting, entry)
            if self._waiting[0] is entry:
                # We may have displaced the previous head: let it notice it waits behind us.
                for other in self._waiting[1:3]:
                    other[2].set()
        while True:
            with self._lock:
                now = self.clock()
                head = self._waiting[0] is entry
                if head and now >= self._next_free:
                    heapq.heappop(self._waiting)
                    self._next_free = max(self._next_free, now) + self.interval
                    if self._waiting:
                        self._waiting[0][2].set()
                    return now - started
                timeout = self._next_free - now if head else None
                event.clear()
            event.wait(timeout)
