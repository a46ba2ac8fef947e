"""A plan's items — posts, uploads, skips, retractions — one per message part or file, on disk.

A tenant's history is tens of millions of posts: as Python objects that is gigabytes. The plan
keeps them in a private scratch SQLite file beside the state (`plan-<pid>-<n>.spool` in the
working directory, deleted when the plan goes) and hands them out in plan order, or one
channel's at a time (the importer's lanes, verify, adopt, the report's preview).

Both kinds of `Items` — `ListItems` (a list: what tests and small tools build by hand) and
`SpooledItems` (what `build_plan` makes) — offer the same few operations: iterate in plan
order, `len`, and one channel's: `of`, `count`, `head` and `chunk` (a window at a time).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sqlite3
import threading
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any, Generic, TypeVar, Union

T = TypeVar("T")

SPOOL_PREFIX = "plan-"
SPOOL_SUFFIX = ".spool"
_serial = itertools.count(1)


class ListItems(list, Generic[T]):
    """Items in memory (a list with the spool's look-ups)."""

    def of(self, channel: str) -> list[T]:
        return [item for item in self if item.channel == channel]

    def count(self, channel: str) -> int:
        return sum(1 for item in self if item.channel == channel)

    def head(self, channel: str, n: int) -> list[T]:
        return self.of(channel)[:n]

    def chunk(self, channel: str, after: int, n: int) -> tuple[list[T], int]:
        mine = self.of(channel)
        return mine[after:after + n], min(after + n, len(mine))

    def close(self) -> None:
        pass


def as_items(value: Iterable[T] | None) -> ListItems[T] | SpooledItems[T]:
    if isinstance(value, (ListItems, SpooledItems)):
        return value
    return ListItems(value or [])


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


class SpooledItems(Generic[T]):
    """One kind of item (a frozen dataclass with a `channel` field, or without one) in a table
    of the spool, in the order appended. Appends are buffered and written in batches."""

    BATCH = 2_000

    def __init__(self, spool: Spool, cls: type[T], table: str) -> None:
        self.spool = spool
        self.cls = cls
        self.table = table
        self.columns = [f.name for f in fields(cls)]   # type: ignore[arg-type]
        # SQLite keeps a bool as 0/1: given back as bool (plan.json says true, not 1).
        self._bools = [n for n, f in enumerate(fields(cls)) if f.type in ("bool", bool)]  # type: ignore[arg-type]
        self.by_channel = "channel" in self.columns
        self._buffer: list[tuple[Any, ...]] = []
        self._buffer_lock = threading.Lock()
        self._count = 0
        cols = ", ".join(f'"{c}"' for c in self.columns)
        with spool.lock:
            spool.conn.execute(f"CREATE TABLE {table} (seq INTEGER PRIMARY KEY, {cols})")
            if self.by_channel:   # from the start: lanes may read a channel while others come in
                spool.conn.execute(f"CREATE INDEX {table}_channel ON {table} (channel, seq)")
        self._insert = (f"INSERT INTO {table} ({cols}) VALUES "
                        f"({', '.join('?' for _ in self.columns)})")

    # -- writing -------------------------------------------------------------------------

    def append(self, item: T) -> None:
        row = tuple(getattr(item, c) for c in self.columns)
        with self._buffer_lock:
            self._buffer.append(row)
            self._count += 1
            full = len(self._buffer) >= self.BATCH
        if full:
            self.flush()

    def extend(self, items: Iterable[T]) -> None:
        for item in items:
            self.append(item)

    def flush(self) -> None:
        # Under the buffer's lock throughout: the planner appends while the import's lanes
        # read (and so flush), and rows must reach the table once and in order.
        with self._buffer_lock:
            if not self._buffer:
                return
            with self.spool.lock:
                conn = self.spool.conn
                conn.execute("BEGIN")
                conn.executemany(self._insert, self._buffer)
                conn.execute("COMMIT")
            self._buffer.clear()

    def fill(self, select: str, params: tuple = ()) -> None:
        """Append the rows of a query of the same spool (its columns in the item's order)."""
        self.flush()
        with self._buffer_lock, self.spool.lock:
            cursor = self.spool.conn.execute(f"INSERT INTO {self.table} "
                                             f"({', '.join(self.columns)}) {select}", params)
            self._count += cursor.rowcount

    def seal(self) -> None:
        """Done appending: write the rest."""
        self.flush()

    # -- reading -------------------------------------------------------------------------

    def _rows(self, where: str = "", params: tuple = (), limit: str = "") -> Iterator[T]:
        self.flush()
        sql = f"SELECT * FROM {self.table} {where} ORDER BY seq {limit}"
        with self.spool.lock:
            cursor = self.spool.conn.execute(sql, params)
        while True:
            with self.spool.lock:
                rows = cursor.fetchmany(500)
            if not rows:
                return
            for row in rows:
                yield self._make(row)

    def _make(self, row: tuple) -> T:
        values = list(row[1:])
        for n in self._bools:
            values[n] = bool(values[n])
        return self.cls(*values)

    def __iter__(self) -> Iterator[T]:
        return self._rows()

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0

    def of(self, channel: str) -> list[T]:
        return list(self._rows("WHERE channel = ?", (channel,)))

    def count(self, channel: str) -> int:
        self.flush()
        with self.spool.lock:
            return self.spool.conn.execute(f"SELECT COUNT(*) FROM {self.table} WHERE channel = ?",
                                           (channel,)).fetchone()[0]

    def head(self, channel: str, n: int) -> list[T]:
        return self.chunk(channel, 0, n)[0]

    def chunk(self, channel: str, after: int, n: int) -> tuple[list[T], int]:
        """The next n items of one channel after position `after` (0: from its start), and the
        position to continue from: a lane reads its posts a few at a time (by key, so reading
        a channel of a million posts this way stays linear)."""
        self.flush()
        with self.spool.lock:
            rows = self.spool.conn.execute(
                f"SELECT * FROM {self.table} WHERE channel = ? AND seq > ? ORDER BY seq LIMIT ?",
                (channel, after, n)).fetchall()
        return [self._make(row) for row in rows], (rows[-1][0] if rows else after)

    def close(self) -> None:
        self.spool.close()


Items = Union[ListItems[T], SpooledItems[T]]   # noqa: UP007 (a generic alias needs Union)
