"""A team Graph would not give is a failed item of the run, not a silent success: `run` exits 1
(some items failed, the next run retries them) and says how many teams it could not read; once
Graph gives the team, the next run brings it into Slack and exits 0."""

from __future__ import annotations

import pytest

from migrate import stages
from migrate.config import load_settings
from migrate.errors import EXIT_ITEMS_FAILED, EXIT_OK
from migrate.export.client import GraphClient
from migrate.export.errors import GraphUnavailable
from migrate.sandbox.graph_emulator import GraphEmulator
from migrate.sandbox.slack_emulator import SlackEmulator
from migrate.sandbox.synthetic import synthetic_tenant, synthetic_workspace
from migrate.sandbox.tenant import SANDBOX_GRAPH_TOKEN, SANDBOX_SLACK_TOKEN


@pytest.fixture
def target(tmp_path):
    tenant = synthetic_tenant(teams=2, channels=2, messages=40, users=6, seed=5)
    with GraphEmulator(tenant, rate_scale=400) as graph, \
            SlackEmulator(synthetic_workspace(tenant, seed=5), rate_scale=400) as slack:
        env = {"MIGRATE_GRAPH_URL": graph.url, "MIGRATE_GRAPH_TOKEN": SANDBOX_GRAPH_TOKEN,
               "MIGRATE_TENANT_ID": tenant.tenant_id, "MIGRATE_GRAPH_RATE_SCALE": "400",
               "MIGRATE_SLACK_URL": slack.url, "MIGRATE_SLACK_TOKEN": SANDBOX_SLACK_TOKEN,
               "MIGRATE_SLACK_RATE_SCALE": "400", "MIGRATE_WORKDIR": str(tmp_path)}
        yield tenant, load_settings(None, environ=env), slack


def test_a_team_graph_would_not_give_makes_the_run_exit_1_until_it_is_read(target, monkeypatch):
    tenant, settings, slack = target
    broken = tenant.teams[0]
    batch_get = GraphClient.batch_get

    def failing(self, requests_, *args, **kwargs):
        if any(f"/teams/{broken.team['id']}" in r["url"] for r in requests_):
            raise GraphUnavailable("Graph kept failing")
        return batch_get(self, requests_, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(GraphClient, "batch_get", failing)
        exported = stages.export(settings)
        outcome = stages.run(settings, exported=exported)
    assert exported.teams_unreadable == 1
    assert outcome.exit_code == EXIT_ITEMS_FAILED and outcome.unread >= 1
    assert not outcome.result.failed           # nothing failed in Slack: Teams did
    names = {c["name"] for c in slack.state()["channels"]}
    assert len(names) == len(tenant.teams[1].channels)

    exported = stages.export(settings)
    outcome = stages.run(settings, exported=exported)
    assert (exported.teams_unreadable, outcome.unread, outcome.exit_code) == (0, 0, EXIT_OK)
    assert len(slack.state()["channels"]) == sum(len(t.channels) for t in tenant.teams)


def test_chats_count_only_when_the_run_carries_them():
    # By default a run skips chats (a bot cannot post into people's DMs): a chat Graph would
    # not give is then nothing the run failed to bring.
    from migrate.export.summary import ExportSummary
    from migrate.plan.build import Plan

    plan = Plan(as_of=None, channels=[])
    plan.warnings = {"team_not_read": 1, "chat_not_read": 2}
    exported = ExportSummary(method="getAllMessages", incremental=True, teams_unreadable=1,
                             warnings={"chats_unreadable": 3, "chat_unreadable": 4})
    assert stages.unread_in_teams(plan, exported, chats=False) == 2
    assert stages.unread_in_teams(plan, exported, chats=True) == 1 + 2 + 1 + 3 + 4
    assert stages.unread_in_teams(plan, None, chats=True) == 3


def test_a_slack_without_auth_test_is_still_written_to(target, monkeypatch):
    # auth.test is not among the Web API methods of the contract this tool is held to: a
    # service without it (unknown_method) is still reachable, and the run goes on.
    from migrate.sandbox import slack_emulator

    tenant, settings, slack = target
    monkeypatch.delitem(slack_emulator.METHODS, "auth.test")
    assert stages.check_slack(settings) == {}
    outcome = stages.run(settings, exported=stages.export(settings))
    assert outcome.exit_code == EXIT_OK
    assert len(slack.state()["channels"]) == sum(len(t.channels) for t in tenant.teams)
