"""The plan's scratch spool: a private SQLite file beside the state (`plan-<pid>-<n>.spool` in
the working directory, deleted when the plan goes), and every statement run on it.

What it holds: the plan's items, one table per kind in the order appended (`seq`), indexed by
channel where they have one; the people (`people`: each Teams user's decision, looked up by
Teams id); the carried chats' Slack names; and, while people are decided, who reaches which
Slack account (`Claims`). Scratch: nothing in it outlives the plan, so no journal and no fsync.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sqlite3
import threading
import weakref
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from migrate.store.db import fetch_batches

SPOOL_PREFIX = "plan-"
SPOOL_SUFFIX = ".spool"
_serial = itertools.count(1)
_FETCH = 500

# A person's row: what plan/people.py writes, in this column order.
_PEOPLE = ("teams_id TEXT PRIMARY KEY, sort_key TEXT NOT NULL, display_name TEXT NOT NULL, "
           "slack_id TEXT, route TEXT, reason TEXT, is_guest INTEGER NOT NULL, icon TEXT, "
           "warnings TEXT")


class Spool:
    """The scratch database. One per plan; thread-safe (the importer's lanes read from it)."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        sweep_stale(directory)
        self.path = directory / f"{SPOOL_PREFIX}{os.getpid()}-{next(_serial)}{SPOOL_SUFFIX}"
        self.path.unlink(missing_ok=True)
        self.conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        os.chmod(self.path, 0o600)   # it holds private channels' text, like the state
        # Scratch: nothing to recover after a crash, so no journal and no fsync.
        self.conn.execute("PRAGMA journal_mode = OFF")
        self.conn.execute("PRAGMA synchronous = OFF")
        self.conn.execute("PRAGMA temp_store = FILE")
        self.lock = threading.Lock()
        self._finalizer = weakref.finalize(self, _remove, self.conn, self.path)

    def close(self) -> None:
        self._finalizer()

    def _insert(self, sql: str, rows: list[tuple]) -> None:
        with self.lock:
            self.conn.execute("BEGIN")
            self.conn.executemany(sql, rows)
            self.conn.execute("COMMIT")

    def _fetch(self, sql: str, params: tuple = ()) -> Iterator[tuple]:
        """The rows of a query, a batch at a time (the lock held only while fetching)."""
        return fetch_batches(self.conn, self.lock, sql, params, _FETCH)

    # -- one kind of item per table, in the order appended --------------------------------

    def create_items(self, table: str, columns: Sequence[str], *, by_channel: bool) -> None:
        """A table of items (`seq`, then the columns); by channel: indexed from the start, as
        lanes may read a channel while others come in."""
        with self.lock:
            self.conn.execute(f"CREATE TABLE {table} (seq INTEGER PRIMARY KEY, {_names(columns)})")
            if by_channel:
                self.conn.execute(f"CREATE INDEX {table}_channel ON {table} (channel, seq)")

    def append_items(self, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
        """Rows (values in the columns' order) at the end of the table, in one transaction."""
        self._insert(f"INSERT INTO {table} ({_names(columns)}) VALUES "
                     f"({', '.join('?' for _ in columns)})", rows)

    def items(self, table: str, channel: str | None = None) -> Iterator[tuple]:
        """The table's rows in order (`seq` first), or one channel's."""
        if channel is None:
            return self._fetch(f"SELECT * FROM {table} ORDER BY seq")
        return self._fetch(f"SELECT * FROM {table} WHERE channel = ? ORDER BY seq", (channel,))

    def count_items(self, table: str, channel: str) -> int:
        with self.lock:
            return self.conn.execute(f"SELECT COUNT(*) FROM {table} WHERE channel = ?",
                                     (channel,)).fetchone()[0]

    def items_after(self, table: str, channel: str, after: int, n: int) -> list[tuple]:
        """The next n rows of one channel after `seq` `after` (by key: linear however long)."""
        with self.lock:
            return self.conn.execute(
                f"SELECT * FROM {table} WHERE channel = ? AND seq > ? ORDER BY seq LIMIT ?",
                (channel, after, n)).fetchall()

    # -- people ---------------------------------------------------------------------------

    def create_people(self) -> None:
        with self.lock:
            self.conn.execute(f"CREATE TABLE people ({_PEOPLE})")

    def add_people(self, rows: list[tuple]) -> None:
        """People's rows: teams_id, sort_key, display_name, slack_id, route, reason,
        is_guest (0/1), icon, warnings (a JSON list, or None)."""
        self._insert("INSERT INTO people VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)

    def person(self, teams_id: str) -> tuple[str, str | None, str | None, int] | None:
        """(display_name, slack_id, icon, is_guest) of one Teams user, or None."""
        with self.lock:
            return self.conn.execute(
                "SELECT display_name, slack_id, icon, is_guest FROM people WHERE teams_id = ?",
                (teams_id,)).fetchone()

    def count_people(self) -> int:
        with self.lock:
            return self.conn.execute("SELECT COUNT(*) FROM people").fetchone()[0]

    def people_ids(self) -> list[str]:
        with self.lock:
            return [r[0] for r in self.conn.execute("SELECT teams_id FROM people")]

    def copy_people(self, table: str, columns: Sequence[str]) -> int:
        """Append to an item table, in report order (display name case-folded, then id), each
        person's teams_id, display_name, slack_id, route, reason and is_guest (into `columns`,
        in that order); how many."""
        with self.lock:
            return self.conn.execute(
                f"INSERT INTO {table} ({_names(columns)}) SELECT teams_id, display_name, "
                "slack_id, route, reason, is_guest FROM people ORDER BY sort_key, teams_id",
            ).rowcount

    def people_noted(self) -> Iterator[tuple[str, str | None, str | None, str | None]]:
        """(display_name, slack_id, reason, warnings) of each person unmapped or with
        warnings, in report order."""
        return self._fetch("SELECT display_name, slack_id, reason, warnings FROM people "
                           "WHERE slack_id IS NULL OR warnings IS NOT NULL "
                           "ORDER BY sort_key, teams_id")

    # -- chats ----------------------------------------------------------------------------

    def name_chats(self, names: dict[str, str | None]) -> None:
        """Each carried chat's Slack channel name, by Teams chat id (once per plan)."""
        with self.lock:
            self.conn.execute("CREATE TABLE chat_names (teams_chat_id TEXT PRIMARY KEY, "
                              "slack_name TEXT)")
            self.conn.executemany("INSERT INTO chat_names VALUES (?, ?)", sorted(names.items()))

    def copy_named_chats(self, unnamed: str, table: str, columns: Sequence[str]) -> int:
        """Append the chat items of table `unnamed` to `table` in their order, each with its
        name from `name_chats` as its `slack_name` column; how many."""
        picked = ", ".join(f"n.{c}" if c == "slack_name" else f"c.{c}" for c in columns)
        with self.lock:
            return self.conn.execute(
                f"INSERT INTO {table} ({_names(columns)}) SELECT {picked} FROM {unnamed} c "
                "LEFT JOIN chat_names n USING (teams_chat_id) ORDER BY c.seq").rowcount

    # -- claims ---------------------------------------------------------------------------

    def claims(self) -> Claims:
        """Who reaches which Slack account, in a temporary table of the spool."""
        return Claims(self.conn, self.lock)


class Claims:
    """Who reaches which Slack account: (Slack id, Teams id) pairs in a temporary table of a
    scratch connection (a private in-memory database by default), so that memory does not
    grow with the people; what it answers is who shares an account with someone else."""

    BATCH = 5_000

    def __init__(self, conn: sqlite3.Connection | None = None,
                 lock: threading.Lock | None = None) -> None:
        self.conn = conn or sqlite3.connect(":memory:")
        self.lock = lock or threading.Lock()
        self._rows: list[tuple[str, str]] = []
        with self.lock:
            self.conn.execute("CREATE TEMP TABLE IF NOT EXISTS user_claims "
                              "(slack_id TEXT, teams_id TEXT)")
            self.conn.execute("DELETE FROM user_claims")

    def add(self, pairs: Iterable[tuple[str, str]]) -> None:
        """(Slack id, Teams id) pairs: this Teams id reaches that account."""
        self._rows.extend(pairs)
        if len(self._rows) >= self.BATCH:
            self._flush()

    def _flush(self) -> None:
        with self.lock:
            self.conn.executemany("INSERT INTO user_claims VALUES (?, ?)", self._rows)
        self._rows.clear()

    def contested(self) -> set[str]:
        """The Teams ids that reach an account some other Teams id reaches too; the claims are
        forgotten."""
        self._flush()
        with self.lock:
            found = {uid for (uid,) in self.conn.execute(
                "SELECT DISTINCT teams_id FROM user_claims WHERE slack_id IN (SELECT slack_id "
                "FROM user_claims GROUP BY slack_id HAVING COUNT(DISTINCT teams_id) > 1)")}
            self.conn.execute("DELETE FROM user_claims")
        return found


def _names(columns: Sequence[str]) -> str:
    return ", ".join(f'"{c}"' for c in columns)


def _remove(conn: sqlite3.Connection, path: Path) -> None:
    with contextlib.suppress(sqlite3.Error):
        conn.close()
    path.unlink(missing_ok=True)


def sweep_stale(directory: Path) -> None:
    """Spools a killed process left behind (its pid is gone)."""
    for path in directory.glob(f"{SPOOL_PREFIX}*{SPOOL_SUFFIX}"):
        pid = path.name.removeprefix(SPOOL_PREFIX).split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
