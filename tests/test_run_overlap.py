"""`migrate run --yes` posts while it exports: a team's channels go to Slack as soon as the team
is exported and planned, not after the whole tenant — and still exactly once, in order."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import time

from migrate.sandbox.runner import start_sandbox

from .conftest import run_migrate, slack_posts


def test_posting_starts_while_the_export_still_reads_and_nothing_is_posted_twice(tmp_path):
    with start_sandbox(rate_scale=50) as sandbox:
        sandbox.graph.latency = 0.03   # each Graph answer takes a while, as the real one does
        sandbox.slack.rate_scale = 400.0   # posting as fast as this machine can: the reading is
        env = {**sandbox.env(), "MIGRATE_WORKDIR": str(tmp_path),  # what must overlap it
               "MIGRATE_SLACK_RATE_SCALE": "400"}
        result = run_migrate("--json", "run", "--yes", env=env, timeout=300)
        assert result.returncode == 0, result.stderr[-2000:]
        state = sandbox.slack.state()
        again = run_migrate("--json", "sync", env=env, timeout=300)
        assert again.returncode == 0, again.stderr[-2000:]
        after = sandbox.slack.state()
    doc = json.loads(result.stdout)
    assert doc["run"]["posts_done"] == doc["plan"]["messages"]["posts"] > 0

    with sqlite3.connect(tmp_path / "state.db") as db:
        summary = json.loads(db.execute("SELECT summary FROM runs WHERE command = 'run' "
                                        "ORDER BY id LIMIT 1").fetchone()[0])
    assert summary["overlapped"] is True
    ended = summary["export"]["ended_at"]
    export_end = dt.datetime.fromisoformat(ended.replace("Z", "+00:00")).timestamp()
    posts = slack_posts(state)
    first = min(float(m["ts"]) for found in posts.values() for m in found)
    assert first < export_end, "nothing was posted before the export ended"

    # Exactly once, and the sync after it finds nothing to add.
    assert all(len(found) == 1 for found in posts.values())
    assert slack_posts(after).keys() == posts.keys()
    assert all(len(found) == 1 for found in slack_posts(after).values())


def test_max_duration_stops_the_export_too_and_the_next_run_finishes_exactly_once(tmp_path):
    with start_sandbox(rate_scale=50) as sandbox:
        sandbox.graph.latency = 0.6    # the export alone takes far longer than the budget
        env = {**sandbox.env(), "MIGRATE_WORKDIR": str(tmp_path)}
        began = time.monotonic()
        stopped = run_migrate("--json", "run", "--yes", "--max-duration", "2", env=env,
                              timeout=300)
        took = time.monotonic() - began
        assert stopped.returncode == 75, stopped.stderr[-2000:]
        sandbox.graph.latency = 0.0
        sandbox.slack.rate_scale = sandbox.graph.rate_scale = 400.0  # the rest quickly: both
        env["MIGRATE_SLACK_RATE_SCALE"] = env["MIGRATE_GRAPH_RATE_SCALE"] = "400"  # sides agree
        again = run_migrate("--json", "run", "--yes", env=env, timeout=300)
        assert again.returncode == 0, again.stderr[-2000:]
        state = sandbox.slack.state()
    assert took < 8, f"the export ran on past --max-duration ({took:.1f} s)"
    doc = json.loads(again.stdout)
    assert doc["run"]["posts_done"] + json.loads(stopped.stdout)["run"]["posts_done"] \
        == doc["plan"]["messages"]["posts"]
    assert all(len(found) == 1 for found in slack_posts(state).values())
