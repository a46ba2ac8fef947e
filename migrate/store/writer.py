"""One thread that does the store's writes for many reader threads.

Readers hand over work (store this page and its checkpoint) and go straight on to their next
request, so a team's page chain never waits for SQLite, and the writes themselves never
contend for the store's lock. Work that piles up is written in one transaction (a group
commit: one COMMIT for many pages, each page still with its own checkpoint, all or nothing).
The queue is bounded, so a slow disk slows the readers instead of filling memory. Work items
run in submission order; the first failure is re-raised to the next `submit` and to `close`.

The writer also keeps the page budget: how many pages read from Graph may be in memory at once
(parsed, made into rows, or waiting in the queue), whatever the number of reader threads. A
reader takes a page's place before it reads the page's body and hands it over with the page;
the writer gives it back once the page is committed. Memory then follows the budget, not the
number of teams or people read at the same time.
"""

from __future__ import annotations

import collections
import queue
import threading
from collections.abc import Callable

from migrate.store.db import Store

_STOP = object()
# Pages in memory at once (≥ 20: a chats $batch takes its 20 first pages' places together).
# Without a budget every reader thread held pages (20 per chats $batch), so the peak followed
# the number of teams: at 1M messages (50 teams) 64 pages measured +9 MB over 32, 16 no less
# than 32, all at the same speed.
PAGES_IN_HAND = 32


class PageBudget:
    """At most `limit` pages in hand at once. Places are granted in arrival order (a $batch
    waiting for 20 is not overtaken forever by single pages), and only the granted waiter is
    woken."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self._lock = threading.Lock()
        self._free = self.limit
        self._waiting: collections.deque[tuple[int, threading.Event]] = collections.deque()
        self.peak = 0        # most places ever taken at once (for tests and diagnostics)

    def take(self, n: int = 1) -> int:
        """Wait for `n` places (at most the whole budget); returns how many were taken."""
        n = min(n, self.limit)
        with self._lock:
            if not self._waiting and self._free >= n:
                self._grant(n)
                return n
            event = threading.Event()
            self._waiting.append((n, event))
        event.wait()
        return n

    def give_back(self, n: int) -> None:
        if n <= 0:
            return
        with self._lock:
            self._free += n
            while self._waiting and self._waiting[0][0] <= self._free:
                wanted, event = self._waiting.popleft()
                self._grant(wanted)
                event.set()

    @property
    def taken(self) -> int:
        with self._lock:
            return self.limit - self._free

    def _grant(self, n: int) -> None:
        self._free -= n
        self.peak = max(self.peak, self.limit - self._free)


class Hand:
    """The pages one reader has taken from the budget and not yet handed to the writer. What
    it still holds when closed (a page whose reading failed, a $batch answer that was an
    error) goes back. Without a budget (no writer), taking is free."""

    def __init__(self, budget: PageBudget | None) -> None:
        self.budget = budget
        self.held = 0

    def take(self, n: int = 1) -> None:
        if self.budget is not None:
            self.held += self.budget.take(n)

    def hand_over(self) -> int:
        """One page's place, passed on with the page to the writer."""
        if self.held <= 0:
            return 0
        self.held -= 1
        return 1

    def close(self) -> None:
        if self.budget is not None:
            self.budget.give_back(self.held)
        self.held = 0

    def __enter__(self) -> Hand:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _AfterCommit:
    """A place in the writer's queue: set once everything before it is committed."""

    def __init__(self) -> None:
        self.done = threading.Event()

    def __call__(self) -> None:
        pass                          # nothing to write


class StoreWriter:
    # One group waiting while one is written keeps the writer busy; more only holds pages
    # in memory (256 pages measured +15 MB at 1M messages, where the writer is the limit).
    def __init__(self, store: Store, max_pending: int = 64, max_group: int = 64,
                 pages_in_hand: int | None = None) -> None:
        self._store = store
        self._max_group = max_group
        self._queue: queue.Queue = queue.Queue(maxsize=max_pending)
        self._error: BaseException | None = None
        self.budget = PageBudget(pages_in_hand or PAGES_IN_HAND)
        self._thread = threading.Thread(target=self._run, name="store-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        stop = False
        while not stop:
            group = [self._queue.get()]
            while len(group) < self._max_group:
                try:
                    group.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if group[-1] is _STOP:
                group.pop()
                stop = True
            if self._error is None and group:
                try:
                    with self._store.transaction():
                        for work, _pages in group:
                            work()
                except BaseException as exc:  # handed back to the submitting side
                    self._error = exc
            for work, _pages in group:
                if isinstance(work, _AfterCommit):
                    work.done.set()       # committed, or dropped after a failure: go on
            # Committed (or dropped after a failure): the pages' places go back either way,
            # so no reader waits for a place forever.
            pages = sum(pages for _work, pages in group)
            group.clear()
            self.budget.give_back(pages)

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def hand(self) -> Hand:
        """A reader's hand on the page budget (close it when the reader is done)."""
        return Hand(self.budget)

    def submit(self, work: Callable[[], None], pages: int = 0) -> None:
        """Queue `work`; `pages` places of the page budget go back once it is committed."""
        try:
            self._raise()
        except BaseException:
            self.budget.give_back(pages)
            raise
        self._queue.put((work, pages))

    def wait_written(self) -> None:
        """Wait until everything submitted so far is committed; re-raise a failure."""
        marker = _AfterCommit()
        self.submit(marker)
        marker.done.wait()
        self._raise()

    def close(self) -> None:
        """Wait until everything submitted is written; re-raise the first failure."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()
        self._raise()

    def __enter__(self) -> StoreWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
