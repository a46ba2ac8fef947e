"""Bundle → Slack's import (the emulator's) → verify → Teams changes → sync → verify, on the
demo tenant: nothing is posted twice, the API holds back until the import is confirmed, and
then carries new messages and replies into imported threads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from migrate.sandbox.runner import start_sandbox

from ..conftest import run_migrate, slack_posts

NEW_ROOT = "Posted in Teams after the import."
NEW_REPLY = "A late answer in an imported thread."


@pytest.fixture(scope="module")
def handed_over(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("handover")
    with start_sandbox(rate_scale=400) as sandbox:  # not about rate limits
        env = {**sandbox.env(), "MIGRATE_WORKDIR": str(workdir)}
        bundle = run_migrate("--json", "bundle", env=env, timeout=300)
        assert bundle.returncode == 0, bundle.stderr[-2000:]
        doc = json.loads(bundle.stdout)
        early_run = run_migrate("--json", "run", "--yes", env=env, timeout=300)
        writes_before_import = sandbox.slack.counters()["writes"]
        early_verify = run_migrate("--json", "verify", env=env, timeout=300)

        imports = [sandbox.slack.import_bundle(Path(p).read_bytes()) for p in doc["bundles"]]
        state = sandbox.slack.state()
        bot = sandbox.data.slack.bot["user_id"]
        with sandbox.slack.store.lock:      # the admin adds the app to the private channels
            for channel in state["channels"]:
                if channel["is_private"] and not channel["is_im"] and not channel["is_mpim"]:
                    sandbox.slack.store.channels[channel["id"]].members[bot] = None
        verify = run_migrate("--json", "verify", env=env, timeout=300)

        plan = json.loads((workdir / "reports" / "plan.json").read_text())
        raws = {ch.channel["id"]: ch for t in sandbox.data.graph.teams for ch in t.channels}
        channel = max((c for c in plan["channels"] if not c["is_private"]
                       and not c["archive_after"] and c["teams_channel_id"] in raws),
                      key=lambda c: len(raws[c["teams_channel_id"]].messages))
        raw = raws[channel["teams_channel_id"]]
        root = next(m for m in raw.messages if not m["replyToId"] and any(
            r["replyToId"] == m["id"] for r in raw.messages) and m["messageType"] == "message")
        author = root["from"]
        team_id = channel["team_id"]
        new_root = sandbox.graph.add_message(team_id, channel["teams_channel_id"], {
            "from": author, "body": {"contentType": "html", "content": f"<p>{NEW_ROOT}</p>"}})
        new_reply = sandbox.graph.add_message(team_id, channel["teams_channel_id"], {
            "replyToId": root["id"], "from": author,
            "body": {"contentType": "html", "content": f"<p>{NEW_REPLY}</p>"}})
        sync = run_migrate("--json", "sync", env=env, timeout=300)
        after = sandbox.slack.state()
        final = run_migrate("--json", "verify", env=env, timeout=300)
    yield {"doc": doc, "early_run": early_run, "writes_before_import": writes_before_import,
           "early_verify": early_verify, "imports": imports, "verify": verify, "sync": sync,
           "after": after, "final": final, "new_root": new_root, "new_reply": new_reply,
           "root": root, "channel": channel}


def test_before_the_import_run_leaves_bundled_conversations_alone(handed_over):
    assert handed_over["early_run"].returncode == 0, handed_over["early_run"].stderr[-1500:]
    assert handed_over["writes_before_import"] == 0          # nothing posted through the API
    early = handed_over["early_verify"]
    assert early.returncode == 1                             # carried, but not in Slack yet
    assert json.loads(early.stdout)["bundles"]["awaiting"]


def test_the_import_and_verify_hand_over_every_message(handed_over):
    assert all(result["ok"] for result in handed_over["imports"]), handed_over["imports"]
    assert sum(r["messages"] for r in handed_over["imports"]) == handed_over["doc"]["messages"]
    verify = handed_over["verify"]
    doc = json.loads(verify.stdout)
    assert doc["bundles"]["awaiting"] == {}
    assert doc["bundles"]["messages_confirmed"] > 2000
    totals = doc["totals"]
    assert totals["missing"] == totals["duplicated"] == totals["misplaced"] == 0, totals
    assert totals["out_of_order"] == totals["channel_gaps"] == totals["unverifiable_channels"] == 0
    # Files are not in the ZIPs: until `run` uploads them after the hand-over, they are the
    # only thing verify finds missing.
    assert totals["missing_files"] > 0 and verify.returncode == 1


def test_sync_carries_new_messages_into_imported_conversations_once(handed_over):
    assert handed_over["sync"].returncode == 0, handed_over["sync"].stderr[-2000:]
    posts = slack_posts(handed_over["after"])
    root = posts.get((handed_over["new_root"]["id"], 0), [])
    reply = posts.get((handed_over["new_reply"]["id"], 0), [])
    assert len(root) == 1 and NEW_ROOT in root[0]["text"]
    assert len(reply) == 1 and NEW_REPLY in reply[0]["text"]
    # the reply sits in the imported thread: under the ts the bundle gave its root
    imported_root = next(m for m in handed_over["after"]["messages"][reply[0]["channel"]]
                         if m["ts"] == reply[0]["thread_ts"])
    assert "metadata" not in imported_root or not imported_root["metadata"]
    assert handed_over["final"].returncode == 0, handed_over["final"].stdout[-3000:]
