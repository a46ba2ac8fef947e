"""How the export's reads share threads: a fixed number of jobs, each taking the next team
when it is done with one, rather than a thread per team (each costs memory: its connection,
its allocator's caches)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

Json = dict[str, Any]


class _Shared:
    """Items handed out one at a time to the workers that ask."""

    def __init__(self, items: list[Json]) -> None:
        self._items = iter(items)
        self._lock = threading.Lock()

    def next(self) -> Json | None:
        with self._lock:
            return next(self._items, None)


def run_jobs(jobs: list[Callable[[], None]]) -> None:
    """Every job at once, each on its own thread (the callers bound their number)."""
    if not jobs:
        return
    with ThreadPoolExecutor(max_workers=len(jobs), thread_name_prefix="graph-team") as pool:
        for future in [pool.submit(job) for job in jobs]:
            future.result()


def share_out(teams: list[Json], read: Callable[[Json], None], count: int
              ) -> list[Callable[[], None]]:
    """`count` jobs sharing these teams out, each taking the next one when done."""
    shared = _Shared(teams)

    def worker() -> None:
        while (team := shared.next()) is not None:
            read(team)

    return [worker] * min(count, len(teams))
