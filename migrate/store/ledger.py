"""The import ledger: exactly-once bookkeeping of every Slack side effect: an
intent is recorded before each call and the Slack ts after it; a call whose outcome is unknown
is in doubt, and is looked up in Slack before it is ever made again.

States: `intent` (recorded just before the call), `done` (the call answered; its ts/id is
kept), `in_doubt` (the call may or may not have landed: timeout, reset, crash), `failed`
(transient; retried next run), `skipped` (permanent; never retried, reason reported).
An `intent` found at start-up was interrupted mid-call, so it is in doubt too.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from migrate.store import keys
from migrate.store.db import Store, utcnow

STATES = ("intent", "in_doubt", "done", "failed", "skipped")


def get(store: Store, key: str) -> sqlite3.Row | None:
    rows = store.query("SELECT * FROM ledger WHERE key = ?", (key,))
    return rows[0] if rows else None


def _set(store: Store, key: str, state: str, *, kind: str | None = None, teams_id: str | None = None,
         slack_channel: str | None = None, slack_ts: str | None = None, reason: str | None = None,
         run_id: int | None = None, attempt: bool = False, slack_file: str | None = None,
         content_hash: str | None = None) -> None:
    now = utcnow()
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO ledger (key, kind, teams_id, slack_channel, slack_ts, state, reason, attempts, "
            "run_id, updated_at, intent_at, slack_file, content_hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET state = excluded.state, "
            "kind = COALESCE(excluded.kind, kind), teams_id = COALESCE(excluded.teams_id, teams_id), "
            "slack_channel = COALESCE(excluded.slack_channel, slack_channel), "
            "slack_ts = COALESCE(excluded.slack_ts, slack_ts), reason = excluded.reason, "
            "attempts = attempts + excluded.attempts, run_id = COALESCE(excluded.run_id, run_id), "
            "updated_at = excluded.updated_at, intent_at = COALESCE(excluded.intent_at, intent_at), "
            "slack_file = COALESCE(excluded.slack_file, slack_file), "
            "content_hash = COALESCE(excluded.content_hash, content_hash)",
            (key, kind or keys.kind_of(key), teams_id, slack_channel, slack_ts, state, reason,
             1 if attempt else 0, run_id, now, now if attempt else None, slack_file, content_hash))


def intent(store: Store, key: str, kind: str, *, teams_id: str | None = None,
           slack_channel: str | None = None, run_id: int | None = None,
           slack_file: str | None = None) -> None:
    """Record that the call for `key` is about to be made (counts an attempt, stamps intent_at)."""
    _set(store, key, "intent", kind=kind, teams_id=teams_id, slack_channel=slack_channel,
         run_id=run_id, attempt=True, slack_file=slack_file)


def done(store: Store, key: str, *, kind: str | None = None, slack_channel: str | None = None,
         slack_ts: str | None = None, reason: str | None = None, slack_file: str | None = None,
         teams_id: str | None = None, run_id: int | None = None,
         content_hash: str | None = None) -> None:
    _set(store, key, "done", kind=kind, slack_channel=slack_channel, slack_ts=slack_ts,
         reason=reason, slack_file=slack_file, teams_id=teams_id, run_id=run_id,
         content_hash=content_hash)


def text_hash(text: str) -> str:
    """What a post's text is remembered by, to tell an edit (or a reaction change) apart."""
    import hashlib

    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]  # noqa: S324 - not security


def not_sent(store: Store, key: str, reason: str) -> None:
    """Slack answered the call with a refusal that means it never acted (a 429): the intent
    is withdrawn. `failed`, not in doubt: nothing can be in Slack, the next run sends it."""
    _set(store, key, "failed", reason=reason)


def in_doubt(store: Store, key: str, reason: str) -> None:
    _set(store, key, "in_doubt", reason=reason)


def failed(store: Store, key: str, reason: str, *, kind: str | None = None,
           teams_id: str | None = None, run_id: int | None = None) -> None:
    _set(store, key, "failed", kind=kind, teams_id=teams_id, reason=reason, run_id=run_id)


def skipped(store: Store, key: str, kind: str, reason: str, *, teams_id: str | None = None,
            run_id: int | None = None) -> None:
    _set(store, key, "skipped", kind=kind, teams_id=teams_id, reason=reason, run_id=run_id)


def with_prefix(store: Store, prefix: str) -> dict[str, sqlite3.Row]:
    """Every row whose key starts with `prefix` (a range scan of the primary key)."""
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return {row["key"]: row for row in store.query(
        "SELECT * FROM ledger WHERE key >= ? AND key < ?", (prefix, upper))}


