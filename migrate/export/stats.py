"""What the Graph client counts as it goes: requests by kind, throttling and retries, bytes
downloaded, and each kind's recent round trip (the export's pacing and estimate read it)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class GraphStats:
    requests: int = 0
    throttled: int = 0
    retried: int = 0
    throttle_wait: float = 0.0   # seconds spent waiting on Retry-After / backoff after 429
    bytes_downloaded: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    # Seconds from sending a request to its answer's headers, a moving average per kind.
    round_trips: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **deltas: float) -> None:
        with self.lock:
            for name, delta in deltas.items():
                setattr(self, name, getattr(self, name) + delta)

    def count(self, kind: str) -> None:
        with self.lock:
            self.requests += 1
            self.by_kind[kind] = self.by_kind.get(kind, 0) + 1

    def took(self, kind: str, seconds: float) -> None:
        with self.lock:
            before = self.round_trips.get(kind)
            self.round_trips[kind] = seconds if before is None else 0.8 * before + 0.2 * seconds

    def round_trip(self, kind: str, default: float = 0.5) -> float:
        """The recent round trip of `kind` requests (`default` before the first answer)."""
        return self.round_trips.get(kind, default)
