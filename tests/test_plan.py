"""`migrate plan` on the demo tenant: reports written, no Slack write, deterministic plan.json,
known answers of the demo tenant (expected.json), and every rule of DESIGN §4.4 the plan
decides (names, privacy, invites, threads, metadata keys, splitting, skips)."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3

import pytest

from migrate.sandbox.graph_emulator import GraphEmulator
from migrate.sandbox.runner import start_sandbox
from migrate.sandbox.slack_emulator import SlackEmulator
from migrate.sandbox.tenant import (
    SANDBOX_GRAPH_TOKEN,
    SANDBOX_SLACK_TOKEN,
    default_demo_folder,
    load_sandbox,
)

from .conftest import run_migrate

NOTIFYING = re.compile(r"<@[UW]|<!channel>|<!here>|<!everyone>|<!subteam")


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    demo = load_sandbox(default_demo_folder())
    workdir = tmp_path_factory.mktemp("plan")
    with GraphEmulator(demo.graph, rate_scale=50) as graph, SlackEmulator(demo.slack, rate_scale=50) as slack:
        env = {"MIGRATE_GRAPH_URL": graph.url, "MIGRATE_GRAPH_TOKEN": SANDBOX_GRAPH_TOKEN,
               "MIGRATE_GRAPH_RATE_SCALE": "50", "MIGRATE_SLACK_URL": slack.url,
               "MIGRATE_SLACK_TOKEN": SANDBOX_SLACK_TOKEN, "MIGRATE_SLACK_RATE_SCALE": "50",
               "MIGRATE_WORKDIR": str(workdir), "MIGRATE_TIMEZONE": "Europe/Paris"}
        first = run_migrate("plan", env=env)
        assert first.returncode == 0, first.stderr
        plan_bytes = (workdir / "reports" / "plan.json").read_bytes()
        second = run_migrate("--json", "plan", env=env)
        assert second.returncode == 0, second.stderr
        writes = slack.counters()["writes"]
    expected = json.loads((default_demo_folder() / "expected.json").read_text())
    yield {"first": first, "second": second, "bytes": plan_bytes, "writes": writes,
           "plan": json.loads(second.stdout), "workdir": workdir, "expected": expected, "demo": demo}


def test_plan_never_writes_to_slack(planned):
    assert planned["writes"] == 0


def test_reports_are_written_and_plan_json_is_byte_identical(planned):
    reports = planned["workdir"] / "reports"
    assert planned["bytes"] == (reports / "plan.json").read_bytes()
    assert json.loads(planned["second"].stdout) == json.loads(planned["bytes"])
    page = (reports / "plan.html").read_text()
    assert page.startswith("<!doctype html>") and "<svg" in page
    assert "http://" not in page.split("<body>")[0] and "<script src" not in page  # self-contained
    assert "Unmapped users" in page and "Renamed channels" in page and "Preview" in page
    assert "# Migration plan" in (reports / "plan.md").read_text()
    for word in ("Users:", "Channels:", "Messages:", "Estimated run:", "plan.html"):
        assert word in planned["first"].stderr


def test_every_message_is_posted_or_skipped_with_a_reason(planned):
    plan, demo = planned["plan"], planned["demo"]
    posted = {(p["channel"], p["message_id"]) for p in plan["posts"]}
    skipped = {s["subject"] for s in plan["skips"] if s["kind"] == "message"}
    for team in demo.graph.teams:
        for channel in team.channels:
            for message in channel.messages:
                assert (channel.channel["id"], message["id"]) in posted or message["id"] in skipped
    counts = planned["expected"]["counts"]["messages"]
    reasons = [s["reason"] for s in plan["skips"] if s["kind"] == "message"]
    assert sum(r.startswith("system event") for r in reasons) == counts["systemEvents"]


def test_no_post_can_notify_anyone_and_all_fit_slack(planned):
    for post in planned["plan"]["posts"]:
        assert not NOTIFYING.search(post["text"]), post["text"][:200]
        assert len(post["text"]) <= 4000


def test_threads_keep_their_roots_and_order(planned):
    posts = planned["plan"]["posts"]
    seen_roots: set[tuple[str, str]] = set()
    for post in posts:
        if post["root_id"] is None:
            seen_roots.add((post["channel"], post["message_id"]))
        else:
            assert (post["channel"], post["root_id"]) in seen_roots  # the root comes first
    roots = [p for p in posts if p["root_id"] is None]
    for channel in {p["channel"] for p in roots}:
        stamps = [p["created_at"] for p in roots if p["channel"] == channel]
        assert stamps == sorted(stamps)


def test_private_channels_stay_private_and_invite_only_their_members(planned):
    demo = planned["demo"]
    kinds = {c.channel["id"]: c.channel["membershipType"] for t in demo.graph.teams for c in t.channels}
    for channel in planned["plan"]["channels"]:
        if kinds[channel["teams_channel_id"]] in ("private", "shared"):
            assert channel["is_private"] is True
    users = {u["teams_user_id"]: u["slack_user_id"] for u in planned["plan"]["users"]}
    for team in demo.graph.teams:
        for ch in team.channels:
            if ch.channel["membershipType"] == "private":
                allowed = {users.get(m["userId"]) for m in ch.members}
                planned_invites = next(c["invite"] for c in planned["plan"]["channels"]
                                       if c["teams_channel_id"] == ch.channel["id"])
                assert set(planned_invites) <= allowed


def test_known_answers_of_the_demo_tenant(planned):
    plan, expected = planned["plan"], planned["expected"]
    by_id = {c["teams_channel_id"]: c for c in plan["channels"]}
    for channel in expected["channels"]:
        if channel["expectedSlackName"]:  # empty where the hash or truncation rule decides
            assert by_id[channel["channelId"]]["slack_name"] == channel["expectedSlackName"], channel["key"]
    taken = {c["name"] for c in expected["collidingChannelNames"]["existingSlackChannels"]}
    created = [c["slack_name"] for c in plan["channels"] if c["action"] == "create"]
    assert not taken & set(created)  # existing names, archived ones included, are never reused
    assert len(set(created)) == len(created) and all(len(n) <= 80 for n in created)
    for name, (first, second) in expected["collidingChannelNames"]["plannedCollisions"].items():
        assert by_id[first]["slack_name"] == name and by_id[second]["slack_name"] == f"{name}-2"
    for channel_id in expected["collidingChannelNames"]["hashRuleChannels"]:
        assert re.fullmatch(r"[a-z0-9_-]{1,80}", by_id[channel_id]["slack_name"])
    archived = {c["team_name"] for c in plan["channels"] if c["archive_after"]}
    assert archived == {expected["archivedTeam"]["displayName"]}
    mapped = {u["teams_user_id"]: u["slack_user_id"] for u in plan["users"]}
    for teams_id, answer in expected["userMatching"].items():
        if answer["route"] in ("mail", "userPrincipalName", "otherMails", "proxyAddresses") \
                and not answer.get("slackDeleted"):
            assert mapped[teams_id] == answer["slackUserId"], answer["key"]


def test_malformed_mapping_file_is_one_line_naming_the_line(tmp_path):
    demo = load_sandbox(default_demo_folder())
    (tmp_path / "users.csv").write_text("teams_user,slack_user\nmegan@northwindlabs.com\n")
    with GraphEmulator(demo.graph, rate_scale=50) as graph, SlackEmulator(demo.slack, rate_scale=50) as slack:
        env = {"MIGRATE_GRAPH_URL": graph.url, "MIGRATE_GRAPH_TOKEN": SANDBOX_GRAPH_TOKEN,
               "MIGRATE_GRAPH_RATE_SCALE": "50", "MIGRATE_SLACK_URL": slack.url,
               "MIGRATE_SLACK_TOKEN": SANDBOX_SLACK_TOKEN, "MIGRATE_SLACK_RATE_SCALE": "50",
               "MIGRATE_WORKDIR": str(tmp_path / "w"), "MIGRATE_USER_MAP": str(tmp_path / "users.csv")}
        result = run_migrate("plan", env=env)
        assert slack.counters()["writes"] == 0
    assert result.returncode == 2, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("migrate: error: ") and "users.csv:2" in last and "Traceback" not in result.stderr


def test_plan_json_is_streamed_with_the_same_bytes_as_one_dump(planned):
    from migrate.plan.build import (
        ChannelPlan,
        Plan,
        Post,
        Retraction,
        Skip,
        Upload,
        UserLine,
    )

    plan = Plan(as_of="2024-01-01T00:00:00Z",
                users=[UserLine("u1", "Zoë “Z” Ünal", "U1", "mail", None, False)],
                channels=[ChannelPlan("19:a@thread.tacv2", "T", "Équipe", "Général\nnew", "create",
                                      "equipe-general", None, True, None, None, False, None,
                                      "desc", ("U1", "U2"))],
                posts=[Post("post:c:m:0", "c", "m", None, 0, "line 1\nline 2 <&> 🎉", "Zoë", None, "")],
                uploads=[Upload("file:c:m:hosted:h", "c", "m", "m", "hosted", "h", "a.png", "ab" * 32,
                                10, "image/png")],
                skips=[Skip("message", "m2", "deleted in Teams")],
                retractions=[Retraction("post:c:m3:0", "c", "m3", "deleted in Teams")],
                warnings={"x": 1}, warning_samples={"x": ["é"]})
    for sample in (plan, Plan(as_of=None)):
        expected = json.dumps(sample.to_dict(), indent=1, sort_keys=True, ensure_ascii=False)
        content, mark, digest = sample.to_json().rpartition(',\n "digest": ')
        assert mark and content + "\n}" == expected       # the digest comes last
        assert json.loads("{\"digest\": " + digest)["digest"]["content"] == hashlib.sha256(
            content.encode("utf-8")).hexdigest()
    demo = json.loads(planned["bytes"])
    del demo["digest"]
    content = planned["bytes"].decode("utf-8").rpartition(',\n "digest": ')[0]
    assert json.dumps(demo, indent=1, sort_keys=True, ensure_ascii=False) == content + "\n}"


def test_messages_of_a_channel_graph_no_longer_lists_are_a_warning_not_a_silence(tmp_path):
    with start_sandbox(rate_scale=400) as sandbox:
        env = {**sandbox.env(), "MIGRATE_WORKDIR": str(tmp_path)}
        assert run_migrate("export", env=env, timeout=300).returncode == 0
        conn = sqlite3.connect(tmp_path / "state.db")
        channel_id, messages = conn.execute(
            "SELECT channel_id, count(*) FROM teams_messages WHERE team_id != '' "
            "GROUP BY channel_id ORDER BY 2 DESC LIMIT 1").fetchone()
        conn.execute("DELETE FROM teams_channels WHERE id = ?", (channel_id,))
        conn.commit()
        conn.close()
        planned = run_migrate("--json", "plan", "--no-export", env=env, timeout=300)
    assert planned.returncode == 0, planned.stderr[-1500:]
    plan = json.loads((tmp_path / "reports" / "plan.json").read_text())
    assert plan["warnings"].get("channel_not_listed") == 1
    assert f"{messages} messages of channel {channel_id}" in " ".join(
        plan["warning_samples"]["channel_not_listed"])
