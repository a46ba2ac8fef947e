"""Exit codes mean one thing (DESIGN §4.3), command by command: a credential not set is
configuration (2, naming the variable), set but refused is 3, a host that cannot be reached is
2 and says "unreachable", and the machine's own problems (a workdir that is a file, a full or
read-only disk) are one line naming the path, exit 2 — never "internal error … report it"."""

from __future__ import annotations

import errno
import socket
import sqlite3

import pytest

from migrate.sandbox.runner import start_sandbox
from migrate.ui.app import operator_problem as _operator_problem

from .conftest import run_migrate


@pytest.fixture(scope="module")
def sandbox():
    with start_sandbox(rate_scale=100) as running:
        yield running


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _one_error_line(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.startswith("migrate: error:")]
    assert len(lines) == 1, result.stderr[-2000:]
    assert "internal error" not in lines[0] and "Traceback" not in result.stderr
    return lines[0]


SLACK_COMMANDS = [["plan"], ["run", "--yes"], ["sync"], ["verify"], ["adopt"]]


@pytest.mark.parametrize("args", SLACK_COMMANDS, ids=lambda a: a[0])
def test_slack_token_not_set_is_configuration(args, sandbox, tmp_path):
    env = {**sandbox.env(), "MIGRATE_WORKDIR": str(tmp_path)}
    env.pop("MIGRATE_SLACK_TOKEN")
    result = run_migrate(*args, env=env)
    assert result.returncode == 2
    assert "MIGRATE_SLACK_TOKEN is not set" in _one_error_line(result)


@pytest.mark.parametrize("args", [["export"], ["plan"], ["run", "--yes"], ["sync"]],
                         ids=lambda a: a[0])
def test_graph_credential_not_set_is_configuration(args, sandbox, tmp_path):
    env = {**sandbox.env(), "MIGRATE_WORKDIR": str(tmp_path)}
    for name in ("MIGRATE_GRAPH_TOKEN", "MIGRATE_TENANT_ID"):
        env.pop(name)
    result = run_migrate(*args, env=env)
    assert result.returncode == 2
    assert "MIGRATE_TENANT_ID" in _one_error_line(result)


@pytest.mark.parametrize("args", [["export"], ["plan"], ["sync"]], ids=lambda a: a[0])
def test_graph_credential_refused_is_3(args, sandbox, tmp_path):
    env = {**sandbox.env(), "MIGRATE_WORKDIR": str(tmp_path), "MIGRATE_GRAPH_TOKEN": "wrong"}
    result = run_migrate(*args, env=env)
    assert result.returncode == 3, result.stderr[-1500:]
    assert "wrong" not in result.stderr
    _one_error_line(result)


@pytest.mark.parametrize("args", SLACK_COMMANDS, ids=lambda a: a[0])
def test_slack_token_refused_is_3(args, sandbox, tmp_path):
    env = {**sandbox.env(), "MIGRATE_WORKDIR": str(tmp_path), "MIGRATE_SLACK_TOKEN": "xoxb-wrong"}
    result = run_migrate(*args, env=env)
    assert result.returncode == 3, result.stderr[-1500:]
    assert "xoxb-wrong" not in result.stderr
    _one_error_line(result)


@pytest.mark.parametrize("args", SLACK_COMMANDS, ids=lambda a: a[0])
def test_slack_unreachable_is_2_and_says_so(args, sandbox, tmp_path):
    env = {**sandbox.env(), "MIGRATE_WORKDIR": str(tmp_path),
           "MIGRATE_SLACK_URL": f"http://127.0.0.1:{_closed_port()}/api/"}
    result = run_migrate(*args, env=env)
    assert result.returncode == 2
    assert "unreachable" in _one_error_line(result)


def test_doctor_says_unreachable_not_credentials(sandbox, tmp_path):
    env = {**sandbox.env(), "MIGRATE_WORKDIR": str(tmp_path),
           "MIGRATE_SLACK_URL": f"http://127.0.0.1:{_closed_port()}/api/"}
    result = run_migrate("doctor", env=env)
    assert result.returncode == 2
    slack_line = next(line for line in result.stderr.splitlines() if "slack" in line and "token" in line)
    assert "unreachable" in slack_line
    not_set = {k: v for k, v in env.items() if k != "MIGRATE_SLACK_TOKEN"}
    assert run_migrate("doctor", env={**not_set, "MIGRATE_SLACK_URL": sandbox.slack.url}).returncode == 2
    refused = {**env, "MIGRATE_SLACK_URL": sandbox.slack.url, "MIGRATE_SLACK_TOKEN": "xoxb-wrong"}
    assert run_migrate("doctor", env=refused).returncode == 3


