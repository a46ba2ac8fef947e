"""The state store: `$MIGRATE_WORKDIR/state.db`, SQLite in WAL mode, readable by its owner only.

One `Store` per process. It is shared by worker threads, so every statement goes through one
connection under a lock; writes are short transactions (`with store.transaction():`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import socket
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from migrate.errors import StoreError
from migrate.store.schema import MIGRATIONS, SCHEMA_VERSION

DB_FILENAME = "state.db"


def utcnow() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Store:
    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self.lock = threading.RLock()
        self._depth = 0

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def open(cls, workdir: str | os.PathLike) -> Store:
        workdir = Path(workdir)
        if workdir.exists() and not workdir.is_dir():
            raise StoreError(f"{workdir}: the working directory is a file, not a folder",
                             hint="set MIGRATE_WORKDIR or --workdir to a folder")
        created = not workdir.exists()
        try:
            workdir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{workdir}: cannot create the working directory ({exc.strerror})",
                             hint="set MIGRATE_WORKDIR or --workdir to a writable folder") from None
        path = workdir / DB_FILENAME
        if created or path.exists():
            # Ours: private (it holds private channels' text), whatever the umask was.
            with contextlib.suppress(OSError):
                os.chmod(workdir, 0o700)
        if not os.access(workdir, os.W_OK | os.X_OK):
            raise StoreError(f"{workdir}: the working directory is not writable (read-only, or "
                             "another user's)",
                             hint="give this user write access, or set --workdir elsewhere")
        if not path.exists():
            cls._create(path)
        elif path.stat().st_size == 0:
            # A state that is nothing but a name (a truncated copy, a failed cache restore) is
            # not a new migration: starting afresh here would migrate everything twice.
            raise StoreError(f"{path}: the state database is empty (0 bytes): its ledger is lost",
                             hint="restore it from where it was kept (a CI cache or artifact), "
                             "or remove it and run `migrate adopt` to rebuild it from Slack")
        os.chmod(path, 0o600)
        store = cls(cls._connect(path), path)
        if store.schema_version == 0:
            store.close()
            raise StoreError(f"{path}: not a migrate state database (a file of something else)",
                             hint="point --workdir at the migration's working directory, or "
                             "move this file away")
        store.migrate()
        return store

    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA user_version").fetchone()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{path}: not a usable state database ({exc})",
                             hint="point --workdir elsewhere, or move the damaged file away") from None
        return conn

    @classmethod
    def _create(cls, path: Path) -> None:
        """A new state database, built beside its final name and renamed into place: a crash
        never leaves a 0-byte or half-made state.db (which later runs refuse). 0600 from its
        first byte (it holds tenant data); SQLite gives -wal/-shm the same permissions."""
        fresh = path.with_name(path.name + ".new")
        for leftover in (fresh, fresh.with_name(fresh.name + "-wal"),
                         fresh.with_name(fresh.name + "-shm")):
            leftover.unlink(missing_ok=True)
        os.close(os.open(fresh, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
        store = cls(cls._connect(fresh), fresh)
        try:
            store.migrate()
            store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            store.conn.execute("PRAGMA journal_mode=DELETE")   # one file to rename
        finally:
            store.close()
        os.replace(fresh, path)

    def close(self) -> None:
        with self.lock:
            self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return self.conn.execute("PRAGMA user_version").fetchone()[0]

    def migrate(self) -> list[str]:
        """Apply pending migrations in order, each in its own transaction; returns their names."""
        applied = []
        with self.lock:
            current = self.schema_version
            if current > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path}: schema version {current} was written by a newer migrate "
                    f"(this one knows up to {SCHEMA_VERSION})",
                    hint="upgrade migrate, or use another --workdir")
            for version in range(current + 1, SCHEMA_VERSION + 1):
                name, sql = MIGRATIONS[version - 1]
                try:
                    self.conn.execute("BEGIN IMMEDIATE")
                    for statement in _split_sql(sql):
                        self.conn.execute(statement)
                    self.conn.execute(f"PRAGMA user_version = {version}")
                    self.conn.execute("COMMIT")
                except sqlite3.Error as exc:
                    if self.conn.in_transaction:   # SQLITE_FULL has rolled it back already
                        self.conn.execute("ROLLBACK")
                    raise StoreError(f"{self.path}: migration {version} ({name}) failed: {exc}") from None
                applied.append(name)
        return applied

    # -- statements ----------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; nested uses join the outer one."""
        with self.lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self.conn
                finally:
                    self._depth -= 1
                return
            self.conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self.conn
            except BaseException:
                if self.conn.in_transaction:       # SQLite may have rolled back itself (disk full)
                    self.conn.execute("ROLLBACK")
                raise
            else:
                self.conn.execute("COMMIT")
            finally:
                self._depth = 0

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        with self.lock:
            return self.conn.execute(sql, params)

    def query(self, sql: str, params: Any = ()) -> list[sqlite3.Row]:
        with self.lock:
            cur = self.conn.execute(sql, params)
            cur.row_factory = sqlite3.Row
            return cur.fetchall()

    def iterate(self, sql: str, params: Any = (), batch: int = 256) -> Iterator[tuple]:
        """The rows of a query a batch at a time (`query` holds them all): for reading a
        tenant's worth of rows with flat memory. Other statements may run in between."""
        return fetch_batches(self.conn, self.lock, sql, params, batch)

    def scalar(self, sql: str, params: Any = ()) -> Any:
        with self.lock:
            row = self.conn.execute(sql, params).fetchone()
        return row[0] if row else None

    # -- runs ----------------------------------------------------------------------------

    def start_run(self, command: str) -> int:
        with self.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO runs (command, started_at, pid, host) VALUES (?, ?, ?, ?)",
                (command, utcnow(), os.getpid(), socket.gethostname()))
            return int(cur.lastrowid)

    def finish_run(self, run_id: int, status: str, exit_code: int,
                   summary: dict[str, Any] | None = None) -> None:
        with self.transaction() as conn:
            conn.execute(
                "UPDATE runs SET ended_at = ?, status = ?, exit_code = ?, summary = ? WHERE id = ?",
                (utcnow(), status, exit_code, json.dumps(summary, sort_keys=True) if summary else None,
                 run_id))

    def mark_abandoned_runs(self) -> int:
        """Runs still 'running' when the lock is free were killed; say so in the history."""
        with self.transaction() as conn:
            return conn.execute(
                "UPDATE runs SET status = 'interrupted', ended_at = COALESCE(ended_at, ?) "
                "WHERE status = 'running'", (utcnow(),)).rowcount

    def run_started_at(self, run_id: int) -> str | None:
        """When run `run_id` started (None: no such run)."""
        return self.scalar("SELECT started_at FROM runs WHERE id = ?", (run_id,))

    def last_runs(self, limit: int = 10) -> list[sqlite3.Row]:
        return self.query("SELECT * FROM runs ORDER BY id DESC LIMIT ?", (limit,))

    # -- warnings ------------------------------------------------------------------------

    def add_warning(self, stage: str, kind: str, message: str, subject: str | None = None,
                    run_id: int | None = None) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO warnings (run_id, stage, kind, subject, message, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)", (run_id, stage, kind, subject, message, utcnow()))

    def warning_counts(self, stage: str | None = None) -> dict[str, int]:
        sql = "SELECT kind, COUNT(*) FROM warnings"
        params: tuple = ()
        if stage:
            sql += " WHERE stage = ?"
            params = (stage,)
        return dict(self.execute(sql + " GROUP BY kind ORDER BY kind", params).fetchall())

    def warning_counts_of_run(self, stage: str, run_id: int | None) -> dict[str, int]:
        """Warnings of one stage in one run (run_id None: those recorded outside a run), by kind."""
        return dict(self.execute(
            "SELECT kind, COUNT(*) FROM warnings WHERE stage = ? AND run_id IS ? GROUP BY kind",
            (stage, run_id)).fetchall())

    # -- export checkpoints --------------------------------------------------------------

    def checkpoint(self, scope: str) -> sqlite3.Row | None:
        rows = self.query("SELECT * FROM export_checkpoints WHERE scope = ?", (scope,))
        return rows[0] if rows else None

    def completed_checkpoint_scopes(self, prefix: str) -> set[str]:
        """The scopes starting with `prefix` (a LIKE pattern's fixed part) whose checkpoint is
        complete."""
        return {row["scope"] for row in self.query(
            "SELECT scope FROM export_checkpoints WHERE scope LIKE ? AND status = 'complete'",
            (prefix + "%",))}

    def has_completed_checkpoint(self, prefix: str) -> bool:
        """Whether any scope starting with `prefix` has a complete checkpoint."""
        return bool(self.scalar(
            "SELECT 1 FROM export_checkpoints WHERE scope LIKE ? AND status = 'complete' LIMIT 1",
            (prefix + "%",)))

    def checkpoints_under(self, prefix: str) -> list[sqlite3.Row]:
        """Every checkpoint whose scope starts with `prefix`, by scope."""
        return self.query("SELECT * FROM export_checkpoints WHERE scope LIKE ? ESCAPE '\\' "
                          "ORDER BY scope", (_like_prefix(prefix),))

    def drop_checkpoints_under(self, prefix: str) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM export_checkpoints WHERE scope LIKE ? ESCAPE '\\'",
                         (_like_prefix(prefix),))

    def save_checkpoint(self, scope: str, *, next_link: str | None, watermark: str | None,
                        status: str, window_end: str | None = None, run_id: int | None = None) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO export_checkpoints (scope, next_link, watermark, window_end, status, "
                "run_id, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (scope) DO UPDATE SET "
                "next_link = excluded.next_link, watermark = excluded.watermark, "
                "window_end = excluded.window_end, status = excluded.status, "
                "run_id = excluded.run_id, updated_at = excluded.updated_at",
                (scope, next_link, watermark, window_end, status, run_id, utcnow()))


def fetch_batches(conn: sqlite3.Connection, lock: threading.Lock | threading.RLock, sql: str,
                  params: Any = (), batch: int = 256) -> Iterator[tuple]:
    """The rows of a query on a shared connection, `batch` at a time, the lock held only while
    running it and fetching (lazily: the query runs at the first row asked for)."""
    with lock:
        cursor = conn.execute(sql, params)
    while True:
        with lock:
            rows = cursor.fetchmany(batch)
        if not rows:
            return
        yield from rows


def _like_prefix(prefix: str) -> str:
    """A LIKE pattern matching what starts with `prefix` (ids may hold `_` and `%`)."""
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements (executescript would commit our transaction)."""
    statements, buf = [], []
    for line in script.splitlines():
        code = line.split("--", 1)[0]
        buf.append(code)
        if code.rstrip().endswith(";"):
            statement = "\n".join(buf).strip()
            if statement.strip(";").strip():
                statements.append(statement)
            buf = []
    tail = "\n".join(buf).strip()
    if tail:
        statements.append(tail)
    return statements
