"""The stored snapshot of the Slack workspace (tables `slack_users`, `slack_channels`): each
user and channel as users.list / conversations.list gave it (the `raw` JSON), plus the columns
reports query. migrate/load/directory.py reads the workspace and turns the objects into
records; this module only keeps them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from migrate.model import SlackChannel, SlackUser
from migrate.store.db import Store, utcnow

Json = dict[str, Any]


def compact_json(obj: Json) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _raw(obj: Json | str) -> str:
    return obj if isinstance(obj, str) else compact_json(obj)


def email_key(email: str | None) -> str | None:
    """The email as identity matching compares it (transform/addresses.py)."""
    return (email or "").strip().lower() or None


# A SlackUser's fields in order: what the look-ups below return, one tuple per user.
USER_COLUMNS = ("id, name, real_name, display_name, email, deleted, is_bot, is_restricted, "
                "is_ultra_restricted, image_72")


def replace_directory(store: Store, users: Iterable[tuple[SlackUser, Json | str]],
                      channels: Iterable[tuple[SlackChannel, Json]], fetched_at: str) -> None:
    """Replace the whole snapshot with these users and channels (each a record and the object
    it was made from, or that object's compact JSON text), all read at `fetched_at`. The users
    are written as they come — `users` may be read from Slack page by page meanwhile: one
    transaction, so a read that fails half-way leaves the old snapshot whole."""
    user_rows = ((user.id, user.name, user.email, email_key(user.email), user.real_name,
                  user.display_name, user.image_72, int(user.deleted), int(user.is_bot),
                  int(user.is_restricted), int(user.is_ultra_restricted), _raw(raw), fetched_at)
                 for user, raw in users)
    channel_rows = [(channel.id, channel.name, int(channel.is_private), int(channel.is_archived),
                     _raw(raw), fetched_at) for channel, raw in channels]
    with store.transaction() as conn:
        conn.execute("DELETE FROM slack_users")
        conn.execute("DELETE FROM slack_channels")
        conn.executemany("INSERT OR REPLACE INTO slack_users (id, name, email, email_key, "
                         "real_name, display_name, image_72, deleted, is_bot, is_restricted, "
                         "is_ultra_restricted, raw, fetched_at) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", user_rows)
        conn.executemany("INSERT INTO slack_channels (id, name, is_private, is_archived, raw, "
                         "fetched_at) VALUES (?, ?, ?, ?, ?, ?)", channel_rows)


def user_by_id(store: Store, user_id: str) -> tuple | None:
    """One user's USER_COLUMNS, or None."""
    return store.execute(f"SELECT {USER_COLUMNS} FROM slack_users WHERE id = ?",
                         (user_id,)).fetchone()


def users_with_email(store: Store, key: str) -> list[tuple]:
    """USER_COLUMNS of every user whose email_key is `key`, by id."""
    return store.execute(f"SELECT {USER_COLUMNS} FROM slack_users WHERE email_key = ? "
                         "ORDER BY id", (key,)).fetchall()


def iter_users(store: Store) -> Iterator[tuple]:
    """USER_COLUMNS of every user, by id, a batch at a time."""
    return store.iterate(f"SELECT {USER_COLUMNS} FROM slack_users ORDER BY id", batch=1000)


def count_users(store: Store) -> int:
    return store.scalar("SELECT COUNT(*) FROM slack_users") or 0


def save_channel(store: Store, channel: SlackChannel, raw: Json) -> None:
    """Add (or replace) one channel in the snapshot, read now."""
    with store.transaction() as conn:
        conn.execute("INSERT OR REPLACE INTO slack_channels (id, name, is_private, is_archived, raw, "
                     "fetched_at) VALUES (?, ?, ?, ?, ?, ?)",
                     (channel.id, channel.name, int(channel.is_private), int(channel.is_archived),
                      _raw(raw), utcnow()))


def has_users(store: Store) -> bool:
    return store.scalar("SELECT 1 FROM slack_users LIMIT 1") is not None


def raw_channels(store: Store) -> list[Json]:
    """Every stored Slack channel object, by id."""
    return [json.loads(r["raw"]) for r in store.query("SELECT raw FROM slack_channels ORDER BY id")]


def snapshot_fetched_at(store: Store) -> str | None:
    """When the newest part of the snapshot was read (None when it is empty)."""
    return store.scalar("SELECT MAX(fetched_at) FROM (SELECT fetched_at FROM slack_users "
                        "UNION ALL SELECT fetched_at FROM slack_channels)")
