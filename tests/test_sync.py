"""`migrate sync` end to end: a full run, then changes made in Teams through the Graph
emulator (new root, reply into an old thread, edit, deletion, reaction, new channel, new
member), a sync that brings exactly those changes into Slack, a second sync with no Slack
write, `verify` passing after each sync, the lock (exit 4), --max-duration (exit 75, then the
next sync completes) and the GitHub step summary."""

from __future__ import annotations

import json
import os

import pytest

from migrate.sandbox.runner import start_sandbox
from migrate.store import RunLock

from .conftest import run_migrate, slack_posts

FAST = 400.0   # not about rate limits: the demo migrated as fast as this machine can
NEW_ROOT = "Cut-over rehearsal moved to Thursday."
NEW_REPLY = "Late answer in an old thread."
EDITED = "Corrected figures: 42, not 24."


def _author(demo, user_id):
    user = next(u for u in demo.graph.users if u["id"] == user_id)
    return {"user": {"id": user_id, "displayName": user["displayName"],
                     "userIdentityType": "aadUser"}}


@pytest.fixture(scope="module")
def synced(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("sync")
    summary_file = workdir.parent / "step-summary.md"
    with start_sandbox(rate_scale=FAST) as sandbox:
        env = {**sandbox.env(), "MIGRATE_WORKDIR": str(workdir)}
        first = run_migrate("sync", env=env, timeout=300)   # no earlier run: a full run
        assert first.returncode == 0, first.stderr[-2000:]
        plan = json.loads((workdir / "reports" / "plan.json").read_text())
        before = sandbox.slack.state()
        graph, demo = sandbox.graph, sandbox.data

        # A standard, non-archived channel with threads, and a mapped user not in its team.
        channel = next(c for c in plan["channels"] if c["action"] == "create"
                       and not c["is_private"] and not c["archive_after"] and c["posts"] > 50)
        posts = [p for p in plan["posts"] if p["channel"] == channel["teams_channel_id"]]
        one_part = {p["message_id"] for p in posts if p["part"] == 0} - \
            {p["message_id"] for p in posts if p["part"] == 1}
        roots = [p for p in posts if p["root_id"] is None and p["message_id"] in one_part]
        replies = [p for p in posts if p["root_id"] is not None and p["message_id"] in one_part]
        thread_root = replies[0]["root_id"]
        deleted = replies[-1]
        edited, reacted = roots[1], roots[2]
        raw = {m["id"]: m for t in demo.graph.teams for c in t.channels for m in c.messages
               if c.channel["id"] == channel["teams_channel_id"]}
        author_id = raw[edited["message_id"]]["from"]["user"]["id"]
        team_id, cid = channel["team_id"], channel["teams_channel_id"]
        mapped = {u["teams_user_id"]: u["slack_user_id"] for u in plan["users"] if u["slack_user_id"]}
        team_member_slack = {s for c in plan["channels"] if c["team_id"] == team_id
                             and not c["is_private"] for s in c["invite"]}
        # Someone Slack already let us invite elsewhere (not a guest, not deactivated).
        invited_before = {m for c in before["channels"] for m in c["members"]}
        newcomer = next(t for t, s in sorted(mapped.items())
                        if s not in team_member_slack and s in invited_before)

        new_root = graph.add_message(team_id, cid, {"from": _author(demo, author_id),
                                                    "body": {"contentType": "text", "content": NEW_ROOT}})
        new_reply = graph.add_message(team_id, cid, {"replyToId": thread_root, "from": _author(demo, author_id),
                                                     "body": {"contentType": "text", "content": NEW_REPLY}})
        graph.edit_message(team_id, cid, edited["message_id"],
                           {"body": {"contentType": "text", "content": EDITED}})
        graph.delete_message(team_id, cid, deleted["message_id"])
        reactions = [{"reactionType": "like", "displayName": "Like", "reactionContentUrl": None,
                      "createdDateTime": "2026-11-20T10:00:00Z", "user": _author(demo, author_id)}]
        graph.edit_message(team_id, cid, reacted["message_id"], {"reactions": reactions})
        new_channel = graph.add_channel(team_id, {"displayName": "Cut-over war room",
                                                  "description": "Go-live coordination"})
        in_new = graph.add_message(team_id, new_channel["id"], {"from": _author(demo, author_id),
                                                                "body": {"contentType": "text",
                                                                         "content": "War room open."}})
        graph.add_member(team_id, {"userId": newcomer, "displayName": "Newcomer", "roles": []})
        renamed = next(c for c in plan["channels"] if c["team_id"] == team_id and c["action"] == "create"
                       and c["teams_channel_id"] != cid and c["channel_name"] != "General")
        graph.update_channel(team_id, renamed["teams_channel_id"], {"displayName": "Renamed Room"})

        sandbox.slack.reset_counters()
        env_summary = {**env, "GITHUB_STEP_SUMMARY": str(summary_file)}
        second = run_migrate("--json", "sync", env=env_summary, timeout=300)
        writes_second = sandbox.slack.counters()
        after = sandbox.slack.state()
        verify = run_migrate("--json", "verify", env=env, timeout=300)
        sandbox.slack.reset_counters()
        third = run_migrate("sync", env=env, timeout=300)
        writes_third = sandbox.slack.counters()["writes"]
        status = run_migrate("--json", "status", env=env)
        holder = RunLock(workdir)
        holder.acquire("sync")  # as if another sync were running
        try:
            locked = run_migrate("sync", env=env)
        finally:
            holder.release()
        sandbox.slack.reset_counters()
        follow = run_migrate("sync", env={**env, "MIGRATE_RENAMED_CHANNELS": "rename"}, timeout=300)
        renames = sandbox.slack.counters()
        final = sandbox.slack.state()
        verify_final = run_migrate("verify", env=env, timeout=300)
    yield {"renamed": renamed, "follow": follow, "renames": renames, "final": final,
           "verify_final": verify_final,"first": first, "second": second, "third": third, "verify": verify,
           "before": before, "after": after, "writes_second": writes_second,
           "writes_third": writes_third, "locked": locked, "status": status,
           "summary_file": summary_file, "new_root": new_root, "new_reply": new_reply,
           "edited": edited, "deleted": deleted, "reacted": reacted, "thread_root": thread_root,
           "new_channel": new_channel, "in_new": in_new, "newcomer": mapped[newcomer],
           "channel": channel, "plan": plan}


def test_second_sync_succeeds_and_verify_passes(synced):
    assert synced["second"].returncode == 0, synced["second"].stderr[-2000:]
    assert synced["verify"].returncode == 0, synced["verify"].stdout[-3000:]


def test_new_root_and_new_reply_into_the_old_thread(synced):
    ours = slack_posts(synced["after"])
    (root,) = ours[(synced["new_root"]["id"], 0)]
    assert NEW_ROOT in root["text"] and root.get("thread_ts") in (None, root["ts"])
    (old_root,) = ours[(synced["thread_root"], 0)]
    (reply,) = ours[(synced["new_reply"]["id"], 0)]
    assert NEW_REPLY in reply["text"] and reply["thread_ts"] == old_root["ts"]


def test_edit_deletion_and_reaction_reach_slack(synced):
    before, after = slack_posts(synced["before"]), slack_posts(synced["after"])
    key = (synced["edited"]["message_id"], 0)
    assert after[key][0]["ts"] == before[key][0]["ts"]          # updated in place
    assert EDITED in after[key][0]["text"] and "_(edited)_" in after[key][0]["text"]
    assert (synced["deleted"]["message_id"], 0) in before
    assert (synced["deleted"]["message_id"], 0) not in after
    reacted = (synced["reacted"]["message_id"], 0)
    assert after[reacted][0]["text"] != before[reacted][0]["text"]
    assert after[reacted][0]["ts"] == before[reacted][0]["ts"]


def test_exactly_those_changes_and_nothing_else(synced):
    before, after = slack_posts(synced["before"]), slack_posts(synced["after"])
    changed = {k for k in before.keys() & after.keys() if before[k][0]["text"] != after[k][0]["text"]}
    assert changed == {(synced["edited"]["message_id"], 0), (synced["reacted"]["message_id"], 0)}
    assert set(before) - set(after) == {(synced["deleted"]["message_id"], 0)}
    assert set(after) - set(before) == {(synced["new_root"]["id"], 0), (synced["new_reply"]["id"], 0),
                                        (synced["in_new"]["id"], 0)}
    assert all(len(v) == 1 for v in after.values())
    calls = synced["writes_second"]["calls"]
    assert calls.get("chat.postMessage") == 3 and calls.get("chat.update") == 2
    assert calls.get("chat.delete") == 1 and calls.get("conversations.create") == 1


def test_new_channel_and_new_member(synced):
    after = synced["after"]
    created = [c for c in after["channels"] if c["name"].endswith("cut-over-war-room")]
    assert len(created) == 1 and synced["newcomer"] in created[0]["members"]
    channel = next(c for c in after["channels"] if c["name"] == synced["channel"]["slack_name"])
    assert synced["newcomer"] in channel["members"]


def test_a_sync_without_changes_writes_nothing(synced):
    assert synced["third"].returncode == 0, synced["third"].stderr[-2000:]
    assert synced["writes_third"] == 0


def test_a_concurrent_sync_exits_4_naming_the_holder(synced):
    assert synced["locked"].returncode == 4
    error = synced["locked"].stderr
    assert "locked by" in error and f"pid {os.getpid()}" in error and "sync" in error


def test_status_reports_runs_and_lag(synced):
    assert synced["status"].returncode == 0, synced["status"].stderr
    doc = json.loads(synced["status"].stdout)
    commands = [r["command"] for r in doc["runs"]]
    assert commands[0] == "sync" and "verify" in commands and doc["runs"][0]["exit_code"] == 0
    assert doc["lag"]["seconds"] == 0 and doc["ledger"]["post"]["done"] > 2000


def test_github_step_summary_is_appended(synced):
    text = synced["summary_file"].read_text()
    assert "## migrate sync" in text and "exit 0" in text


def test_renamed_teams_channels_are_kept_by_default_or_followed_by_setting(synced):
    old = synced["renamed"]["slack_name"]
    assert old in {c["name"] for c in synced["after"]["channels"]}   # default: kept
    assert synced["follow"].returncode == 0, synced["follow"].stderr[-2000:]
    assert synced["renames"]["calls"].get("conversations.rename") == 1
    assert synced["renames"]["writes"] == 1                           # nothing else changed
    names = {c["id"]: c["name"] for c in synced["final"]["channels"]}
    (channel_id,) = [i for i, n in names.items() if n.endswith("renamed-room")]
    assert old not in names.values()
    assert synced["verify_final"].returncode == 0, synced["verify_final"].stdout[-2000:]
    assert channel_id


def test_sync_max_duration_exits_75_and_the_next_sync_completes(tmp_path):
    with start_sandbox(rate_scale=10) as sandbox:
        env = {**sandbox.env(), "MIGRATE_WORKDIR": str(tmp_path)}
        first = run_migrate("sync", "--max-duration", "3s", env=env, timeout=300)
        assert first.returncode == 75, first.stderr[-2000:]
        sandbox.slack.rate_scale = sandbox.graph.rate_scale = FAST  # the rest quickly: both
        env["MIGRATE_SLACK_RATE_SCALE"] = env["MIGRATE_GRAPH_RATE_SCALE"] = str(int(FAST))  # agree
        second = run_migrate("sync", env=env, timeout=300)
        assert second.returncode == 0, second.stderr[-2000:]
        verify = run_migrate("verify", env=env, timeout=300)
        assert verify.returncode == 0, verify.stderr[-2000:]
