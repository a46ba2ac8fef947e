"""Progress display for long stages: rich bars on a terminal, plain periodic log lines
otherwise (CI logs), both on stderr."""

from __future__ import annotations

import threading
import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from migrate.export.exporter import ExportProgress
from migrate.load.scheduler import SchedulerStats


class ExportDisplay(ExportProgress):
    """`live=False`: plain lines even on a terminal (while the import's bars are live: rich
    shows one live display at a time, and lines print above it)."""

    def __init__(self, console: Console, interval: float = 10.0, *, live: bool = True) -> None:
        self.console = console
        self.interactive = console.is_terminal and live
        self.interval = interval
        self._lock = threading.Lock()
        self.teams_total = self.teams_done = self.channels = 0
        self.message_count = 0
        self.files_total = self.files_done = 0
        self.started = time.monotonic()
        self._last_line = 0.0
        self.client_stats = None  # set by the caller to show throttling figures
        if self.interactive:
            self._progress = Progress(
                TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[detail]}"), TimeElapsedColumn(), console=console,
                transient=False)
            self._teams = self._progress.add_task("teams", total=None, detail="")
            self._messages = self._progress.add_task("messages", total=None, detail="")
            self._files = self._progress.add_task("files", total=None, detail="", visible=False)

    def __enter__(self) -> ExportDisplay:
        if self.interactive:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.interactive:
            self._refresh()
            self._progress.stop()
        else:
            self._plain(force=True)

    # -- callbacks -----------------------------------------------------------------------

    def attach(self, stats: object) -> None:
        self.client_stats = stats

    def teams_found(self, total: int) -> None:
        self.teams_total = total
        self._refresh()

    def team_done(self, name: str) -> None:
        with self._lock:
            self.teams_done += 1
        self._refresh()

    def channels_found(self, count: int) -> None:
        with self._lock:
            self.channels += count

    def messages(self, new: int, updated: int) -> None:
        with self._lock:
            self.message_count += new + updated
        self._refresh()

    def files_found(self, total: int) -> None:
        self.files_total = total
        self._refresh()

    def file_done(self, status: str, size: int) -> None:
        with self._lock:
            self.files_done += 1
        self._refresh()

    # -- rendering -----------------------------------------------------------------------

    def _rate(self) -> float:
        return self.message_count / max(0.001, time.monotonic() - self.started)

    def _throttle(self) -> str:
        stats = self.client_stats
        if stats is None:
            return ""
        return f"{stats.throttled} throttled, {stats.throttle_wait:.1f}s waited on 429s"

    def _refresh(self) -> None:
        if not self.interactive:
            self._plain()
            return
        p = self._progress
        p.update(self._teams, total=self.teams_total or None, completed=self.teams_done,
                 detail=f"{self.channels} channels")
        p.update(self._messages, completed=self.message_count,
                 detail=f"{self._rate():,.0f} msg/s  {self._throttle()}")
        if self.files_total:
            p.update(self._files, total=self.files_total, completed=self.files_done, visible=True)

    def _plain(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_line < self.interval:
            return
        self._last_line = now
        self.console.print(
            f"export: teams {self.teams_done}/{self.teams_total}, channels {self.channels}, "
            f"messages {self.message_count} ({self._rate():,.0f}/s), files {self.files_done}/"
            f"{self.files_total}; {self._throttle()}", highlight=False)


def lane_label(name: str, width: int = 28) -> str:
    """A channel's label in a bar: whole when it fits, else its start and its end around an
    ellipsis — channels of one team share their start, so cutting the end alone made two rows
    read the same (`#engineering-platform-backe…` twice)."""
    label = f"#{name}"
    if len(label) <= width:
        return label
    tail = (width - 1) // 2
    return f"{label[:width - 1 - tail]}…{label[-tail:]}"


class ImportDisplay:
    """`migrate run` progress: overall and per channel (the busiest ones), messages/s, ETA and
    time spent throttled. Plain lines every `interval` seconds when not a terminal."""

    SHOWN = 8  # channel bars at once; finished ones make room

    def __init__(self, console: Console, interval: float = 10.0) -> None:
        self.console = console
        self.interactive = console.is_terminal
        self.interval = interval
        self._lock = threading.Lock()
        self.totals: dict[str, int] = {}
        self.done: dict[str, int] = {}
        self.already = 0
        self.started = time.monotonic()
        self._last_line = 0.0
        self.stats: SchedulerStats | None = None   # the scheduler's, once an import starts
        self._tasks: dict[str, int] = {}
        self._live = False
        if self.interactive:
            self._progress = Progress(
                TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[detail]}"), TimeElapsedColumn(), console=console)
            self._overall = self._progress.add_task("all channels", total=None, detail="")

    def watch(self, stats: SchedulerStats) -> None:
        self.stats = stats

    def __enter__(self) -> ImportDisplay:
        return self  # the bars start with the first lane, after any confirmation prompt

    def __exit__(self, *exc: object) -> None:
        if self.interactive and self._live:
            self._refresh()
            self._progress.stop()
        elif self.totals:
            self._plain(force=True)

    def lanes(self, totals: dict[str, int], done: dict[str, int]) -> None:
        with self._lock:
            self.totals = dict(totals)
            self.done = {name: done.get(name, 0) for name in totals}
            self.already = sum(self.done.values())   # by earlier runs: not this run's rate
            self.started = time.monotonic()
        if self.interactive and not self._live:
            self._progress.start()
            self._live = True
        self._refresh()

    def add_lane(self, name: str, total: int, done: int) -> None:
        """A channel planned while the import runs (its export came in later)."""
        if not self.totals:
            self.lanes({name: total}, {name: done})
            return
        with self._lock:
            self.totals[name] = total
            self.done[name] = done
            self.already += done
        self._refresh()

    def advance(self, channel: str, n: int = 1) -> None:
        if not self.totals:
            return  # lanes skipping what earlier runs did, before `lanes` counts it for them
        with self._lock:
            self.done[channel] = self.done.get(channel, 0) + n
        self._refresh()

    def _figures(self) -> str:
        total, done = sum(self.totals.values()), sum(self.done.values())
        elapsed = max(0.001, time.monotonic() - self.started)
        rate = (done - self.already) / elapsed
        eta = (total - done) / rate if rate > 0 else 0.0
        throttled = ""
        if self.stats is not None:
            throttled = (f"  {sum(self.stats.ratelimited.values())} × 429, "
                         f"{self.stats.throttled_s:.1f}s throttled")
        return f"{rate:,.1f} items/s  ETA {eta:,.0f}s{throttled}"

    def _refresh(self) -> None:
        if not self.interactive:
            self._plain()
            return
        with self._lock:
            p = self._progress
            p.update(self._overall, total=sum(self.totals.values()) or None,
                     completed=sum(self.done.values()), detail=self._figures())
            active = [c for c, t in self.totals.items() if 0 < self.done.get(c, 0) < t]
            for name in list(self._tasks):
                if self.done.get(name, 0) >= self.totals.get(name, 0):
                    p.remove_task(self._tasks.pop(name))
            for name in active:
                if name not in self._tasks and len(self._tasks) < self.SHOWN:
                    self._tasks[name] = p.add_task(lane_label(name), total=self.totals[name],
                                                   detail="")
                if name in self._tasks:
                    p.update(self._tasks[name], completed=self.done[name])

    def _plain(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_line < self.interval:
            return
        self._last_line = now
        with self._lock:
            total, done = sum(self.totals.values()), sum(self.done.values())
            channels = sum(1 for c, t in self.totals.items() if self.done.get(c, 0) >= t)
            self.console.print(f"run: {done}/{total} messages and files, {channels}/"
                               f"{len(self.totals)} channels complete; {self._figures()}",
                               highlight=False)
