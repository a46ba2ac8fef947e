"""`migrate verify` checks the source, not only the plan: a team or channel of the tenant that
never reached Slack is a gap, and a Slack it cannot reach is a one-line error, never a verdict."""

from __future__ import annotations

import socket
import sqlite3
import time

import pytest

import migrate.plan.build as plan_module
from migrate import stages
from migrate.config import load_settings
from migrate.errors import ServiceUnreachable
from migrate.sandbox.runner import start_sandbox

from .conftest import run_migrate

DROPPED = "R&D"   # the demo's older team, the one the groups filter misses


def _settings(env: dict[str, str]):
    return load_settings(None, environ=env)


def _without_team(build_plan, team_name: str):
    """A planner with a bug: it leaves one team out."""
    def build(*args, **kwargs):
        plan = build_plan(*args, **kwargs)
        dropped = {c.teams_channel_id for c in plan.channels if c.team_name == team_name}
        plan.channels = [c for c in plan.channels if c.teams_channel_id not in dropped]
        plan.posts = [p for p in plan.posts if p.channel not in dropped]
        plan.uploads = [u for u in plan.uploads if u.channel not in dropped]
        return plan
    return build


@pytest.fixture
def sandbox():
    # One Slack per test: a second migration into the same workspace from a new working
    # directory is refused as a lost state (tests/test_lost_state.py), rightly.
    with start_sandbox(rate_scale=400) as running:
        yield running


def test_a_team_left_out_of_the_plan_fails_verify(sandbox, tmp_path, monkeypatch):
    settings = _settings({**sandbox.env(), "MIGRATE_WORKDIR": str(tmp_path)})
    stages.export(settings)
    monkeypatch.setattr(plan_module, "build_plan", _without_team(plan_module.build_plan, DROPPED))
    outcome = stages.run(settings)
    assert outcome.exit_code == 0                      # the run did all its plan asked

    report, paths = stages.verify(settings)            # the plan still lacks the team
    assert not report.ok
    assert report.source == "graph"
    gaps = [c for c in report.channels if c.gap]
    r_and_d = {c.name for c in gaps}
    assert r_and_d and all(name.startswith(f"{DROPPED} › ") for name in r_and_d)
    assert all("not in the plan" in c.gap for c in gaps)
    assert report.totals()["channel_gaps"] == len(gaps)
    assert "teams not in Slack" in paths["md"].read_text()

    monkeypatch.undo()                                  # a correct plan: planned, not in Slack
    report, _ = stages.verify(settings)
    assert not report.ok
    assert {c.gap for c in report.channels if c.gap} == {
        "planned, but not in Slack (run `migrate run`)"}


def test_a_team_the_store_lost_is_caught_from_graph_and_from_the_store(sandbox, tmp_path):
    env = {**sandbox.env(), "MIGRATE_WORKDIR": str(tmp_path)}
    settings = _settings(env)
    stages.export(settings)
    assert stages.run(settings).exit_code == 0
    report, _ = stages.verify(settings)
    assert report.ok, [c.as_dict() for c in report.channels if c.problems]
    assert report.source_teams == 6 and report.source_channels == 21

    # The same migrated workdir with Slack gone: one error at once, no "N missing" verdict.
    gone = _settings({**env, "MIGRATE_SLACK_URL": f"http://127.0.0.1:{_closed_port()}/api/"})
    started = time.monotonic()
    with pytest.raises(ServiceUnreachable, match="Slack is unreachable"):
        stages.verify(gone)
    assert time.monotonic() - started < 15

    # An export that listed R&D but never read its channels (or lost them).
    conn = sqlite3.connect(tmp_path / "state.db")
    team_id = conn.execute("SELECT id FROM teams_teams WHERE display_name = ?", (DROPPED,)).fetchone()[0]
    conn.execute("DELETE FROM teams_channels WHERE team_id = ?", (team_id,))
    conn.commit()
    conn.close()
    report, _ = stages.verify(settings)                 # Graph: its channels are a gap
    assert not report.ok
    assert any(c.name.startswith(f"{DROPPED} › ") for c in report.channels if c.gap)

    store_only = {k: v for k, v in env.items() if k not in ("MIGRATE_GRAPH_TOKEN",)}
    report, _ = stages.verify(_settings(store_only))    # no Graph credentials: the store's view
    assert report.source == "store" and not report.ok
    (team_gap,) = [c for c in report.channels if c.gap and "whole team" in c.name]
    assert team_gap.name == f"{DROPPED} (whole team)"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_slack_is_one_fast_line_not_a_verdict(tmp_path):
    env = {"MIGRATE_SLACK_URL": f"http://127.0.0.1:{_closed_port()}/api/",
           "MIGRATE_SLACK_TOKEN": "xoxb-test", "MIGRATE_WORKDIR": str(tmp_path)}
    started = time.monotonic()
    result = run_migrate("verify", env=env)
    elapsed = time.monotonic() - started
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "unreachable" in lines[0] and "missing" not in lines[0]
    assert "xoxb-test" not in result.stderr
    assert elapsed < 15
