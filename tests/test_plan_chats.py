"""The plan of 1:1, group and meeting chats: each chat's fate with its reason, the naming rule,
and the privacy property over generated tenants — a chat's content only ever goes to a private
channel whose members are exactly its mapped current members, never anywhere a non-member
can read it."""

from __future__ import annotations

import random

import pytest

from migrate.config import load_settings
from migrate.errors import ConfigError
from migrate.load.directory import SlackDirectory
from migrate.model import SlackChannel, SlackChannelId, SlackUser, SlackUserId
from migrate.plan.build import build_plan
from migrate.store import Store, teams_chats, teams_objects

TENANT = "tenant-1"


def _user(n: int, *, guest: bool = False) -> dict:
    return {"id": f"u{n:03d}", "displayName": f"Person{n} Family", "mail": f"p{n}@example.com",
            "userPrincipalName": f"p{n}@example.com", "userType": "Guest" if guest else "Member",
            "accountEnabled": True}


def _member(user_id: str, n: int) -> dict:
    return {"@odata.type": "#microsoft.graph.aadUserConversationMember", "id": f"m{n}-{user_id}",
            "roles": [], "displayName": None, "userId": user_id, "email": None, "tenantId": TENANT}


def _message(chat_id: str, n: int, sender: str | None, *, system: bool = False) -> dict:
    stamp = f"2024-01-{1 + n % 28:02d}T10:{n % 60:02d}:00Z"
    return {"id": f"{1700000000000 + n}", "chatId": chat_id, "channelIdentity": None,
            "replyToId": None, "messageType": "systemEventMessage" if system else "message",
            "createdDateTime": stamp, "lastModifiedDateTime": stamp, "deletedDateTime": None,
            "from": None if system else {"user": {"id": sender, "displayName": None}},
            "body": {"contentType": "html",
                     "content": "<systemEventMessage/>" if system else f"secret {chat_id} #{n}"},
            "attachments": [], "mentions": [], "reactions": [],
            "eventDetail": {"@odata.type": "#microsoft.graph.membersAddedEventMessageDetail"}
            if system else None}


def _tenant(store: Store, rng: random.Random, people: int, chats: int) -> dict[str, list[str]]:
    """A random tenant of chats; returns chat id → current member user ids."""
    teams_objects.upsert_users(store, [_user(n, guest=rng.random() < 0.1) for n in range(people)])
    members: dict[str, list[str]] = {}
    serial = 0
    for c in range(chats):
        kind = rng.choice(["oneOnOne", "group", "group", "meeting"])
        size = 2 if kind == "oneOnOne" else rng.randint(3, min(14, people))
        current = sorted(rng.sample([f"u{n:03d}" for n in range(people)], size))
        left = f"u{rng.randrange(people):03d}"   # sometimes someone wrote, then left
        chat_id = (f"19:{current[0]}_{current[1]}@unq.gbl.spaces" if kind == "oneOnOne"
                   else f"19:{c:032x}@thread.v2")
        teams_chats.upsert_chat(store, {"id": chat_id, "chatType": kind,
                                        "topic": rng.choice([None, f"Topic {c}"]) if kind != "oneOnOne" else None,
                                        "createdDateTime": f"2023-12-{1 + c % 28:02d}T09:00:00Z"})
        teams_chats.replace_chat_members(store, chat_id, [_member(u, c) for u in current])
        messages = []
        for _ in range(rng.randint(1, 6)):
            serial += 1
            sender = rng.choice(current + [left])
            messages.append(_message(chat_id, serial, sender, system=rng.random() < 0.1))
        teams_objects.upsert_messages(store, teams_objects.CHAT_TEAM, messages)
        members[chat_id] = current
    return members


def _directory(rng: random.Random, people: int, existing: list[str] = ()) -> tuple[SlackDirectory, dict]:
    """Most people have a Slack account (matched by email); returns Teams id → Slack id."""
    users, slack_of = [], {}
    for n in range(people):
        if rng.random() < 0.75:
            slack_id = SlackUserId(f"U{n:05d}")
            users.append(SlackUser(slack_id, f"p{n}", email=f"p{n}@example.com"))
            slack_of[f"u{n:03d}"] = slack_id
    channels = [SlackChannel(SlackChannelId(f"C{n:05d}"), name) for n, name in enumerate(existing)]
    return SlackDirectory(users, channels), slack_of


def _settings(tmp_path, **env: str):
    return load_settings(environ={"MIGRATE_WORKDIR": str(tmp_path), **env})


