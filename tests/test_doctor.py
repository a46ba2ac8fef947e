"""`migrate doctor` names what is missing, Graph permissions and Slack scopes alike."""

from __future__ import annotations

import json

import pytest

from migrate.sandbox.graph_emulator import GraphEmulator
from migrate.sandbox.slack_emulator import DEFAULT_SCOPES, SlackEmulator
from migrate.sandbox.synthetic import synthetic_tenant, synthetic_workspace
from migrate.sandbox.tenant import SANDBOX_GRAPH_TOKEN, SANDBOX_SLACK_TOKEN

from .conftest import run_migrate

ALL_GRAPH = {"User.Read.All", "GroupMember.Read.All", "Team.ReadBasic.All", "TeamMember.Read.All",
             "Channel.ReadBasic.All", "ChannelMember.Read.All", "ChannelMessage.Read.All",
             "Chat.Read.All", "Files.ReadWrite.All"}


@pytest.fixture(scope="module")
def tenant():
    return synthetic_tenant(teams=1, channels=2, messages=10, users=5, seed=2)


def doctor(tenant, *, permissions=None, scopes=None):
    with GraphEmulator(tenant, rate_scale=100, permissions=permissions) as graph, \
            SlackEmulator(synthetic_workspace(tenant), rate_scale=100, scopes=scopes) as slack:
        env = {"MIGRATE_GRAPH_URL": graph.url, "MIGRATE_GRAPH_TOKEN": SANDBOX_GRAPH_TOKEN,
               "MIGRATE_SLACK_URL": slack.url, "MIGRATE_SLACK_TOKEN": SANDBOX_SLACK_TOKEN}
        human = run_migrate("doctor", env=env)
        machine = run_migrate("--json", "doctor", env=env)
    return human, machine.returncode, json.loads(machine.stdout)


def test_everything_granted_passes(tenant):
    human, code, doc = doctor(tenant)
    assert human.returncode == code == 0, human.stderr
    assert doc["ok"] is True
    assert {c["name"] for c in doc["checks"] if c["area"] == "graph"} >= ALL_GRAPH
    assert "All checks passed." in human.stderr


def test_missing_permissions_and_scopes_are_named_with_the_fix(tenant):
    granted = ALL_GRAPH - {"ChannelMessage.Read.All", "Files.ReadWrite.All"}
    human, code, doc = doctor(tenant, permissions=granted, scopes=DEFAULT_SCOPES - {"files:write"})
    assert human.returncode == code == 3
    missing = {(c["area"], c["name"]) for c in doc["checks"] if c["status"] == "missing"}
    assert missing == {("graph", "ChannelMessage.Read.All"), ("graph", "Files.ReadWrite.All"),
                       ("slack", "files:write")}
    assert "Application permissions → ChannelMessage.Read.All" in human.stderr
    assert "Grant admin consent" in human.stderr


def test_missing_chat_permission_explains_the_protected_api_and_the_way_out(tenant):
    human, code, doc = doctor(tenant, permissions=ALL_GRAPH - {"Chat.Read.All"})
    assert human.returncode == code == 3
    check = next(c for c in doc["checks"] if c["name"] == "Chat.Read.All")
    assert check["status"] == "missing"
    assert "protected API" in check["fix"] and "no longer needed" in check["fix"]
    assert "export.chats = false" in check["fix"]


def test_bad_tokens_fail_sign_in_without_leaking_them(tenant):
    with GraphEmulator(tenant) as graph, SlackEmulator(synthetic_workspace(tenant)) as slack:
        env = {"MIGRATE_GRAPH_URL": graph.url, "MIGRATE_GRAPH_TOKEN": "stale-graph-token-123",
               "MIGRATE_SLACK_URL": slack.url, "MIGRATE_SLACK_TOKEN": "xoxb-wrong-456"}
        result = run_migrate("--json", "doctor", env=env)
    assert result.returncode == 3
    doc = json.loads(result.stdout)
    failed = {c["name"] for c in doc["checks"] if c["status"] == "failed"}
    assert "token" in failed
    assert "stale-graph-token-123" not in result.stdout + result.stderr
    assert "xoxb-wrong-456" not in result.stdout + result.stderr
