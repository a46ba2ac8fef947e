"""Server-side rate limiting for the emulators: token buckets keyed by any hashable scope.

The emulators answer 429 when a bucket is empty, with a Retry-After telling exactly when one
token will be available again (a decimal when the rate scale makes it fractional: the project's
clients read Retry-After as integer or decimal seconds, or as an HTTP date). Rates are per
second and already multiplied by the rate scale.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Hashable


class TokenBucket:
    """A bucket refilled at `rate` tokens/s holding at most `burst` tokens."""

    __slots__ = ("rate", "burst", "tokens", "stamp")

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate = rate
        self.burst = max(1.0, burst)
        self.tokens = self.burst
        self.stamp = now

    def _refill(self, now: float) -> None:
        if now > self.stamp:
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now

    def wait_time(self, now: float) -> float:
        """Seconds until one token is available (0 when one is available now)."""
        self._refill(now)
        if self.tokens >= 1.0:
            return 0.0
        return (1.0 - self.tokens) / self.rate

    def take(self, now: float) -> None:
        self._refill(now)
        self.tokens -= 1.0


class RateLimiter:
    """Buckets for many scopes; `check` takes one token from every scope or from none.

    A request is counted against several scopes at once (a channel read costs the channel,
    its team and the tenant); it is admitted only when all of them have a token, so a refused
    request consumes nothing — like the real services, which count admitted requests.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[Hashable, TokenBucket] = {}
        self._lock = threading.Lock()

    def check(self, scopes: list[tuple[Hashable, float, float]]) -> float:
        """Admit a request costing one token in each (key, rate, burst) scope.

        Returns 0.0 when admitted, otherwise the seconds to wait before retrying.
        A rate of 0 or less means unlimited.
        """
        now = self._clock()
        with self._lock:
            buckets = []
            for key, rate, burst in scopes:
                if rate <= 0 or math.isinf(rate):
                    continue
                bucket = self._buckets.get(key)
                if bucket is None or bucket.rate != rate:
                    bucket = self._buckets[key] = TokenBucket(rate, burst, now)
                buckets.append(bucket)
            wait = max((b.wait_time(now) for b in buckets), default=0.0)
            if wait > 0:
                return wait
            for bucket in buckets:
                bucket.take(now)
            return 0.0

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()


def format_retry_after(seconds: float) -> str:
    """Retry-After as the emulators send it: whole seconds when ≥ 1, else a short decimal.

    The real services send integers; at a rate scale the wait is often below a second, and
    rounding it up to 1 would make every scaled test wait far longer than the real ratio.
    """
    if seconds >= 1:
        return str(math.ceil(seconds))
    return f"{max(seconds, 0.001):.3f}"
