"""A run's phases as they really went, beside the plan's estimate of each (plan/estimate.py).

Phases: start (the process up to its first stage), export, directory (Slack's users and
channels), plan, import (setup and posting together, from the first write on), and within the
import, setup (first to last channel call) and posting (first to last post). In a run that posts while it exports they
overlap, so the phases do not add up to the total; the total is the wall time.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

SETUP_CALLS = ("conversations.create", "conversations.setPurpose", "conversations.setTopic")
POSTING_CALLS = ("chat.postMessage", "files.completeUploadExternal")
ORDER = ("start", "export", "directory", "plan", "import", "setup", "posting", "total")


def process_age() -> float | None:
    """Seconds since this process started (Linux: /proc), or None where it cannot be known."""
    try:
        with open("/proc/self/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        with open("/proc/uptime", encoding="ascii") as uptime:
            up = float(uptime.read().split()[0])
        return max(0.0, up - int(fields[19]) / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return None


class RunPhases:
    """Measures the phases of one run from `started` (time.monotonic()); with `process`, the
    run is the whole process (the CLI), whose start before `started` is the start phase."""

    def __init__(self, started: float, *, process: bool = False) -> None:
        age = process_age() if process else None
        now = time.monotonic()
        self.began = started - max(0.0, (age or 0.0) - (now - started))
        self.actual: dict[str, float] = {"start": started - self.began} if process else {}

    @contextmanager
    def timing(self, phase: str) -> Iterator[None]:
        """Adds the time spent in the block to `phase` (a phase may be timed in pieces)."""
        began = time.monotonic()
        try:
            yield
        finally:
            self.actual[phase] = self.actual.get(phase, 0.0) + time.monotonic() - began

    def finish(self, *, export_s: float | None, import_s: float | None, stats: Any) -> None:
        if export_s is not None:
            self.actual["export"] = export_s
        if import_s is not None:
            self.actual["import"] = import_s
        if stats is not None:
            self.actual["setup"] = stats.span(SETUP_CALLS)
            self.actual["posting"] = stats.span(POSTING_CALLS)
            writes = [stats.first[m] for m in SETUP_CALLS + POSTING_CALLS if m in stats.first]
            if writes:   # from the first write on: before it, the import waits for the export
                self.actual["import"] = time.monotonic() - min(writes)
        self.actual["total"] = time.monotonic() - self.began

    def compared(self, estimate: dict[str, float] | None) -> dict[str, dict[str, float | None]]:
        """{phase: {"estimate": s, "actual": s}} in the run's order; an estimate's phases
        without a measure (and the reverse) show as None."""
        estimate = dict(estimate or {})
        if estimate and "total" not in estimate:
            estimate["total"] = sum(estimate.get(p, 0.0) for p in ORDER[:5])
        return {phase: {"estimate": _round(estimate.get(phase)),
                        "actual": _round(self.actual.get(phase))}
                for phase in ORDER if phase in estimate or phase in self.actual}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
