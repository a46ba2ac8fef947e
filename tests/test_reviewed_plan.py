"""Reviewed plans, as Terraform does them: `plan --detailed-exitcode` for CI gates, `run --plan
FILE` executing exactly what was approved, `plan diff`."""

from __future__ import annotations

import json

import pytest

from migrate.sandbox.runner import start_sandbox

from .conftest import run_migrate


@pytest.fixture(scope="module")
def sandbox():
    with start_sandbox(rate_scale=400) as running:
        yield running


def env_of(sandbox, workdir) -> dict[str, str]:
    return {**sandbox.env(), "MIGRATE_WORKDIR": str(workdir)}


def test_detailed_exitcode_says_whether_changes_are_pending(sandbox, tmp_path):
    env = env_of(sandbox, tmp_path)
    before = run_migrate("--json", "plan", "--detailed-exitcode", env=env, timeout=300)
    assert before.returncode == 2, before.stderr[-2000:]
    pending = json.loads(before.stdout)["summary"]["pending"]
    assert pending["posts"] > 0 and pending["channels to create"] > 0
    assert pending["members to invite"] > 0
    assert "Pending in Slack: " in run_migrate("plan", "--no-export", env=env).stderr

    ran = run_migrate("run", "--yes", env=env, timeout=300)
    assert ran.returncode == 0, ran.stderr[-2000:]
    after = run_migrate("--json", "plan", "--detailed-exitcode", env=env, timeout=300)
    assert after.returncode == 0, after.stderr[-2000:]
    assert json.loads(after.stdout)["summary"]["pending"] == {}
    plain = run_migrate("plan", "--no-export", env=env, timeout=300)
    assert plain.returncode == 0 and "Pending in Slack: no changes" in plain.stderr

    # A new message in Teams is a change pending again.
    channel = next(c for c in json.loads(after.stdout)["channels"] if c["action"] != "skip")
    sandbox.graph.add_message(channel["team_id"], channel["teams_channel_id"], {
        "body": {"contentType": "text", "content": "one more"}})
    again = run_migrate("--json", "plan", "--detailed-exitcode", env=env, timeout=300)
    assert again.returncode == 2, again.stderr[-2000:]
    assert json.loads(again.stdout)["summary"]["pending"] == {"posts": 1}


def test_detailed_exitcode_turns_every_error_into_one(tmp_path):
    env = {"MIGRATE_WORKDIR": str(tmp_path), "MIGRATE_SLACK_TOKEN": "xoxb-x",
           "MIGRATE_SLACK_URL": "http://127.0.0.1:9/api/"}
    failed = run_migrate("plan", "--detailed-exitcode", env=env, timeout=120)
    assert failed.returncode == 1, failed.stderr
    assert "Traceback" not in failed.stderr and failed.stderr.count("\n") <= 3
    plain = run_migrate("plan", env=env, timeout=120)
    assert plain.returncode == 2          # without the flag, its own code (unreachable)
