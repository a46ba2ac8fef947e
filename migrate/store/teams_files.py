"""The files of exported messages (table `teams_files`): inline images (hostedContents) and
referenced files, recorded as pending when their message is stored, then given the outcome of
their download (downloaded, missing, too_large, forbidden)."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable

from migrate.store.db import Store, utcnow

# (channel_id, message_id, source, source_id): a file's key. source is 'hosted' | 'reference'.
FileKey = tuple[str, str, str, str]


def add_pending_files(store: Store, files: Iterable[tuple[str, str, str, str, str | None, str | None]]
                      ) -> int:
    """Record files to download, each as (channel_id, message_id, source, source_id, name,
    url); a file already recorded is left as it is. Returns how many were new."""
    added = 0
    now = utcnow()
    with store.transaction() as conn:
        for channel_id, message_id, source, source_id, name, url in files:
            added += conn.execute(
                "INSERT INTO teams_files (channel_id, message_id, source, source_id, name, url, "
                "status, fetched_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?) "
                "ON CONFLICT DO NOTHING",
                (channel_id, message_id, source, source_id, name, url, now)).rowcount
    return added


def pending_files(store: Store, channels: list[str] | None = None) -> list[sqlite3.Row]:
    """The `teams_files` rows still to download (of these channels only, when given), in key
    order."""
    if channels is None:
        return store.query("SELECT * FROM teams_files WHERE status = 'pending' "
                           "ORDER BY channel_id, message_id, source, source_id")
    return [row for channel in sorted(channels) for row in store.query(
        "SELECT * FROM teams_files WHERE channel_id = ? AND status = 'pending' "
        "ORDER BY message_id, source, source_id", (channel,))]


def forbidden_samples(store: Store, n: int) -> list[sqlite3.Row]:
    """Up to `n` rows the app was refused (403), spread over them (first, last, between)."""
    total = int(store.scalar("SELECT COUNT(*) FROM teams_files WHERE status = 'forbidden'"))
    offsets = sorted({round(i * (total - 1) / max(1, n - 1)) for i in range(n)}) if total else []
    return [row for offset in offsets for row in store.query(
        "SELECT * FROM teams_files WHERE status = 'forbidden' "
        "ORDER BY channel_id, message_id, source, source_id LIMIT 1 OFFSET ?", (offset,))]


def requeue_forbidden(store: Store) -> int:
    """Every file the app was refused, pending again (the permission was granted since)."""
    with store.transaction() as conn:
        return conn.execute("UPDATE teams_files SET status = 'pending' "
                            "WHERE status = 'forbidden'").rowcount


def count_pending_files(store: Store) -> int:
    return int(store.scalar("SELECT COUNT(*) FROM teams_files WHERE status = 'pending'"))


def record_download(store: Store, key: FileKey, *, status: str, size: int | None,
                    sha256: str | None, mime_type: str | None) -> None:
    """The outcome of a file's download: its status, and what was learnt of it."""
    with store.transaction() as conn:
        conn.execute("UPDATE teams_files SET status = ?, size = ?, sha256 = ?, mime_type = ?, "
                     "fetched_at = ? WHERE channel_id = ? AND message_id = ? AND source = ? "
                     "AND source_id = ?", (status, size, sha256, mime_type, utcnow(), *key))


def files_by_message(store: Store, channel_id: str) -> dict[tuple[str, str], list[sqlite3.Row]]:
    """One channel's (or chat's) `teams_files` rows, grouped by (channel_id, message_id), each
    group in (source, source_id) order."""
    out: dict[tuple[str, str], list[sqlite3.Row]] = defaultdict(list)
    for row in store.query("SELECT * FROM teams_files WHERE channel_id = ? "
                           "ORDER BY message_id, source, source_id", (channel_id,)):
        out[(row["channel_id"], row["message_id"])].append(row)
    return out