def retracted(store: Store) -> list[sqlite3.Row]:
    """Posts in Slack whose Teams message is now deleted (done rows, message marked deleted)."""
    return store.query(
        "SELECT l.key, l.teams_id, l.slack_channel, l.slack_ts FROM ledger l "
        "JOIN teams_messages m ON m.id = l.teams_id AND m.deleted = 1 "
        "AND l.key LIKE ? || m.channel_id || ? || '%' "   # keys.PostKey.prefix(channel)
        "WHERE l.kind = 'post' AND l.state = 'done' ORDER BY l.key", (keys.POST + keys.SEP, keys.SEP))


def rows(store: Store, keys: list[str]) -> dict[str, sqlite3.Row]:
    """The rows of these keys (those that exist)."""
    out: dict[str, sqlite3.Row] = {}
    for i in range(0, len(keys), 500):
        batch = keys[i:i + 500]
        out.update((row["key"], row) for row in store.query(
            f"SELECT * FROM ledger WHERE key IN ({', '.join('?' for _ in batch)})", batch))
    return out


def state_counts_since(store: Store, prefix: str, since: str) -> list[tuple[str, bool, int]]:
    """(state, updated before `since`, how many) of the rows whose key starts with `prefix`
    (a range scan of the primary key)."""
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return [(state, bool(earlier), n) for state, earlier, n in store.execute(
        "SELECT state, updated_at < ?, COUNT(*) FROM ledger WHERE key >= ? AND key < ? "
        "GROUP BY state, updated_at < ?", (since, prefix, upper, since))]


def any_with_prefix(store: Store, prefix: str) -> bool:
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return store.scalar("SELECT EXISTS (SELECT 1 FROM ledger WHERE key >= ? AND key < ?)",
                        (prefix, upper)) == 1


def settled_of_message(store: Store, channel: str, message: str) -> dict[str, str]:
    """The posts of one Teams message an earlier run finished: ledger key → done | skipped."""
    prefix = keys.PostKey.prefix(channel) + message + keys.SEP
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return {row["key"]: row["state"] for row in store.query(
        "SELECT key, state FROM ledger WHERE key >= ? AND key < ? AND state IN ('done', 'skipped')",
        (prefix, upper))}



def imported_posts(store: Store, channel: str) -> dict[str, tuple[str, int]]:
    """ts → (Teams message id, part) of one channel's posts Slack's importer brought in
    (recorded by the bundle hand-over)."""
    prefix = keys.PostKey.prefix(channel)
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    out: dict[str, tuple[str, int]] = {}
    for row in store.query("SELECT key, slack_ts FROM ledger WHERE key >= ? AND key < ? AND "
                           "state = 'done' AND reason LIKE 'imported from%'", (prefix, upper)):
        key = keys.PostKey.parse(row["key"])
        out[row["slack_ts"]] = (key.message, key.part)
    return out


def channel_map(store: Store) -> dict[str, str]:
    """Teams channel id → the Slack channel an earlier run created or reused for it."""
    return {row["teams_id"]: row["slack_channel"] for row in store.query(
        "SELECT teams_id, slack_channel FROM ledger WHERE kind = 'channel' AND state = 'done' "
        "AND slack_channel IS NOT NULL")}


def slack_channels(store: Store) -> set[str]:
    """Every Slack channel any ledger row names (created, reused, posted into)."""
    return {row["slack_channel"] for row in store.query(
        "SELECT DISTINCT slack_channel FROM ledger WHERE slack_channel IS NOT NULL")}


def channels_in_doubt(store: Store) -> set[str]:
    """Teams channels whose Slack channel creation was started but not confirmed."""
    return {row["teams_id"] for row in store.query(
        "SELECT teams_id FROM ledger WHERE kind = 'channel' AND state IN "
        "('intent', 'in_doubt', 'failed') AND teams_id IS NOT NULL")}


def recover_interrupted(store: Store) -> int:
    """Intents left by a process that died mid-call become in doubt; returns how many."""
    with store.transaction() as conn:
        return conn.execute(
            "UPDATE ledger SET state = 'in_doubt', reason = 'interrupted during the call', "
            "updated_at = ? WHERE state = 'intent'", (utcnow(),)).rowcount


def counts(store: Store, kinds: Iterable[str] | None = None) -> dict[str, dict[str, int]]:
    """{kind: {state: n}} for a status report."""
    out: dict[str, dict[str, int]] = {}
    wanted = set(kinds) if kinds else None
    for kind, state, n in store.execute(
            "SELECT kind, state, COUNT(*) FROM ledger GROUP BY kind, state ORDER BY kind, state"):
        if wanted is None or kind in wanted:
            out.setdefault(kind, {})[state] = n
    return out


def reasons(store: Store, state: str) -> dict[str, int]:
    """How many items are in `state`, by reason."""
    return dict(store.execute(
        "SELECT COALESCE(reason, ''), COUNT(*) FROM ledger WHERE state = ? GROUP BY reason "
        "ORDER BY COUNT(*) DESC", (state,)).fetchall())
