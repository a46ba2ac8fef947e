"""The operator's contract, as an audit found it broken: a disk that fills while the state is
created, `<bool>` beside --help, an unreachable Graph — each a one-line error with its code."""

from __future__ import annotations

import socket
import sqlite3

import pytest

from migrate.errors import MigrateError
from migrate.sandbox.runner import start_sandbox
from migrate.store import Store
from migrate.store import db as store_db

from .conftest import run_migrate


def test_a_full_disk_while_the_state_is_created_is_an_operator_error_not_a_bug(
        tmp_path, monkeypatch):
    # SQLite rolls the transaction back itself on SQLITE_FULL; a second ROLLBACK used to raise
    # "cannot rollback - no transaction is active" and hide the cause behind exit 70.
    real_connect = store_db.Store._connect

    class FullDisk:
        def __init__(self, conn):
            self._conn = conn

        def execute(self, sql, *args):
            if sql.strip().upper() == "COMMIT":
                self._conn.execute("ROLLBACK")
                raise sqlite3.OperationalError("database or disk is full")
            return self._conn.execute(sql, *args)

        def __getattr__(self, name):
            return getattr(self._conn, name)

    monkeypatch.setattr(store_db.Store, "_connect",
                        staticmethod(lambda path: FullDisk(real_connect(path))))
    with pytest.raises(MigrateError) as caught:
        Store.open(tmp_path / "wd")
    assert "full" in str(caught.value).lower() and caught.value.exit_code == 2


@pytest.mark.parametrize("args", [(), ("run",), ("plan",), ("plan", "diff"), ("sync",),
                                  ("init",), ("demo",)])
def test_help_shows_no_type_beside_any_flag(args):
    shown = run_migrate(*args, "--help")
    assert shown.returncode == 0 and "--help" in shown.stdout
    assert "<bool>" not in shown.stdout and "<int>" not in shown.stdout


def test_an_unreachable_graph_is_one_line_and_exit_2(tmp_path):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with start_sandbox(rate_scale=400) as sandbox:
        env = {**sandbox.env(), "MIGRATE_WORKDIR": str(tmp_path),
               "MIGRATE_GRAPH_URL": f"http://127.0.0.1:{port}/v1.0"}
        result = run_migrate("export", env=env, timeout=300)
    assert result.returncode == 2, result.stderr[-1500:]
    assert "Graph is unreachable at" in result.stderr and "Traceback" not in result.stderr


def test_plan_without_export_prints_no_export_line(tmp_path):
    with start_sandbox(rate_scale=400) as sandbox:
        env = {**sandbox.env(), "MIGRATE_WORKDIR": str(tmp_path)}
        assert run_migrate("export", env=env, timeout=300).returncode == 0
        result = run_migrate("plan", "--no-export", env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-1500:]
    lines = result.stderr.splitlines()
    assert not any(line.startswith(("export:", "Exported")) for line in lines), result.stderr
    assert all(line.strip() for line in lines[:-1]), "an empty line in the summary"


def test_run_off_a_terminal_without_yes_proceeds_and_names_where_it_wrote(tmp_path):
    import os
    import subprocess
    import sys

    from .conftest import ROOT

    with start_sandbox(rate_scale=400) as sandbox:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATE_")}
        env.update({**sandbox.env(), "MIGRATE_WORKDIR": str(tmp_path), "PYTHONPATH": str(ROOT)})
        result = subprocess.run([sys.executable, "-m", "migrate", "run"],
                                stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                env=env, timeout=300)
        assert result.returncode == 0, result.stderr[-1500:]
        assert sandbox.slack.counters()["writes"] > 0
    assert "Written to: Slack workspace Northwind Labs" in result.stderr
    assert "source: Microsoft Teams tenant" in result.stderr