@pytest.mark.parametrize("args", [["export"], ["status"], ["run", "--yes"], ["verify"]],
                         ids=lambda a: a[0])
def test_a_workdir_that_is_a_file_is_one_line_naming_it(args, sandbox, tmp_path):
    blocker = tmp_path / "workdir"
    blocker.write_text("not a folder")
    result = run_migrate(*args, env={**sandbox.env(), "MIGRATE_WORKDIR": str(blocker)})
    assert result.returncode == 2
    assert str(blocker) in _one_error_line(result)


@pytest.mark.parametrize("exc, words", [
    (OSError(errno.ENOSPC, "No space left on device", "/wd/reports/plan.json"), "No space left"),
    (OSError(errno.EROFS, "Read-only file system", "/wd/state.db"), "read-only"),
    (PermissionError(errno.EACCES, "Permission denied", "/wd/files/x"), "write access"),
    (sqlite3.OperationalError("database or disk is full"), "disk is full"),
    (sqlite3.OperationalError("attempt to write a readonly database"), "cannot write"),
])
def test_the_machines_problems_are_named_not_called_bugs(exc, words):
    line = _operator_problem(exc)
    assert line is not None and words in line
    assert _operator_problem(ValueError("a bug")) is None


def test_the_working_directory_is_private_whatever_the_umask(sandbox, tmp_path):
    # plan.json holds the text of private channels: nobody else may read the workdir.
    import os
    import stat

    workdir = tmp_path / "wd"
    old = os.umask(0)
    try:
        result = run_migrate("plan", env={**sandbox.env(), "MIGRATE_WORKDIR": str(workdir)})
    finally:
        os.umask(old)
    assert result.returncode == 0, result.stderr[-1500:]
    assert (workdir / "reports" / "plan.json").exists()
    for path in [workdir, *workdir.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        want = 0o700 if path.is_dir() else 0o600
        assert mode & 0o077 == 0 and mode & want == want, f"{path}: {oct(mode)}"


def test_the_confirmation_names_the_target_and_no_means_nothing_done(sandbox, tmp_path):
    # Answering "no" at the prompt (a terminal on stdin) writes nothing and exits 0.
    import os
    import subprocess
    import sys

    from .conftest import ROOT

    env = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATE_")}
    env.update({**sandbox.env(), "MIGRATE_WORKDIR": str(tmp_path), "PYTHONPATH": str(ROOT)})
    master, slave = os.openpty()
    os.write(master, b"n\n")
    sandbox.slack.reset_counters()
    result = subprocess.run([sys.executable, "-m", "migrate", "run"], stdin=slave,
                            capture_output=True, text=True, env=env, timeout=120)
    os.close(master)
    os.close(slave)
    assert result.returncode == 0, result.stderr[-1500:]
    assert "Target: Slack workspace Northwind Labs" in result.stderr
    assert f"Microsoft Teams tenant {sandbox.data.graph.tenant_id}" in result.stderr
    assert "Nothing done" in result.stderr
    assert sandbox.slack.counters()["writes"] == 0


def test_a_bug_is_70_not_1_which_promises_a_retry(monkeypatch, capsys, tmp_path):
    from migrate import cli, stages

    def broken(settings):
        raise ValueError("a bug")

    monkeypatch.setattr(stages, "status", broken)
    with pytest.raises(SystemExit) as exited:
        cli.main(["status", "--workdir", str(tmp_path)])
    assert exited.value.code == 70
    err = capsys.readouterr().err
    assert "internal error: ValueError: a bug" in err and "--traceback" in err


def test_slack_errors_are_in_the_error_tree():
    from migrate.errors import MigrateError, TransientError
    from migrate.load.client import SlackOutcomeUnknown, SlackRefused, SlackUnavailable

    assert issubclass(SlackRefused, MigrateError)
    assert issubclass(SlackUnavailable, TransientError) and SlackUnavailable("m", "c").exit_code == 1
    assert issubclass(SlackOutcomeUnknown, TransientError)
