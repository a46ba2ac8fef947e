"""Chats through the API, end to end in the sandbox (demo tenant): by default skipped and
counted; with `plan.chats_to_channels = all`, each chat becomes a private channel of exactly its
mapped members, posted exactly once, `verify` passes (and fails when someone else is in a chat's
channel), and `sync` carries a new chat message once."""

from __future__ import annotations

import json

import pytest

from migrate.sandbox.runner import start_sandbox
from migrate.sandbox.tenant import default_demo_folder

from .conftest import run_migrate, slack_posts

NEW_CHAT_MESSAGE = "Sent after the first run: the sync carries it."


@pytest.fixture(scope="module")
def carried(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("chats")
    with start_sandbox(rate_scale=400) as sandbox:  # not about rate limits
        env = {**sandbox.env(), "MIGRATE_WORKDIR": str(workdir), "MIGRATE_CHATS_TO_CHANNELS": "all"}
        run = run_migrate("--json", "run", "--yes", env=env, timeout=300)
        assert run.returncode == 0, run.stderr[-2000:]
        plan = json.loads((workdir / "reports" / "plan.json").read_text())
        state = sandbox.slack.state()
        verify = run_migrate("--json", "verify", env=env, timeout=300)

        chat = next(c for c in plan["chats"] if c["action"] == "channel"
                    and c["chat_type"] == "group")
        graph_chat = next(c for c in sandbox.data.graph.chats if c.chat["id"] == chat["teams_chat_id"])
        author = graph_chat.members[0]
        new = sandbox.graph.add_chat_message(chat["teams_chat_id"], {
            "from": {"user": {"id": author["userId"], "displayName": author.get("displayName"),
                              "userIdentityType": "aadUser"}},
            "body": {"contentType": "html", "content": f"<p>{NEW_CHAT_MESSAGE}</p>"}})
        sync = run_migrate("--json", "sync", env=env, timeout=300)
        after_sync = sandbox.slack.state()
        writes = sandbox.slack.counters()["writes"]
        again = run_migrate("--json", "sync", env=env, timeout=300)
        writes_again = sandbox.slack.counters()["writes"]

        # Someone who is not in the chat is added to its channel by hand in Slack.
        channel_id = next(c["id"] for c in after_sync["channels"] if c["name"] == chat["slack_name"])
        outsider = next(u["slack_user_id"] for u in plan["users"] if u["slack_user_id"]
                        and u["teams_user_id"] not in {m["userId"] for m in graph_chat.members})
        with sandbox.slack.store.lock:
            sandbox.slack.store.channels[channel_id].members[outsider] = None
        leak = run_migrate("--json", "verify", env=env, timeout=300)
    yield {"plan": plan, "state": state, "verify": verify, "sync": sync, "after_sync": after_sync,
           "new": new, "chat": chat, "writes": (writes, writes_again), "again": again,
           "leak": leak, "outsider": outsider, "demo": sandbox.data}


def test_each_carried_chat_is_a_private_channel_of_exactly_its_mapped_members(carried):
    plan, state = carried["plan"], carried["state"]
    channels = {c["name"]: c for c in state["channels"]}
    bot = carried["demo"].slack.bot["user_id"]
    guests = {u["id"] for u in carried["demo"].slack.users
              if u.get("is_restricted") or u.get("is_ultra_restricted")}
    by_chat = {c["teams_channel_id"]: c for c in plan["channels"]}
    carried_chats = [c for c in plan["chats"] if c["action"] == "channel"]
    assert carried_chats
    for chat in carried_chats:
        planned = by_chat[chat["teams_chat_id"]]
        slack = channels[chat["slack_name"]]
        assert slack["is_private"] and planned["is_private"]
        assert set(slack["members"]) <= set(planned["invite"]) | {bot}   # nobody else, ever
        # and every invitee is in, but guests Slack will not let an app invite (reported)
        assert set(planned["invite"]) - set(slack["members"]) <= guests
        assert chat["slack_name"].split("-")[0] in ("dm", "chat", "meeting")
    skipped = [c for c in plan["chats"] if c["action"] == "skip"]
    assert all(c["mapped_members"] == 0 for c in skipped)   # with `all`, only nobody-in-Slack


def test_chat_messages_are_posted_once_and_only_in_their_chats_channel(carried):
    plan, state = carried["plan"], carried["state"]
    chat_ids = {c["teams_chat_id"] for c in plan["chats"] if c["action"] == "channel"}
    private = {c["id"]: c["name"] for c in state["channels"] if c["is_private"]}
    slug = {c["teams_chat_id"]: c["slack_name"] for c in plan["chats"]}
    posts = slack_posts(state)
    chat_posts = [p for p in plan["posts"] if p["channel"] in chat_ids]
    assert chat_posts
    for post in chat_posts:
        found = posts.get((post["message_id"], post["part"]), [])
        assert len(found) == 1, post
        assert private.get(found[0]["channel"]) == slug[post["channel"]]


def test_verify_passes_and_checks_the_chat_channels_members(carried):
    assert carried["verify"].returncode == 0, carried["verify"].stdout[-2000:]
    totals = json.loads(carried["verify"].stdout)["totals"]
    assert totals["outsiders"] == 0 and totals["missing"] == totals["duplicated"] == 0


def test_someone_outside_the_chat_in_its_channel_fails_verify(carried):
    leak = carried["leak"]
    assert leak.returncode == 1, leak.stdout[-1500:]
    doc = json.loads(leak.stdout)
    assert doc["totals"]["outsiders"] == 1
    flagged = [c for c in doc["channels"] if c.get("outsiders")]
    assert flagged[0]["channel"] == f"#{carried['chat']['slack_name']}"
    assert flagged[0]["outsiders_sample"] == [carried["outsider"]]


def test_sync_carries_a_new_chat_message_once_and_then_has_nothing_to_do(carried):
    assert carried["sync"].returncode == 0, carried["sync"].stderr[-2000:]
    found = slack_posts(carried["after_sync"]).get((carried["new"]["id"], 0), [])
    assert len(found) == 1 and NEW_CHAT_MESSAGE in found[0]["text"]
    assert carried["again"].returncode == 0
    writes, writes_again = carried["writes"]
    assert writes_again == writes


def test_by_default_the_plan_lists_the_chats_with_their_fate(tmp_path):
    with start_sandbox(rate_scale=400) as sandbox:  # not about rate limits
        env = {**sandbox.env(), "MIGRATE_WORKDIR": str(tmp_path)}
        planned = run_migrate("plan", env=env, timeout=300)
        expected = json.loads((default_demo_folder() / "expected.json").read_text())["chats"]
    assert planned.returncode == 0, planned.stderr[-2000:]
    plan = json.loads((tmp_path / "reports" / "plan.json").read_text())
    assert len(plan["chats"]) == len(expected["perChat"])
    assert all(c["action"] == "skip" and "cannot post as people" in c["reason"]
               for c in plan["chats"])
    assert plan["summary"]["chats"]["found"] == expected["byChatType"]
    assert not any(c["teams_channel_id"] in {x["teams_chat_id"] for x in plan["chats"]}
                   for c in plan["channels"])
    assert "Chats:" in planned.stderr
    report = (tmp_path / "reports" / "plan.md").read_text()
    assert "## Chats" in report
