"""Lanes handed to a running scheduler (Scheduler.run's `feed`): a channel ready to post joins
while others are still being exported."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from migrate.load.scheduler import Lane


class LaneFeed:
    """Lanes handed to a running scheduler from another thread (`add`), until `close`."""

    def __init__(self) -> None:
        self._lanes: list[Lane] = []
        self.open = True
        self._cond: threading.Condition | None = None
        self._lock = threading.Lock()

    def attach(self, cond: threading.Condition) -> None:
        with self._lock:
            self._cond = cond
        self._wake()

    def add(self, lane: Lane) -> None:
        with self._lock:
            self._lanes.append(lane)
        self._wake()

    def close(self) -> None:
        with self._lock:
            self.open = False
        self._wake()

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._lanes)

    def take(self) -> list[Lane]:
        with self._lock:
            lanes, self._lanes = self._lanes, []
        return lanes

    def _wake(self) -> None:
        cond = self._cond
        if cond is not None:
            with cond:
                cond.notify_all()
