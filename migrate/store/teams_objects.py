"""Recording raw Microsoft Graph objects in the store, exactly as read, plus query columns.

The export stage calls these with Graph's dicts; later stages read the columns, and the
objects back through the `raw_*` functions (migrate/export/records.py makes records of them). A message read twice keeps its newest version (by
lastModifiedDateTime), so an overlapping incremental export never moves a message backwards.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from migrate.store.db import Store, utcnow
from migrate.timestamps import instant_or_min

Json = dict[str, Any]


def _raw(obj: Json) -> str:
    # Keys in the order Graph sent them: the stored copy is the object as read.
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


# Graph trims trailing zeros of fractional seconds, so versions are compared as instants.
_instant = instant_or_min


def is_deleted_message(message: Json) -> bool:
    """Deleted per Teams: deletedDateTime set, or an emptied body even when it is not
    (deleted messages are often returned with deletedDateTime null and only the body emptied:
    github.com/microsoftgraph/microsoft-graph-docs-contrib issues 1935 and 2533)."""
    if message.get("deletedDateTime"):
        return True
    if message.get("messageType") not in (None, "message"):
        return False  # system events have their own empty-looking bodies
    body = message.get("body") or {}
    has_attachments = bool(message.get("attachments"))
    return not (body.get("content") or "").strip() and not has_attachments


# Chat messages share teams_messages with channel messages: channel_id holds the chat id (chat
# and channel ids never collide: 19:…@thread.v2 / @unq.gbl.spaces vs @thread.tacv2 / .skype)
# and team_id is this marker.
CHAT_TEAM = ""


def message_conversation(message: Json) -> str | None:
    """The channel (channelIdentity.channelId) or chat (chatId) a Graph message belongs to."""
    return (message.get("channelIdentity") or {}).get("channelId") or message.get("chatId")


def upsert_users(store: Store, users: Iterable[Json]) -> int:
    now = utcnow()
    rows = [(u["id"], u.get("displayName"), u.get("mail"), u.get("userPrincipalName"),
             u.get("userType"), None if u.get("accountEnabled") is None else int(u["accountEnabled"]),
             _raw(u), now) for u in users]
    with store.transaction() as conn:
        conn.executemany(
            "INSERT INTO teams_users VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
            "display_name = excluded.display_name, mail = excluded.mail, "
            "user_principal_name = excluded.user_principal_name, user_type = excluded.user_type, "
            "account_enabled = excluded.account_enabled, raw = excluded.raw, "
            "fetched_at = excluded.fetched_at", rows)
    return len(rows)


def upsert_team(store: Store, team: Json) -> None:
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO teams_teams VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
            "display_name = excluded.display_name, visibility = excluded.visibility, "
            "is_archived = excluded.is_archived, created_at = excluded.created_at, "
            "raw = excluded.raw, fetched_at = excluded.fetched_at",
            (team["id"], team.get("displayName"), team.get("visibility"),
             int(bool(team.get("isArchived"))), team.get("createdDateTime"), _raw(team), utcnow()))


def record_listed_team(store: Store, team: Json) -> None:
    """A team as `GET /teams` lists it (id, displayName, description): recorded at once so
    the source inventory holds every team found, even one whose details then fail. Full
    details (upsert_team) replace it; a listing never overwrites them, except the name."""
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO teams_teams (id, display_name, raw, fetched_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name",
            (team["id"], team.get("displayName"), _raw(team), utcnow()))


def replace_team_members(store: Store, team_id: str, members: Iterable[Json]) -> int:
    """The full member list of a team, as read now (members who left are dropped)."""
    now = utcnow()
    rows = [(team_id, m["id"], m.get("userId"), json.dumps(m.get("roles") or []), _raw(m), now)
            for m in members]
    with store.transaction() as conn:
        conn.execute("DELETE FROM teams_team_members WHERE team_id = ?", (team_id,))
        conn.executemany("INSERT INTO teams_team_members VALUES (?, ?, ?, ?, ?, ?)", rows)
    return len(rows)


def upsert_channel(store: Store, team_id: str, channel: Json) -> None:
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO teams_channels VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
            "team_id = excluded.team_id, display_name = excluded.display_name, "
            "membership_type = excluded.membership_type, description = excluded.description, "
            "created_at = excluded.created_at, raw = excluded.raw, fetched_at = excluded.fetched_at",
            (channel["id"], team_id, channel.get("displayName"), channel.get("membershipType"),
             channel.get("description"), channel.get("createdDateTime"), _raw(channel), utcnow()))


def replace_channel_members(store: Store, channel_id: str, members: Iterable[Json]) -> int:
    now = utcnow()
    rows = [(channel_id, m["id"], m.get("userId"), json.dumps(m.get("roles") or []), _raw(m), now)
            for m in members]
    with store.transaction() as conn:
        conn.execute("DELETE FROM teams_channel_members WHERE channel_id = ?", (channel_id,))
        conn.executemany("INSERT INTO teams_channel_members VALUES (?, ?, ?, ?, ?, ?)", rows)
    return len(rows)


# A message ready to store: (key, lastModifiedDateTime, raw JSON, the other columns).
MessageRow = tuple[tuple[str, str, str], str | None, str, tuple[Any, ...]]


def message_rows(team_id: str, messages: Iterable[Json]) -> list[MessageRow]:
    """Messages as rows for `store_message_rows`, without the store: a reader thread makes
    them, so what waits for the writer is a page's JSON text, not its parsed objects (about
    a third of the memory)."""
    rows = []
    for m in messages:
        channel_id = message_conversation(m)
        if not channel_id:
            raise ValueError(f"message {m.get('id')} has neither channelIdentity.channelId "
                             "nor chatId")
        modified = m.get("lastModifiedDateTime") or m.get("createdDateTime")
        rows.append(((channel_id, m.get("replyToId") or m["id"], m["id"]), modified, _raw(m), (
            team_id, m.get("replyToId"), m.get("messageType"),
            ((m.get("from") or {}).get("user") or {}).get("id"), m.get("createdDateTime"),
            modified, m.get("lastEditedDateTime"), int(is_deleted_message(m)))))
    return rows


def upsert_messages(store: Store, team_id: str, messages: Iterable[Json]) -> tuple[int, int]:
    """Record messages (roots and replies); returns (new, updated).

    A copy older than the stored one (by lastModifiedDateTime) is ignored, so re-reading an
    overlapping window is harmless; a newer copy replaces it and bumps `version`.
    """
    return store_message_rows(store, message_rows(team_id, messages))


def store_message_rows(store: Store, rows: list[MessageRow]) -> tuple[int, int]:
    """`upsert_messages` of rows made by `message_rows`. One query finds what the page
    already has: this runs for every page of a tenant-wide export."""
    if not rows:
        return 0, 0
    now = utcnow()
    inserts, updates = [], []
    with store.transaction() as conn:
        ids = sorted({key[2] for key, *_ in rows})
        existing = {(c, t, i): (lm, raw) for c, t, i, lm, raw in conn.execute(
            f"SELECT channel_id, thread_id, id, last_modified_at, raw FROM teams_messages "
            f"WHERE id IN ({','.join('?' * len(ids))})", ids)}
        for key, modified, raw, values in rows:
            old = existing.get(key)
            if old is None:
                inserts.append((*values, raw, now, *key))
                existing[key] = (modified, raw)  # the same message twice in one page
            elif _instant(modified) >= _instant(old[0]) and raw != old[1]:
                updates.append((*values, raw, now, *key))
                existing[key] = (modified, raw)
        conn.executemany(
            "INSERT INTO teams_messages (team_id, reply_to_id, message_type, from_user_id, "
            "created_at, last_modified_at, last_edited_at, deleted, raw, fetched_at, "
            "channel_id, thread_id, id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", inserts)
        conn.executemany(
            "UPDATE teams_messages SET team_id = ?, reply_to_id = ?, message_type = ?, "
            "from_user_id = ?, created_at = ?, last_modified_at = ?, last_edited_at = ?, "
            "deleted = ?, raw = ?, fetched_at = ?, version = version + 1 "
            "WHERE channel_id = ? AND thread_id = ? AND id = ?", updates)
    return len(inserts), len(updates)


# -- reading back -----------------------------------------------------------------------
# The objects come back as Graph gave them; migrate/export/records.py turns them into records.


def raw_users(store: Store) -> Iterator[Json]:
    """Every Graph user stored, by id, one at a time (350,000 users' JSON are never all in
    memory at once)."""
    for (raw,) in store.iterate("SELECT raw FROM teams_users ORDER BY id", batch=500):
        yield json.loads(raw)


def raw_teams(store: Store) -> list[Json]:
    """Every Graph team stored (listed, or read in full), by id."""
    return [json.loads(row["raw"]) for row in store.query("SELECT raw FROM teams_teams ORDER BY id")]


def member_user_ids(store: Store, after: str = "", limit: int = -1) -> list[str]:
    """Every member account, enabled or not (a disabled account's chats still hold history),
    by id: whose chat streams the export reads. Guests are left out: their chats in this
    tenant always have a member of it, whose stream carries them. `after` and `limit` read
    them a part at a time (350,000 ids need not be in memory at once)."""
    return [row[0] for row in store.execute(
        "SELECT id FROM teams_users WHERE COALESCE(user_type, 'Member') != 'Guest' AND id > ? "
        "ORDER BY id LIMIT ?", (after, limit))]


def team_names_by_id(store: Store) -> dict[str, str | None]:
    """The display name stored for each team, by team id."""
    return dict(store.execute("SELECT id, display_name FROM teams_teams").fetchall())


def channel_ids_of_team(store: Store, team_id: str) -> list[str]:
    return [row[0] for row in store.execute("SELECT id FROM teams_channels WHERE team_id = ? "
                                            "ORDER BY id", (team_id,))]


def channels_of_types(store: Store, membership_types: Iterable[str], *, empty: bool = False
                      ) -> list[tuple[str, str]]:
    """(team id, channel id) of the stored channels of these membership types — only those
    without a stored message when `empty` — by team, then channel."""
    kinds = list(membership_types)
    marks = ", ".join("?" * len(kinds))
    unread = (" AND NOT EXISTS (SELECT 1 FROM teams_messages m WHERE m.channel_id = c.id)"
              if empty else "")
    return [(row[0], row[1]) for row in store.execute(
        f"SELECT c.team_id, c.id FROM teams_channels c WHERE c.membership_type IN ({marks})"
        f"{unread} ORDER BY c.team_id, c.id", kinds)]


def unlisted_channels(store: Store) -> list[tuple[str, str, int]]:
    """(team id, channel id, messages) of channels with stored messages that no stored channel
    row names (deleted in Teams, or their listing failed): their messages cannot be planned.
    The distinct channel ids come from the message order index, so no sort of every row."""
    out = []
    for (channel_id,) in store.execute(
            "SELECT d.channel_id FROM (SELECT DISTINCT channel_id FROM teams_messages) d "
            "WHERE NOT EXISTS (SELECT 1 FROM teams_channels c WHERE c.id = d.channel_id) "
            "AND NOT EXISTS (SELECT 1 FROM teams_chats t WHERE t.id = d.channel_id)").fetchall():
        team_id, count = store.execute(
            "SELECT min(team_id), count(*) FROM teams_messages WHERE channel_id = ?",
            (channel_id,)).fetchone()
        if team_id != CHAT_TEAM:
            out.append((team_id, channel_id, count))
    return sorted(out)


def raw_channels(store: Store) -> list[tuple[str, Json]]:
    """(team id, Graph channel) of every channel stored, by team id then channel id."""
    return [(row["team_id"], json.loads(row["raw"])) for row in store.query(
        "SELECT team_id, raw FROM teams_channels ORDER BY team_id, id")]


def raw_team_members(store: Store) -> Iterator[tuple[str, Json]]:
    """(team id, Graph conversationMember) of every team membership, by team, user id and
    membership id, one at a time (127,000 memberships' JSON at once is a hundred MB)."""
    for team_id, raw in store.iterate("SELECT team_id, raw FROM teams_team_members "
                                      "ORDER BY team_id, user_id, membership_id"):
        yield team_id, json.loads(raw)


def raw_channel_members(store: Store) -> Iterator[tuple[str, Json]]:
    """(channel id, Graph conversationMember) of every channel membership (private and shared
    channels), by channel, user id and membership id, one at a time."""
    for channel_id, raw in store.iterate("SELECT channel_id, raw FROM teams_channel_members "
                                         "ORDER BY channel_id, user_id, membership_id"):
        yield channel_id, json.loads(raw)


def team_member_user_ids(store: Store, team_id: str) -> list[str]:
    """The Entra user ids of a team's members, each once, by id (members without one —
    anonymous guests, phone users — cannot be anyone in Slack)."""
    return [uid for (uid,) in store.execute(
        "SELECT DISTINCT user_id FROM teams_team_members WHERE team_id = ? AND "
        "trim(coalesce(user_id, '')) != '' ORDER BY 1", (team_id,))]


def channel_member_user_ids(store: Store, channel_id: str) -> list[str]:
    """The Entra user ids of a private or shared channel's own members, each once, by id."""
    return [uid for (uid,) in store.execute(
        "SELECT DISTINCT user_id FROM teams_channel_members WHERE channel_id = ? AND "
        "trim(coalesce(user_id, '')) != '' ORDER BY 1", (channel_id,))]


def raw_orphan_replies(store: Store, channel_id: str) -> list[Json]:
    """A channel's replies whose thread's first message is not stored, by creation time."""
    return [json.loads(row["raw"]) for row in store.query(
        "SELECT m.raw FROM teams_messages m WHERE m.channel_id = ? AND m.thread_id != m.id "
        "AND NOT EXISTS (SELECT 1 FROM teams_messages r WHERE r.channel_id = m.channel_id "
        "AND r.thread_id = m.thread_id AND r.id = m.thread_id) ORDER BY m.created_at, m.id",
        (channel_id,))]


def raw_roots(store: Store, channel_id: str) -> Iterator[tuple[Json, bool]]:
    """A channel's thread roots by creation time then id, one at a time, each with whether
    any reply of it is stored."""
    for raw, has_replies in store.iterate(
            "SELECT r.raw, EXISTS (SELECT 1 FROM teams_messages x WHERE x.channel_id = "
            "r.channel_id AND x.thread_id = r.id AND x.id != r.id) FROM teams_messages r "
            "WHERE r.channel_id = ? AND r.thread_id = r.id ORDER BY r.created_at, r.id",
            (channel_id,)):
        yield json.loads(raw), bool(has_replies)


def raw_replies(store: Store, channel_id: str, root_id: str) -> list[Json]:
    """One thread's replies, by creation time then id. Sorted here: with an ORDER BY, SQLite
    walks the channel's date index (the whole channel, for every thread) instead of the
    thread's primary-key range."""
    rows = [json.loads(row["raw"]) for row in store.query(
        "SELECT raw FROM teams_messages WHERE channel_id = ? AND thread_id = ? "
        "AND id != thread_id", (channel_id, root_id))]
    return sorted(rows, key=lambda raw: (raw.get("createdDateTime") or "", raw["id"]))


def raw_messages_of_channel(store: Store, channel_id: str) -> list[Json]:
    """The Graph messages (roots and replies, newest copy of each) of one channel, by creation
    time then id. One channel at a time: a tenant's messages never sit in memory at once."""
    return [json.loads(row["raw"]) for row in store.query(
        "SELECT raw FROM teams_messages WHERE channel_id = ? ORDER BY created_at, id",
        (channel_id,))]


def newest_teams_change(store: Store) -> str | None:
    """The newest lastModifiedDateTime among the stored messages (None when there are none):
    how far the exported data reaches."""
    return store.scalar("SELECT MAX(last_modified_at) FROM teams_messages")


def inventory(store: Store) -> dict[str, int]:
    """What the store holds of the source: every team listed, every channel and message read
    (deleted messages and system events included — they are found, even if not posted)."""
    return {"teams": count(store, "teams_teams"), "channels": count(store, "teams_channels"),
            "messages": int(store.scalar("SELECT COUNT(*) FROM teams_messages WHERE team_id != ?",
                                         (CHAT_TEAM,))),
            "chats": count(store, "teams_chats"),
            "chat_messages": int(store.scalar(
                "SELECT COUNT(*) FROM teams_messages WHERE team_id = ?", (CHAT_TEAM,)))}


def count(store: Store, table: str) -> int:
    if table not in {"teams_users", "teams_teams", "teams_team_members", "teams_channels",
                     "teams_channel_members", "teams_messages", "teams_files", "teams_chats",
                     "teams_chat_members"}:
        raise ValueError(f"not a teams_* table: {table}")
    return int(store.scalar(f"SELECT COUNT(*) FROM {table}"))