@pytest.mark.parametrize("seed", range(8))
def test_chat_content_only_goes_to_a_private_channel_of_exactly_its_mapped_members(tmp_path, seed):
    rng = random.Random(seed)
    with Store.open(tmp_path) as store:
        members = _tenant(store, rng, people=30, chats=25)
        directory, slack_of = _directory(rng, 30)
        plan = build_plan(store, _settings(tmp_path, MIGRATE_CHATS_TO_CHANNELS="all"), directory)
    by_channel = {c.teams_channel_id: c for c in plan.channels}
    for line in plan.chats:
        expected = tuple(sorted({slack_of[u] for u in members[line.teams_chat_id] if u in slack_of}))
        if line.action != "channel":
            assert line.teams_chat_id not in by_channel and expected == ()
            continue
        channel = by_channel[line.teams_chat_id]
        assert channel.is_private and channel.action == "create"
        assert channel.invite == expected          # exactly the mapped current members
        assert channel.team_name in ("1:1 chats", "Group chats", "Meeting chats")
    chat_posts = [post for post in plan.posts if post.channel in members]
    assert chat_posts, "the generated tenant carried no chat at all"
    for post in chat_posts:                        # every chat post lands in its own chat's channel
        assert by_channel[post.channel].is_private
        assert f"secret {post.channel} #" in post.text
    assert not any(f"secret {chat} #" in post.text for post in plan.posts
                   for chat in members if post.channel != chat), "chat content leaked elsewhere"


def test_by_default_chats_are_skipped_and_counted_with_the_reason(tmp_path):
    rng = random.Random(1)
    with Store.open(tmp_path) as store:
        _tenant(store, rng, people=12, chats=6)
        directory, _ = _directory(rng, 12)
        plan = build_plan(store, _settings(tmp_path), directory)
    assert len(plan.chats) == 6 and not plan.channels and not plan.posts
    assert all(c.action == "skip" and "cannot post as people" in c.reason for c in plan.chats)
    summary = plan.summary()["chats"]
    assert summary["to_channels"] == 0 and summary["skipped"] == 6
    assert summary["messages_skipped"] == sum(c.messages for c in plan.chats) > 0


def test_group_setting_keeps_1to1_chats_out_and_names_follow_the_rule(tmp_path):
    rng = random.Random(2)
    with Store.open(tmp_path) as store:
        _tenant(store, rng, people=12, chats=12)
        directory, _ = _directory(rng, 12, existing=["meeting-topic-3"])
        plan = build_plan(store, _settings(tmp_path, MIGRATE_CHATS_TO_CHANNELS="group"), directory)
    for line in plan.chats:
        if line.chat_type == "oneOnOne":
            assert line.action == "skip" and "chats_to_channels = all" in line.reason
        elif line.action == "channel":
            prefix = {"group": "chat-", "meeting": "meeting-"}[line.chat_type]
            assert line.slack_name.startswith(prefix), line
            assert line.slack_name != "meeting-topic-3"      # an existing channel's name: -2
    names = [c.slack_name for c in plan.channels]
    assert len(names) == len(set(names))


def test_meeting_chats_can_be_left_out(tmp_path):
    rng = random.Random(3)
    with Store.open(tmp_path) as store:
        _tenant(store, rng, people=12, chats=12)
        directory, _ = _directory(rng, 12)
        plan = build_plan(store, _settings(tmp_path, MIGRATE_CHATS_TO_CHANNELS="all",
                                           MIGRATE_MEETING_CHATS="false"), directory)
    meetings = [c for c in plan.chats if c.chat_type == "meeting"]
    assert meetings and all(c.action == "skip" and "meeting chats are excluded" in c.reason
                            for c in meetings)


def test_a_chat_cannot_be_merged_into_an_existing_channel(tmp_path):
    rng = random.Random(4)
    with Store.open(tmp_path) as store:
        members = _tenant(store, rng, people=10, chats=3)
        chat_id = sorted(members)[0]
        overrides = tmp_path / "channels.csv"
        overrides.write_text(f"teams_channel,action,slack_channel\n{chat_id},merge,general\n")
        directory, _ = _directory(rng, 10, existing=["general"])
        # everyone mapped, so the chat is carried and the override applies to it
        directory = SlackDirectory([SlackUser(SlackUserId(f"U{n:05d}"), f"p{n}",
                                              email=f"p{n}@example.com") for n in range(10)],
                                   directory.channels)
        with pytest.raises(ConfigError, match="cannot be merged"):
            build_plan(store, _settings(tmp_path, MIGRATE_CHATS_TO_CHANNELS="all",
                                        MIGRATE_CHANNEL_MAP=str(overrides)), directory)


def test_a_chat_without_topic_is_named_by_its_members_given_names():
    from migrate.model import TeamsChat, TeamsMember
    from migrate.plan.chats import chat_label

    def chat(*names: str, topic: str | None = None) -> TeamsChat:
        return TeamsChat("c", "group", topic=topic,
                         members=tuple(TeamsMember(f"u{n}", name) for n, name in enumerate(names)))

    assert chat_label(chat("Zoë Ade", "bob Bell"), {}) == "bob Zoë"
    assert chat_label(chat("Alex Kim", "Alex Kim"), {}) == "Alex Kim Alex Kim"   # not one "Alex"
    assert chat_label(chat(*[f"P{n} X" for n in range(6)]), {}) == "P0 P1 P2 P3 and 2 more"
    assert chat_label(chat("A B", topic="  Launch crew "), {}) == "Launch crew"
