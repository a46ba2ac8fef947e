"""The frame every writing command runs in: lock the working directory, open the store,
record the run, and leave a consistent history however the run ends."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from migrate.config import Settings
from migrate.errors import EXIT_OK, EXIT_TIME_BUDGET, MigrateError
from migrate.store import RunLock, Store
from migrate.store import ledger as ledger_mod

log = logging.getLogger(__name__)


@dataclass
class RunContext:
    settings: Settings
    store: Store
    run_id: int
    lock: RunLock
    summary: dict[str, Any] = field(default_factory=dict)
    exit_code: int = EXIT_OK


@contextlib.contextmanager
def writer_run(settings: Settings, command: str) -> Iterator[RunContext]:
    """Hold the run lock for `command` (exit 4 when another process holds it).

    A lock left by a dead process is taken over; its run is marked interrupted, and ledger
    intents it left behind become in doubt (looked for in Slack before anything is re-posted)
    so nothing is posted twice.
    """
    workdir = settings.workdir_path
    lock = RunLock(workdir)
    lock.acquire(command)
    try:
        store = Store.open(workdir)
        try:
            if lock.taken_over:
                log.warning("took over the lock left by %s, which is no longer running",
                            lock.taken_over.describe())
            store.mark_abandoned_runs()
            ledger_mod.recover_interrupted(store)
            run_id = store.start_run(command)
            ctx = RunContext(settings, store, run_id, lock)
            try:
                yield ctx
            except MigrateError as exc:
                store.finish_run(run_id, "failed" if exc.exit_code != EXIT_TIME_BUDGET else "stopped",
                                 exc.exit_code, {**ctx.summary, "error": exc.one_line()})
                raise
            except BaseException as exc:
                store.finish_run(run_id, "interrupted", 130 if isinstance(exc, KeyboardInterrupt)
                                 else 1, {**ctx.summary, "error": type(exc).__name__})
                raise
            else:
                status = ("ok" if ctx.exit_code == EXIT_OK else
                          "stopped" if ctx.exit_code == EXIT_TIME_BUDGET else "partial")
                store.finish_run(run_id, status, ctx.exit_code, ctx.summary)
        finally:
            store.close()
    finally:
        lock.release()
