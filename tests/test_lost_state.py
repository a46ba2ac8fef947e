"""A lost working directory never doubles a migration: `sync`/`run` from an empty workdir find
our channels and posts in Slack, refuse (exit 2) before any write, and `migrate adopt`
rebuilds the ledger from Slack's metadata so the next run carries on exactly once."""

from __future__ import annotations

import json

import pytest

from migrate.sandbox.runner import start_sandbox

from .conftest import run_migrate, slack_posts

SCALE = "400"


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    first = tmp_path_factory.mktemp("first")
    with start_sandbox(rate_scale=float(SCALE)) as sandbox:
        env = {**sandbox.env(), "MIGRATE_WORKDIR": str(first)}
        done = run_migrate("run", "--yes", env=env, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        yield sandbox, tmp_path_factory


def _post_writes(sandbox) -> int:
    by_method = sandbox.slack.counters()["calls"]
    return sum(n for m, n in by_method.items() if m in ("chat.postMessage", "conversations.create",
                                                        "files.completeUploadExternal"))


def test_a_sync_from_an_empty_workdir_refuses_before_writing(migrated):
    sandbox, factory = migrated
    lost = factory.mktemp("lost")
    channels_before = len(sandbox.slack.state()["channels"])
    sandbox.slack.reset_counters()
    result = run_migrate("sync", env={**sandbox.env(), "MIGRATE_WORKDIR": str(lost)}, timeout=300)
    assert result.returncode == 2, result.stderr[-2000:]
    assert sandbox.slack.counters()["writes"] == 0
    assert len(sandbox.slack.state()["channels"]) == channels_before
    error = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(error) == 1
    assert "state is missing" in error[0] and str(lost / "state.db") in error[0]
    assert "migrate adopt" in error[0]


def test_adopt_rebuilds_the_ledger_and_the_next_run_posts_nothing_twice(migrated):
    sandbox, factory = migrated
    lost = factory.mktemp("adopt")
    env = {**sandbox.env(), "MIGRATE_WORKDIR": str(lost)}
    before_state = sandbox.slack.state()
    posts_before = slack_posts(before_state)
    channels_before = len(before_state["channels"])
    adopted = run_migrate("--json", "adopt", env=env, timeout=300)
    assert adopted.returncode == 0, adopted.stderr[-2000:]
    summary = json.loads(adopted.stdout)
    assert summary["posts"] > 0 and summary["channels"] > 0 and summary["duplicates"] == 0
    sandbox.slack.reset_counters()
    again = run_migrate("--json", "run", "--yes", "--no-export", env=env, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    assert _post_writes(sandbox) == 0          # no post, no file, no channel made again
    # Nor a purpose or topic set again (Slack would add a line to the channel), nor anyone
    # invited who is already in: only the people Slack refused before (guests, deactivated —
    # adopt cannot know why they are absent) are asked again, and nothing changes in Slack.
    calls = sandbox.slack.counters()["calls"]
    assert not {"conversations.setPurpose", "conversations.setTopic"} & set(calls), calls
    state = sandbox.slack.state()
    members_before = {c["id"]: sorted(c.get("members") or []) for c in before_state["channels"]}
    assert {c["id"]: sorted(c.get("members") or []) for c in state["channels"]} == members_before
    assert len(state["channels"]) == channels_before
    after = slack_posts(state)
    assert set(after) == set(posts_before) and all(len(v) == 1 for v in after.values())
    verify = run_migrate("verify", env=env, timeout=300)
    assert verify.returncode == 0, verify.stderr[-2000:]


def test_require_state_refuses_an_empty_workdir_before_reading_anything(tmp_path):
    result = run_migrate("sync", "--require-state", env={"MIGRATE_WORKDIR": str(tmp_path / "wd")})
    assert result.returncode == 2
    assert "no state from an earlier run" in result.stderr and "migrate adopt" in result.stderr
    assert not (tmp_path / "wd" / "state.db").exists()
