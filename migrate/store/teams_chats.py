"""1:1, group and meeting chats in the store: the chat objects and their current members, as
Graph gave them. Their messages live in teams_messages beside channel messages (channel_id =
the chat id, team_id = teams_objects.CHAT_TEAM), so the plan reads a chat's messages exactly
as it reads a channel's."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from migrate.store.db import Store, utcnow
from migrate.store.teams_objects import CHAT_TEAM

Json = dict[str, Any]


def _raw(obj: Json) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def upsert_chat(store: Store, chat: Json) -> None:
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO teams_chats VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
            "chat_type = excluded.chat_type, topic = excluded.topic, "
            "created_at = excluded.created_at, raw = excluded.raw, fetched_at = excluded.fetched_at",
            (chat["id"], chat.get("chatType"), chat.get("topic"), chat.get("createdDateTime"),
             _raw(chat), utcnow()))


def replace_chat_members(store: Store, chat_id: str, members: Iterable[Json]) -> int:
    """A chat's current members, as read now: a member who left is dropped (their messages
    stay, and they no longer see the chat in Teams either)."""
    now = utcnow()
    rows = [(chat_id, m["id"], m.get("userId"), _raw(m), now) for m in members]
    with store.transaction() as conn:
        conn.execute("DELETE FROM teams_chat_members WHERE chat_id = ?", (chat_id,))
        conn.executemany("INSERT INTO teams_chat_members VALUES (?, ?, ?, ?, ?)", rows)
    return len(rows)


def chats_without_details(store: Store) -> list[str]:
    """Chats whose messages were read but whose chat object (type, members) never was."""
    return [row[0] for row in store.execute(
        "SELECT DISTINCT m.channel_id FROM teams_messages m "
        "LEFT JOIN teams_chats c ON c.id = m.channel_id "
        "WHERE m.team_id = ? AND c.id IS NULL ORDER BY m.channel_id", (CHAT_TEAM,))]


def chats_changed_since(store: Store, stamp: str) -> list[str]:
    """Chats with a message new or changed in the store since `stamp` (an export's start)."""
    return [row[0] for row in store.execute(
        "SELECT DISTINCT channel_id FROM teams_messages WHERE team_id = ? AND fetched_at >= ? "
        "ORDER BY channel_id", (CHAT_TEAM, stamp))]


def raw_chats(store: Store) -> Iterator[Json]:
    """Every chat stored, by id, one at a time."""
    for (raw,) in store.iterate("SELECT raw FROM teams_chats ORDER BY id"):
        yield json.loads(raw)


def raw_chat_members(store: Store) -> Iterator[tuple[str, Json]]:
    """(chat id, Graph conversationMember) of every current chat membership, by chat, user id
    and membership id, one at a time."""
    for chat_id, raw in store.iterate("SELECT chat_id, raw FROM teams_chat_members "
                                      "ORDER BY chat_id, user_id, membership_id"):
        yield chat_id, json.loads(raw)


def chat_message_count(store: Store, chat_id: str) -> int:
    """How many messages of a chat the store holds (deleted ones and system events too)."""
    # `+team_id`: by the chat's own index range; SQLite would otherwise pick the team_id index
    # and count through every chat message of the tenant for each chat (quadratic).
    return store.scalar("SELECT COUNT(*) FROM teams_messages WHERE channel_id = ? "
                        "AND +team_id = ?", (chat_id, CHAT_TEAM)) or 0
