"""Several workspaces of one Enterprise Grid org, end to end against the emulators: each team
lands in its workspace once, each workspace with its own ledger and budget; a team no
workspace takes stops everything before a write; an org-level token works by team_id."""

from __future__ import annotations

import json
import textwrap

from migrate.sandbox.graph_emulator import GraphEmulator
from migrate.sandbox.slack_emulator import SlackEmulator
from migrate.sandbox.slack_org import SANDBOX_SLACK_ORG_TOKEN, workspace_token
from migrate.sandbox.synthetic import synthetic_org, synthetic_tenant
from migrate.sandbox.tenant import SANDBOX_GRAPH_TOKEN

from .conftest import run_migrate, slack_posts

PER_WORKSPACE_TOKENS = """
    [[workspaces]]
    name = "first"
    teams = ["Team 000", "Team 001"]
    token_env = "SLACK_TOKEN_FIRST"

    [[workspaces]]
    name = "rest"
    teams = ["*"]
    token_env = "SLACK_TOKEN_REST"
"""


def tenant():
    return synthetic_tenant(teams=4, channels=8, messages=240, users=16, seed=21)


def environment(graph, slack, tmp_path, config: str, **extra: str) -> dict[str, str]:
    path = tmp_path / "migrate.toml"
    path.write_text(textwrap.dedent(config))
    return {"MIGRATE_GRAPH_URL": graph.url, "MIGRATE_GRAPH_TOKEN": SANDBOX_GRAPH_TOKEN,
            "MIGRATE_GRAPH_RATE_SCALE": "100", "MIGRATE_SLACK_URL": slack.url,
            "MIGRATE_SLACK_RATE_SCALE": "100", "MIGRATE_CONFIG": str(path),
            "MIGRATE_WORKDIR": str(tmp_path / "work"),
            "SLACK_TOKEN_FIRST": workspace_token("T0SYNTH0"),
            "SLACK_TOKEN_REST": workspace_token("T0SYNTH1"), **extra}


def teams_by_channel(tenant_data) -> dict[str, str]:
    return {c.channel["id"]: t.team["displayName"] for t in tenant_data.teams for c in t.channels}


def test_each_team_lands_once_in_its_own_workspace(tmp_path):
    data = tenant()
    with GraphEmulator(data, rate_scale=100) as graph, \
            SlackEmulator(synthetic_org(data, workspaces=2, seed=21), rate_scale=100) as slack:
        env = environment(graph, slack, tmp_path, PER_WORKSPACE_TOKENS)
        ran = run_migrate("--json", "run", "--yes", env=env, timeout=300)
        assert ran.returncode == 0, ran.stderr[-3000:]
        first, rest = slack.state("T0SYNTH0"), slack.state("T0SYNTH1")
        verified = run_migrate("verify", env=env, timeout=300)
        again = run_migrate("--json", "sync", env=env, timeout=300)
        after = slack.state()
    assert verified.returncode == 0, verified.stderr[-3000:]
    assert again.returncode == 0, again.stderr[-3000:]
    doc = json.loads(ran.stdout)
    assert doc["exit_code"] == 0 and set(doc["workspaces"]) == {"first", "rest"}
    assert {r["workspace"]: r["teams"] for r in doc["split"]} == {"first": 2, "rest": 2}
    assert "[first] " in ran.stderr and "[rest] " in ran.stderr

    team_of = teams_by_channel(data)
    messages = {m["id"]: m for t in data.teams for c in t.channels for m in c.messages}
    for state, wanted in ((first, {"Team 000", "Team 001"}), (rest, {"Team 002", "Team 003"})):
        posts = slack_posts(state)
        assert posts, "nothing landed in a workspace"
        teams = {team_of[messages[mid]["channelIdentity"]["channelId"]] for mid, _part in posts}
        assert teams == wanted
    # Every message of the tenant once, across the org, and a sync after adds nothing.
    everywhere = slack_posts(after)
    assert all(len(found) == 1 for found in everywhere.values())
    assert {mid for mid, _part in everywhere} <= set(messages)
    assert len(everywhere) == len(slack_posts(first)) + len(slack_posts(rest))
    report = (tmp_path / "work" / "reports" / "workspaces.md").read_text()
    assert "| first |" in report and "| rest |" in report
    for name in ("first", "rest"):
        assert (tmp_path / "work" / "workspaces" / name / "state.db").exists()


def test_a_team_no_workspace_takes_stops_everything_before_a_write(tmp_path):
    data = tenant()
    only_two = PER_WORKSPACE_TOKENS.replace('teams = ["*"]', 'teams = ["Team 002"]')
    with GraphEmulator(data, rate_scale=100) as graph, \
            SlackEmulator(synthetic_org(data, workspaces=2, seed=21), rate_scale=100) as slack:
        env = environment(graph, slack, tmp_path, only_two)
        ran = run_migrate("run", "--yes", env=env, timeout=300)
        writes = slack.counters()["writes"]
    assert ran.returncode == 2
    assert "1 team(s) match no workspace: 'Team 003'" in ran.stderr
    assert "Traceback" not in ran.stderr and writes == 0


def test_an_org_level_token_acts_in_each_workspace_by_its_id(tmp_path):
    data = tenant()
    config = """
        [[workspaces]]
        name = "first"
        teams = ["Team 000"]
        team_id = "T0SYNTH0"

        [[workspaces]]
        name = "rest"
        teams = ["*"]
        team_id = "T0SYNTH1"
    """
    with GraphEmulator(data, rate_scale=100) as graph, \
            SlackEmulator(synthetic_org(data, workspaces=2, seed=21), rate_scale=100) as slack:
        env = environment(graph, slack, tmp_path, config,
                          MIGRATE_SLACK_TOKEN=SANDBOX_SLACK_ORG_TOKEN)
        planned = run_migrate("--json", "plan", env=env, timeout=300)
        alone = run_migrate("--json", "plan", "--workspace", "first", env=env, timeout=300)
        writes = slack.counters()["writes"]
    assert planned.returncode == 0, planned.stderr[-3000:]
    split = {r["workspace"]: r for r in json.loads(planned.stdout)["split"]}
    assert split["first"]["teams"] == 1 and split["rest"]["teams"] == 3
    assert split["first"]["posts"] > 0 and split["rest"]["posts"] > 0
    assert alone.returncode == 0, alone.stderr[-3000:]
    assert json.loads(alone.stdout)["summary"]["messages"]["posts"] == split["first"]["posts"]
    assert writes == 0
