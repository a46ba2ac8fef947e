"""Progress display for long stages: rich bars on a terminal, plain periodic log lines
otherwise (CI logs), both on stderr."""

from __future__ import annotations

import threading
import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from migrate.graph.export import ExportProgress


class ExportDisplay(ExportProgress):
    def __init__(self, console: Console, interval: float = 10.0) -> None:
        self.console = console
        self.interactive = console.is_terminal
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
