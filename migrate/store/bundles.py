"""What import bundles carried: conversations (where Slack's importer puts each) and posts
(with the ts they carry), so the hand-over to the API knows what is already in Slack once the
admin has imported, and later bundles carry only what is new."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable

from migrate.store.db import Store, utcnow


def generation(store: Store) -> int:
    """The number the next `migrate bundle` gets (1 for the first)."""
    return int(store.scalar("SELECT COALESCE(MAX(generation), 0) FROM bundle_items")) + 1


def carried_keys(store: Store, teams_id: str) -> set[str]:
    """Post keys of one conversation that an earlier bundle carried."""
    return {row[0] for row in store.execute(
        "SELECT key FROM bundle_items WHERE teams_id = ?", (teams_id,))}


def used_ts(store: Store, teams_id: str) -> set[str]:
    """Every ts an earlier bundle gave a post of this conversation (a ts is unique in it)."""
    return {row[0] for row in store.execute(
        "SELECT ts FROM bundle_items WHERE teams_id = ?", (teams_id,))}


def record_conversation(store: Store, teams_id: str, kind: str, name: str, bundle_id: str,
                        members: Iterable[str]) -> None:
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO bundle_conversations (teams_id, kind, name, bundle_id, members) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (teams_id) DO NOTHING",
            (teams_id, kind, name, bundle_id, json.dumps(sorted(members))))


def record_items(store: Store, rows: Iterable[tuple[str, str, str, str, str, str, int]]) -> None:
    """(key, conversation, message id, ts, text hash, bundle, generation) of carried posts."""
    with store.transaction() as conn:
        conn.executemany("INSERT OR IGNORE INTO bundle_items VALUES (?, ?, ?, ?, ?, ?, ?)", rows)


def conversation(store: Store, teams_id: str) -> sqlite3.Row | None:
    rows = store.query("SELECT * FROM bundle_conversations WHERE teams_id = ?", (teams_id,))
    return rows[0] if rows else None


def conversations(store: Store) -> list[sqlite3.Row]:
    return store.query("SELECT * FROM bundle_conversations ORDER BY teams_id")


def unconfirmed(store: Store) -> dict[str, sqlite3.Row]:
    """Bundled conversations whose import is not confirmed yet, by Teams id."""
    return {row["teams_id"]: row for row in store.query(
        "SELECT * FROM bundle_conversations WHERE confirmed_at IS NULL ORDER BY teams_id")}


def items_of(store: Store, teams_id: str) -> list[sqlite3.Row]:
    return store.query("SELECT * FROM bundle_items WHERE teams_id = ? ORDER BY ts", (teams_id,))


def confirm(store: Store, teams_id: str, slack_channel: str | None) -> None:
    with store.transaction() as conn:
        conn.execute("UPDATE bundle_conversations SET slack_channel = ?, confirmed_at = ? "
                     "WHERE teams_id = ?", (slack_channel, utcnow(), teams_id))


def bundles_written(store: Store) -> list[tuple[str, int]]:
    """(ZIP name, posts it carried), in the order they were written."""
    return [(row[0], row[1]) for row in store.execute(
        "SELECT bundle, COUNT(*) FROM bundle_items GROUP BY bundle ORDER BY MIN(generation), bundle")]


def forget_generation(store: Store, number: int) -> None:
    """A `migrate bundle` that failed part-way: what it recorded goes (its ZIPs are deleted)."""
    with store.transaction() as conn:
        keep = {row[0] for row in conn.execute(
            "SELECT DISTINCT teams_id FROM bundle_items WHERE generation < ?", (number,))}
        conn.execute("DELETE FROM bundle_items WHERE generation = ?", (number,))
        for (teams_id,) in conn.execute(
                "SELECT teams_id FROM bundle_conversations WHERE confirmed_at IS NULL").fetchall():
            if teams_id not in keep:
                conn.execute("DELETE FROM bundle_conversations WHERE teams_id = ?", (teams_id,))
