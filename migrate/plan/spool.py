"""A plan's items — posts, uploads, skips, retractions — one per message part or file, on disk.

A tenant's history is tens of millions of posts: as Python objects that is gigabytes. The plan
keeps them in a private scratch SQLite file beside the state (store/spool.py: `Spool`, deleted
when the plan goes) and hands them out in plan order, or one channel's at a time (the
importer's lanes, verify, adopt, the report's preview).

Both kinds of `Items` — `ListItems` (a list: what tests and small tools build by hand) and
`SpooledItems` (what `build_plan` makes) — offer the same few operations: iterate in plan
order, `len`, and one channel's: `of`, `count`, `head` and `chunk` (a window at a time).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import fields
from typing import Any, Generic, TypeVar, Union

from migrate.store.spool import SPOOL_PREFIX, SPOOL_SUFFIX, Spool, sweep_stale

__all__ = ["SPOOL_PREFIX", "SPOOL_SUFFIX", "Items", "ListItems", "Spool", "SpooledItems",
           "as_items", "sweep_stale"]

T = TypeVar("T")


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
        spool.create_items(table, self.columns, by_channel=self.by_channel)

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
            self.spool.append_items(self.table, self.columns, self._buffer)
            self._buffer.clear()

    def fill(self, copy: Callable[[str, Sequence[str]], int]) -> None:
        """Append rows the spool copies from its other tables: `copy(table, columns)` (a
        `Spool.copy_…` method) writes them and says how many."""
        self.flush()
        with self._buffer_lock:
            self._count += copy(self.table, self.columns)

    def seal(self) -> None:
        """Done appending: write the rest."""
        self.flush()

    # -- reading -------------------------------------------------------------------------

    def _rows(self, channel: str | None = None) -> Iterator[T]:
        self.flush()
        for row in self.spool.items(self.table, channel):
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
        return list(self._rows(channel))

    def count(self, channel: str) -> int:
        self.flush()
        return self.spool.count_items(self.table, channel)

    def head(self, channel: str, n: int) -> list[T]:
        return self.chunk(channel, 0, n)[0]

    def chunk(self, channel: str, after: int, n: int) -> tuple[list[T], int]:
        """The next n items of one channel after position `after` (0: from its start), and the
        position to continue from: a lane reads its posts a few at a time (by key, so reading
        a channel of a million posts this way stays linear)."""
        self.flush()
        rows = self.spool.items_after(self.table, channel, after, n)
        return [self._make(row) for row in rows], (rows[-1][0] if rows else after)

    def close(self) -> None:
        self.spool.close()


Items = Union[ListItems[T], SpooledItems[T]]   # noqa: UP007 (a generic alias needs Union)
