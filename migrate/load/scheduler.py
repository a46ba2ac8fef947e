"""The Slack scheduler: the only code of the import that waits.

Two jobs:

- **Admission.** Every Slack call asks `admit(method, channel)` first. Each rate-limit scope
  is a bucket that knows when its next call may start (`tat`, the GCRA form of a token bucket
  without burst): one per method at its tier, and for posting (`chat.postMessage`, and
  `files.completeUploadExternal`, whose share posts a message) one per channel plus
  one for the workspace. Waiting callers are granted in order of the earliest start their
  scopes allow, so a call never books a slot it cannot use yet (which would starve others).
  A 429 is a signal, not an error: `throttled()` holds the bucket for exactly Retry-After and
  slows it down for a while (the rate recovers by 2 % per granted call).
- **Interleaving.** `run(lanes)` drives one lane per Slack channel — its setup, posts and
  uploads, strictly in order, one call in flight — with a pool of worker threads. A free
  worker takes the lane that can go soonest; among lanes that can go within one workspace
  slot, the one with the most posts left (longest-first keeps the busiest channel posting
  from the start, so the ceiling max(n_max/r_channel, Σn/r_workspace) is reachable).

The clock is injected (`Clock`): tests use a fake one whose waits advance time instantly.
Lanes that arrive while it runs come through a LaneFeed (feed.py); the counts over time in its
stats are a Timeline (timeline.py).
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from migrate.load.client import SlackRateLimited
from migrate.load.feed import LaneFeed
from migrate.load.limits import SlackLimits
from migrate.load.timeline import Timeline

POSTING = frozenset({"chat.postMessage", "files.completeUploadExternal"})
MARGIN = 1.01          # pace 1 % under each rate: a request's network jitter must not overtake it
MAX_SLOWDOWN = 4.0
RECOVERY = 0.98        # per granted call, the slowdown factor moves back towards 1
# The workspace posting cap is unpublished ("several hundred per minute"): when 429s say ours is
# too high, slow it more and recover more slowly, so the 429 share settles near 2 %, not 20 %.
WORKSPACE_SLOWDOWN = 1.25
WORKSPACE_RECOVERY = 0.995


class Clock(Protocol):
    def now(self) -> float: ...
    def wait(self, cond: threading.Condition, timeout: float | None) -> None: ...


class RealClock:
    def now(self) -> float:
        return time.monotonic()

    def wait(self, cond: threading.Condition, timeout: float | None) -> None:
        cond.wait(timeout)

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))


class FakeClock:
    """Time that moves only when someone waits: scheduler tests run in milliseconds."""

    def __init__(self, start: float = 1000.0) -> None:
        self.t = start

    def now(self) -> float:
        return self.t

    def wait(self, cond: threading.Condition, timeout: float | None) -> None:
        if timeout is None:
            cond.wait(0.05)
        else:
            self.t += max(0.0, timeout)

    def sleep(self, seconds: float) -> None:
        self.t += max(0.0, seconds)


@dataclass
class _Bucket:
    interval: float           # seconds between calls at the assumed rate
    tat: float                # earliest start of the next call
    slow: float = 1.0         # > 1 after a 429


@dataclass(order=True)
class _Request:
    seq: int
    scopes: tuple[Hashable, ...] = field(compare=False)
    priority: float = field(compare=False, default=0.0)
    granted: bool = field(compare=False, default=False)


@dataclass
class SchedulerStats:
    calls: Counter = field(default_factory=Counter)          # granted calls per method
    ratelimited: Counter = field(default_factory=Counter)    # 429s per method
    paced_s: float = 0.0        # time callers waited for their slot
    throttled_s: float = 0.0    # time buckets were held for Retry-After
    first: dict = field(default_factory=dict)    # method → clock time of its first call
    last: dict = field(default_factory=dict)     # method → clock time of its latest call
    # Granted calls ("calls"), of them posting ones ("posts"), and 429s ("ratelimited") over time.
    timeline: Timeline = field(default_factory=Timeline)

    def span(self, methods: Iterable[str]) -> float:
        """Seconds from the first to the last call of any of `methods` (0 if none)."""
        firsts = [self.first[m] for m in methods if m in self.first]
        lasts = [self.last[m] for m in methods if m in self.last]
        return max(lasts) - min(firsts) if firsts else 0.0

    def as_dict(self) -> dict:
        return {"calls": dict(self.calls), "ratelimited": dict(self.ratelimited),
                "paced_s": round(self.paced_s, 3), "throttled_s": round(self.throttled_s, 3)}


class Lane(Protocol):
    """The work of one Slack channel, done in order."""

    def next_call(self) -> tuple[str, str | None] | None:
        """(method, Slack channel) of the next call, or None when the lane is finished."""

    def remaining(self) -> int:
        """Posts left (the interleaving priority)."""

    def step(self) -> None:
        """Do the next item (it calls `admit` before each Slack call)."""


class Stopped(Exception):
    """The scheduler was stopped (deadline or a fatal error) while a call waited."""


class Scheduler:
    def __init__(self, limits: SlackLimits, *, clock: Clock | None = None) -> None:
        self.limits = limits
        self.clock = clock or RealClock()
        self._cond = threading.Condition()
        self._buckets: dict[Hashable, _Bucket] = {}
        self._pending: list[_Request] = []
        self._seq = itertools.count()
        self.stats = SchedulerStats()
        self.deadline: float | None = None
        self.stop_reason: str | None = None

    # ------------------------------------------------------------------ buckets

    def _rate(self, key: Hashable) -> float:
        kind = key[0]  # type: ignore[index]
        if kind == "post-channel":
            return self.limits.post_per_channel
        if kind == "post-workspace":
            return self.limits.post_workspace
        return self.limits.per_method.get(key[1], self.limits.per_method.get(  # type: ignore[index]
            "conversations.info", 1.0))

    def _bucket(self, key: Hashable, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            rate = self._rate(key)
            bucket = self._buckets[key] = _Bucket(MARGIN / rate if rate > 0 else 0.0, now)
        return bucket

    @staticmethod
    def scopes(method: str, channel: str | None) -> tuple[Hashable, ...]:
        if method in POSTING and channel:
            return (("post-channel", channel), ("post-workspace",))
        return (("method", method),)

    def ready_at(self, method: str, channel: str | None, now: float | None = None) -> float:
        """When a call of `method` in `channel` could start, as things stand (at `now`, by
        default the clock's)."""
        with self._cond:
            now = self.clock.now() if now is None else now
            return max([now] + [self._bucket(k, now).tat for k in self.scopes(method, channel)])

    # ------------------------------------------------------------------ admission

    def admit(self, method: str, channel: str | None = None, priority: float = 0.0) -> float:
        """Wait for the slot of one call; returns the seconds waited. Raises Stopped if the
        scheduler is stopped by a fatal error meanwhile."""
        req = _Request(next(self._seq), self.scopes(method, channel), priority)
        with self._cond:
            started = self.clock.now()
            self._pending.append(req)
            try:
                while True:
                    if self.stop_reason in ("fatal", "interrupted"):
                        raise Stopped(self.stop_reason)
                    now = self.clock.now()
                    best, start = self._best(now)
                    if best is req and self.deadline is not None and start >= self.deadline:
                        # --max-duration: no call starts past the deadline, even one already waiting.
                        self.stop_reason = self.stop_reason or "deadline"
                        raise Stopped("deadline")
                    if best is req and start <= now:
                        for key in req.scopes:
                            bucket = self._bucket(key, now)
                            # A thread that woke a little late keeps its place (within the 1 %
                            # margin), so late wake-ups do not add up to a slower rate.
                            late = (MARGIN - 1.0) * bucket.interval
                            bucket.tat = max(bucket.tat, now - late) + bucket.interval * bucket.slow
                            recovery = WORKSPACE_RECOVERY if key == ("post-workspace",) else RECOVERY
                            bucket.slow = max(1.0, bucket.slow * recovery)
                        self.stats.calls[method] += 1
                        self.stats.first.setdefault(method, now)
                        self.stats.last[method] = now
                        self.stats.timeline.add("calls", now)
                        if method in POSTING:
                            self.stats.timeline.add("posts", now)
                        waited = now - started
                        self.stats.paced_s += waited
                        return waited
                    if best is req:
                        timeout: float | None = max(0.0, start - now)
                    elif start <= now:
                        # The best request's turn has come while its thread sleeps: wake it
                        # (it may be waiting for a notification that nobody else will send).
                        self._cond.notify_all()
                        timeout = None
                    else:
                        timeout = start - now  # everyone re-checks when the next slot opens
                    self.clock.wait(self._cond, timeout)
            finally:
                self._pending.remove(req)
                self._cond.notify_all()

    def _best(self, now: float) -> tuple[_Request, float]:
        best: tuple[float, float, int, _Request] | None = None
        for req in self._pending:
            start = max([now] + [self._bucket(k, now).tat for k in req.scopes])
            key = (start, -req.priority, req.seq, req)
            if best is None or key[:3] < best[:3]:
                best = key
        assert best is not None
        return best[3], best[0]

    def throttled(self, method: str, channel: str | None, retry_after: float | None) -> None:
        """Slack answered 429: hold the bucket for exactly Retry-After (1 s, or twice the
        interval, when absent) and slow it down; for posts, also slow the workspace bucket,
        since Slack does not say whether the channel or the workspace cap refused."""
        with self._cond:
            now = self.clock.now()
            keys = self.scopes(method, channel)
            first = self._bucket(keys[0], now)
            wait = retry_after if retry_after is not None else max(1.0, 2 * first.interval)
            first.tat = max(first.tat, now + wait)
            first.slow = min(MAX_SLOWDOWN, first.slow * 1.5)
            for key in keys[1:]:
                other = self._bucket(key, now)
                other.slow = min(MAX_SLOWDOWN, other.slow * WORKSPACE_SLOWDOWN)
            self.stats.ratelimited[method] += 1
            self.stats.timeline.add("ratelimited", now)
            self.stats.throttled_s += wait
            self._cond.notify_all()

    def call(self, method: str, channel: str | None, fn: Callable[[], object],
             priority: float = 0.0, max_limited: int = 20):
        """admit → fn(), again after each 429 (the scheduler does the waiting)."""
        for _ in range(max_limited):
            self.admit(method, channel, priority)
            try:
                return fn()
            except SlackRateLimited as exc:
                self.throttled(method, channel, exc.retry_after)
        self.admit(method, channel, priority)
        return fn()

    def pause(self, seconds: float) -> None:
        """A lane waiting for Slack to finish something it does asynchronously (a file share
        being processed); it ends early when the run stops."""
        with self._cond:
            if self.stop_reason is None:
                self.clock.wait(self._cond, seconds)

    # ------------------------------------------------------------------ lanes

    def stop(self, reason: str) -> None:
        with self._cond:
            if self.stop_reason != "fatal":
                self.stop_reason = reason
            self._cond.notify_all()

    def run(self, lanes: Iterable[Lane], *, workers: int = 8, feed: LaneFeed | None = None) -> bool:
        """Drive every lane to its end (or to the deadline). True when every lane finished.
        With a `feed`, lanes also arrive while it runs (a channel ready to post while others
        are still being exported): the run ends once the feed is closed and its lanes done."""
        waiting: list[tuple[float, int, Lane]] = []
        ready: list[tuple[bool, int, int, Lane]] = []
        seq = itertools.count()
        busy = 0
        errors: list[BaseException] = []

        def enqueue(arrived: Iterable[Lane]) -> None:
            for lane in arrived:
                call = lane.next_call()
                if call is not None:
                    heapq.heappush(waiting, (self.ready_at(*call), next(seq), lane))

        enqueue(lanes)
        if feed is not None:
            feed.attach(self._cond)

        def slot() -> float:
            return MARGIN / max(self.limits.post_workspace, 1e-9)

        def pick() -> Lane | None:
            now = self.clock.now()
            horizon = now + slot()
            while waiting and waiting[0][0] <= horizon:
                _, n, lane = heapq.heappop(waiting)
                # Setup calls (create, topic, invite…) do not use the posting budget: they go
                # first, so new channels are not starved while the workspace cap binds.
                call = lane.next_call()
                posting = call is not None and call[0] in POSTING and call[1] is not None
                heapq.heappush(ready, (posting, -lane.remaining(), n, lane))
            # One `now` for the whole pick: with the clock read afresh at each look, two lanes
            # already due would each look later than the other forever (a live-lock, seen at
            # high rate scales where a slot is shorter than a look takes).
            while ready:
                _, _, n, lane = heapq.heappop(ready)
                call = lane.next_call()
                if call is None:
                    continue
                when = self.ready_at(*call, now=now)
                if when <= horizon:
                    return lane
                heapq.heappush(waiting, (when, n, lane))  # a shared bucket moved meanwhile
            while waiting:
                _, n, lane = heapq.heappop(waiting)
                call = lane.next_call()
                if call is None:
                    continue
                when = self.ready_at(*call, now=now)
                if waiting and when > waiting[0][0]:
                    heapq.heappush(waiting, (when, n, lane))
                    continue
                return lane
            return None

        def worker() -> None:
            nonlocal busy
            while True:
                with self._cond:
                    while True:
                        if feed is not None:
                            enqueue(feed.take())
                        more = feed is not None and feed.open
                        if not waiting and not ready and busy == 0 and not more:
                            return  # all done (maybe just past the deadline: still complete)
                        if self.stop_reason or (self.deadline is not None
                                                and self.clock.now() >= self.deadline):
                            self.stop_reason = self.stop_reason or "deadline"
                            return
                        lane = pick()
                        if lane is not None:
                            busy += 1
                            break
                        if busy == 0 and not more:
                            return
                        self._cond.wait(0.05)
                try:
                    lane.step()
                except Stopped:
                    pass  # deadline or Ctrl-C while waiting: the lane goes back, unchanged
                except BaseException as exc:  # a fatal error (auth): stop everyone
                    errors.append(exc)
                    with self._cond:
                        self.stop_reason = "fatal"
                        self._cond.notify_all()
                finally:
                    with self._cond:
                        busy -= 1
                        call = lane.next_call()
                        if call is not None:
                            now = self.clock.now()
                            when = max([now] + [self._bucket(k, now).tat
                                                for k in self.scopes(*call)])
                            heapq.heappush(waiting, (when, next(seq), lane))
                        self._cond.notify_all()

        threads = [threading.Thread(target=worker, name=f"slack-{i}", daemon=True)
                   for i in range(max(1, workers))]
        if len(threads) == 1:
            threads[0].run()  # in the caller's thread: deterministic on a fake clock
        else:
            for thread in threads:
                thread.start()
            try:
                for thread in threads:
                    while thread.is_alive():
                        thread.join(0.2)
            except KeyboardInterrupt:
                # Ctrl-C: start nothing new, let the calls in flight finish and be recorded
                # (a second Ctrl-C leaves at once; the next run looks up what was in flight).
                self.stop("interrupted")
                for thread in threads:
                    while thread.is_alive():
                        thread.join(0.2)
                raise
        if errors:
            raise errors[0]
        return (not waiting and not ready and self.stop_reason is None
                and (feed is None or (not feed.open and not feed.pending)))
