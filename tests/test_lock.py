"""The run lock: one writer per working directory, exit 4 for the second, dead holders taken over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from migrate.config import load_settings
from migrate.errors import EXIT_LOCKED, LockedError, MigrateError
from migrate.store import RunLock, Store, ledger
from migrate.store.runtime import writer_run

from .conftest import ROOT

HOLDER = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {root!r})
    from migrate.config import load_settings
    from migrate.store.runtime import writer_run
    from migrate.store import ledger
    settings = load_settings(None, environ={{}}, flags={{"workdir": {workdir!r}}})
    with writer_run(settings, "sync") as ctx:
        ledger.intent(ctx.store, "post:C:1:0", "post", run_id=ctx.run_id)
        print("holding", flush=True)
        time.sleep(60)
""")


def hold_lock(workdir) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER.format(root=str(ROOT), workdir=str(workdir))],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "holding"
    return proc


def test_second_writer_is_refused_naming_the_holder_then_dead_holder_is_taken_over(tmp_path):
    proc = hold_lock(tmp_path)
    try:
        settings = load_settings(None, environ={}, flags={"workdir": str(tmp_path)})
        with pytest.raises(LockedError) as info, writer_run(settings, "run"):
            pass
        line = info.value.one_line()
        assert info.value.exit_code == EXIT_LOCKED == 4
        assert f"pid {proc.pid}" in line and "`migrate sync`" in line and "since 20" in line
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    # The holder died by SIGKILL mid-call: its lock is taken over, its run marked interrupted,
    # and the intent it left is now in doubt (never silently re-posted).
    with writer_run(settings, "run") as ctx:
        assert ctx.lock.taken_over is not None and ctx.lock.taken_over.pid == proc.pid
        assert ledger.get(ctx.store, "post:C:1:0")["state"] == "in_doubt"
        runs = {r["command"]: r["status"] for r in ctx.store.last_runs()}
        assert runs["sync"] == "interrupted" and runs["run"] == "running"
    store = Store.open(tmp_path)
    assert store.last_runs(1)[0]["status"] == "ok"


def test_clean_release_leaves_no_holder_behind(tmp_path):
    lock = RunLock(tmp_path)
    lock.acquire("export")
    assert oct(os.stat(lock.path).st_mode)[-3:] == "600"
    lock.release()
    again = RunLock(tmp_path)
    again.acquire("export")
    assert again.taken_over is None
    again.release()


def test_failed_run_is_recorded_with_its_error(tmp_path):
    settings = load_settings(None, environ={}, flags={"workdir": str(tmp_path)})
    with pytest.raises(MigrateError), writer_run(settings, "run"):
        raise MigrateError("Slack token revoked")
    last = Store.open(tmp_path).last_runs(1)[0]
    assert last["status"] == "failed" and "Slack token revoked" in last["summary"]


def test_lock_is_free_again_after_holder_exits_normally(tmp_path):
    proc = hold_lock(tmp_path)
    proc.send_signal(signal.SIGTERM)
    proc.wait()
    deadline = time.monotonic() + 5
    lock = RunLock(tmp_path)
    while True:
        try:
            lock.acquire("run")
            break
        except LockedError:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    lock.release()
