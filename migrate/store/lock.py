"""The run lock of a working directory: one writer at a time (a command that finds it held
exits 4).

An OS lock (flock) on `run.lock` is held for the life of the process, so a holder that dies —
even by SIGKILL — releases it at once and the next run takes over; the file's content says who
holds (or last held) it, so a refused run can name the holder and since when.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from migrate.errors import LockedError


@dataclass(frozen=True)
class LockHolder:
    pid: int
    host: str
    command: str
    since: str

    def describe(self) -> str:
        return f"`migrate {self.command}` (pid {self.pid} on {self.host}) since {self.since}"


class RunLock:
    def __init__(self, workdir: Path) -> None:
        self.path = Path(workdir) / "run.lock"
        self._fd: int | None = None
        self.taken_over: LockHolder | None = None  # a dead holder we replaced, if any

    def _read_holder(self, fd: int) -> LockHolder | None:
        os.lseek(fd, 0, os.SEEK_SET)
        raw = os.read(fd, 4096)
        try:
            data = json.loads(raw.decode("utf-8"))
            return LockHolder(int(data["pid"]), str(data["host"]), str(data["command"]),
                              str(data["since"]))
        except (ValueError, KeyError, TypeError):
            return None

    def acquire(self, command: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self._read_holder(fd)
            os.close(fd)
            who = holder.describe() if holder else "another migrate process"
            raise LockedError(
                f"{self.path.parent}: the working directory is locked by {who}",
                hint="wait for it to finish; a lock left by a dead process is taken over automatically",
            ) from None
        # We hold it. Leftover content means the previous holder died without releasing.
        self.taken_over = self._read_holder(fd)
        holder = LockHolder(os.getpid(), socket.gethostname(), command,
                            dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, json.dumps(holder.__dict__).encode("utf-8"))
        os.fsync(fd)
        self._fd = fd
        self.holder = holder

    def release(self) -> None:
        if self._fd is None:
            return
        # Empty the file first: content left behind means "died while holding".
        os.ftruncate(self._fd, 0)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
