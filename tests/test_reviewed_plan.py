"""Reviewed plans, as Terraform does them: `plan --detailed-exitcode` for CI gates, `run --plan
FILE` executing exactly what was approved, `plan diff`."""

from __future__ import annotations

import json

import pytest

from migrate.sandbox.runner import start_sandbox

from .conftest import run_migrate


@pytest.fixture
def sandbox():
    """A fresh sandbox per test: each migrates into its own Slack."""
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


def test_the_reviewed_plan_flow_end_to_end(sandbox, tmp_path):
    """approve → run exactly → altered refused → stale refused → --refresh."""
    env = env_of(sandbox, tmp_path / "work")
    planned = run_migrate("plan", env=env, timeout=300)
    assert planned.returncode == 0, planned.stderr[-2000:]
    approved = tmp_path / "approved.json"
    approved.write_bytes((tmp_path / "work" / "reports" / "plan.json").read_bytes())

    # Altered after review: refused before anything is written, saying what differs.
    altered = tmp_path / "altered.json"
    text = approved.read_text(encoding="utf-8")
    doc = json.loads(text)
    victim = next(c for c in doc["channels"] if c["action"] == "create")
    altered.write_text(text.replace(json.dumps(victim["slack_name"]),
                                    json.dumps("not-what-was-approved"), 1), encoding="utf-8")
    writes = sandbox.slack.counters()["writes"]
    refused = run_migrate("run", "--yes", "--plan", str(altered), env=env, timeout=300)
    assert refused.returncode == 2, refused.stderr[-2000:]
    assert "was changed after `migrate plan` wrote it" in refused.stderr
    assert "not-what-was-approved" in refused.stderr            # what differs is named
    assert sandbox.slack.counters()["writes"] == writes

    # The approved plan, with nothing moved: executed, exactly.
    ran = run_migrate("--json", "run", "--yes", "--plan", str(approved), env=env, timeout=300)
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert json.loads(ran.stdout)["run"]["posts_done"] == doc["summary"]["messages"]["posts"]
    assert list((tmp_path / "work" / "reports").glob("approved-*.json"))

    # The source moves past the plan: refused, the change named, nothing written.
    channel = next(c for c in doc["channels"] if c["action"] != "skip")
    sandbox.graph.add_message(channel["team_id"], channel["teams_channel_id"], {
        "body": {"contentType": "text", "content": "written after the review"}})
    writes = sandbox.slack.counters()["writes"]
    stale = run_migrate("run", "--yes", "--plan", str(approved), env=env, timeout=300)
    assert stale.returncode == 2, stale.stderr[-2000:]
    assert "the source has moved past the reviewed plan" in stale.stderr
    assert "posts listed" in stale.stderr or "messages to post" in stale.stderr
    assert sandbox.slack.counters()["writes"] == writes

    # --refresh shows the difference and runs the plan as it is now.
    refreshed = run_migrate("--json", "run", "--yes", "--plan", str(approved), "--refresh",
                            env=env, timeout=300)
    assert refreshed.returncode == 0, refreshed.stderr[-2000:]
    assert "messages to post" in refreshed.stderr or "posts listed" in refreshed.stderr
    assert json.loads(refreshed.stdout)["run"]["posts_done"] == 1


def test_plan_diff_names_what_changed(sandbox, tmp_path):
    env = env_of(sandbox, tmp_path / "work")
    assert run_migrate("plan", env=env, timeout=300).returncode == 0
    old = tmp_path / "old.json"
    old.write_bytes((tmp_path / "work" / "reports" / "plan.json").read_bytes())
    same = run_migrate("plan", "diff", str(old), str(old), env=env)
    assert same.returncode == 0 and "No changes" in same.stdout

    doc = json.loads(old.read_text(encoding="utf-8"))
    channel = next(c for c in doc["channels"] if c["action"] != "skip")
    sandbox.graph.add_message(channel["team_id"], channel["teams_channel_id"], {
        "body": {"contentType": "text", "content": "new since the old plan"}})
    sandbox.graph.update_channel(channel["team_id"], channel["teams_channel_id"],
                                 {"description": "A purpose set after the review"})
    assert run_migrate("plan", env=env, timeout=300).returncode == 0
    new = tmp_path / "work" / "reports" / "plan.json"
    lines = run_migrate("plan", "diff", str(old), str(new), env=env)
    assert lines.returncode == 2, lines.stderr
    assert f"~ channel #{channel['slack_name']}" in lines.stdout
    assert "purpose" in lines.stdout and "posts" in lines.stdout
    as_json = run_migrate("plan", "diff", str(old), str(new), "--json", env=env)
    diff = json.loads(as_json.stdout)
    assert diff["identical"] is False
    changed = {c["teams_channel_id"]: c["fields"] for c in diff["channels"]["changed"]}
    fields = changed[channel["teams_channel_id"]]
    assert fields["posts"][1] == fields["posts"][0] + 1
    assert fields["purpose"][1] == "A purpose set after the review"
    assert diff["counts"]["posts"] == [doc["summary"]["messages"]["posts"],
                                       doc["summary"]["messages"]["posts"] + 1]
