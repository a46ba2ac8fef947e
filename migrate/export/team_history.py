"""One team's channel history, read as several `lastModifiedDateTime` windows at once.

A getAllMessages stream is one request per round trip (≈0.28 s a page measured against Graph),
so a big team read page after page stays well under the 4 requests/s Graph allows on one team
(https://learn.microsoft.com/graph/throttling-limits). A team's pass therefore starts with one
page of its whole window; if that page says there is more, the rest of the window is cut by time
into parts, each read as its own stream with its own nextLink and checkpoint, side by side on
the export's stream workers (StreamQueue).

* Cutting costs one request: the first part reads the first page again.
* The filter's bounds are exclusive (`gt`/`lt`, as the API documents them), so neighbouring
  parts overlap by a second: a message whose change falls on a cut is read twice, never lost
  (messages are keyed by id; a second copy is harmless).
* The cuts are even in time from the first page's oldest change to the window's end: a team
  whose history is crowded into a short span (a migrated or freshly seeded team) is cut where
  its messages are, not across years of nothing.
* Checkpoints: `messages:team:<id>` is the pass (its window end; the watermark of the last
  complete pass), `parts:team:<id>:<n>` each part (next link, end). The watermark moves only
  once every part is complete, in the transaction that drops the parts, so an export killed at
  any point resumes each part where it stopped and never skips a change.
"""

from __future__ import annotations

import collections
import datetime as dt
import math
import threading
from collections.abc import Callable
from typing import Any

from migrate.export.client import GraphClient
from migrate.export.errors import GraphNotFound, GraphRequestError, GraphUnavailable
from migrate.export.messages import PREFER_ALL_ENUMS, MessageReader, RemainingPages, iso, parse_iso
from migrate.export.routes import TEAM_RATE

Json = dict[str, Any]
MAX_PARTS = 16                  # a team's window is cut into at most this many parts
PAGES_PER_PART = 4              # …and about this many pages each, by the first page's estimate
MIN_PART = dt.timedelta(seconds=2)
OVERLAP = dt.timedelta(seconds=1)
TEAM_ERRORS = (GraphNotFound, GraphRequestError, GraphUnavailable)


def team_scope(team_id: str) -> str:
    return f"messages:team:{team_id}"


def parts_prefix(team_id: str) -> str:
    # Not under "messages:": a part complete says nothing about a pass being complete.
    return f"parts:team:{team_id}:"


def window_url(team_id: str, after: str, before: str) -> str:
    return (f"/teams/{team_id}/channels/getAllMessages?$top=50&$filter="
            f"lastModifiedDateTime gt {after} and lastModifiedDateTime lt {before}")


def cut_window(start: str, end: str, oldest_seen: str | None, pages_left: float
               ) -> list[tuple[str, str]]:
    """The (after, before) filter bounds of the parts a window is cut into; one part (the
    window itself) when it is not worth cutting. Parts overlap by OVERLAP at every cut."""
    first = parse_iso(start)
    last = parse_iso(end)
    low = max(first, parse_iso(oldest_seen)) if oldest_seen else first
    wanted = MAX_PARTS if math.isinf(pages_left) else math.ceil(pages_left / PAGES_PER_PART)
    count = max(1, min(MAX_PARTS, wanted, int((last - low) / MIN_PART)))
    if count < 2:
        return [(start, end)]
    cuts = [iso(low + (last - low) * i / count) for i in range(1, count)]
    afters = [start] + [iso(parse_iso(cut) - OVERLAP) for cut in cuts]
    return list(zip(afters, [*cuts, end], strict=True))


def streams_per_team(client: GraphClient) -> int:
    """How many of one team's streams are worth running at once: enough to keep its rate
    (4 requests/s, scaled as the client is) busy through a round trip, and one more."""
    rate = TEAM_RATE * client.rate_scale
    return max(1, min(MAX_PARTS, math.ceil(rate * client.stats.round_trip("all_messages")) + 1))


class StreamQueue:
    """Jobs for the export's fixed set of stream workers. A running job may add more (a
    team's parts), put first, so a team under way is finished before a new one starts. No
    more than `limit(key)` jobs of one key (a team) run at once: the others wait here, so
    workers are not parked behind one team's rate cap while other teams could be read."""

    def __init__(self, limit: Callable[[str], int]) -> None:
        self._limit = limit
        self._jobs: collections.deque[tuple[str, Callable[[], None]]] = collections.deque()
        self._running: collections.Counter[str] = collections.Counter()
        self._busy = 0
        self._cond = threading.Condition()

    def add(self, key: str, job: Callable[[], None], *, first: bool = False) -> None:
        with self._cond:
            if first:
                self._jobs.appendleft((key, job))
            else:
                self._jobs.append((key, job))
            self._cond.notify()

    def _take(self) -> tuple[str, Callable[[], None]] | None:
        for index, (key, job) in enumerate(self._jobs):
            if self._running[key] < self._limit(key):
                del self._jobs[index]
                self._running[key] += 1
                self._busy += 1
                return key, job
        return None

    def work(self) -> None:
        """A worker's loop: until nothing is queued and nothing runs that could add more."""
        while True:
            with self._cond:
                while (taken := self._take()) is None:
                    if self._busy == 0:
                        self._cond.notify_all()
                        return
                    self._cond.wait()
            key, job = taken
            try:
                job()
            finally:
                with self._cond:
                    self._running[key] -= 1
                    self._busy -= 1
                    self._cond.notify_all()


class TeamHistory:
    """One team's pass. `start` is its first job; the parts it finds are handed to `spawn`;
    `finished(error)` is called once, after its last job, with the Graph error that stopped
    a part (the pass then stays open for the next export to resume) or None."""

    def __init__(self, reader: MessageReader, team_id: str,
                 spawn: Callable[[Callable[[], None]], None],
                 finished: Callable[[Exception | None], None]) -> None:
        self.reader = reader
        self.store = reader.store
        self.team_id = team_id
        self.spawn = spawn
        self.finished = finished
        self._lock = threading.Lock()
        self._left = 0
        self._error: Exception | None = None
        self._fatal = False         # a job ended by something else (the run's time budget, a bug)
        self._window_end = ""
        self._watermark: str | None = None

    # -- the first job -------------------------------------------------------------------

    def start(self) -> None:
        scope = team_scope(self.team_id)
        checkpoint = self.store.checkpoint(scope)
        self._watermark = checkpoint["watermark"] if checkpoint else None
        if checkpoint and checkpoint["status"] == "in_progress":
            self._window_end = checkpoint["window_end"] or self.reader.window_end
            parts = self.store.checkpoints_under(parts_prefix(self.team_id))
            if parts:
                self._resume([p for p in parts if p["status"] != "complete"])
                return
            if checkpoint["next_link"]:        # a single stream under way: on to its end
                self._jobs(1)
                self._run(lambda: self._read(scope, checkpoint["next_link"], self._window_end,
                                             whole=True))
                return
        self._window_end = self.reader.window_end
        self._jobs(1)
        self._run(self._first_page)

    def _resume(self, todo: list[Any]) -> None:
        if not todo:                            # killed after the last part, before the pass
            self._jobs(1)
            self._run(lambda: None)
            return
        self._jobs(len(todo))
        for part in reversed(todo):
            self.spawn(lambda part=part: self._run(
                lambda: self._read(part["scope"], part["next_link"], part["window_end"])))

    def _first_page(self) -> None:
        start = self.reader.window_start(self._watermark)
        end = self._window_end
        estimate = RemainingPages(end)
        scope = team_scope(self.team_id)
        with self.reader.hand() as hand:
            pages = self.reader.client.iter_pages(
                window_url(self.team_id, start, end), headers=PREFER_ALL_ENUMS,
                priority=estimate.pages_left, admit=hand.take)
            items, next_link = next(pages)
            estimate.saw(items)
            oldest = min((m["lastModifiedDateTime"] for m in items
                          if m.get("lastModifiedDateTime")), key=parse_iso, default=None)
            parts = cut_window(start, end, oldest, estimate.pages_left()) if next_link else []
            if len(parts) < 2:                  # one page, or not worth cutting: read on
                self._store(scope, items, next_link, end, hand, whole=True)
                if next_link:
                    self._read(scope, next_link, end, whole=True, estimate=estimate,
                               pages=pages, hand=hand)
                return
            pages.close()
            urls = [(f"{parts_prefix(self.team_id)}{n:02d}", window_url(self.team_id, a, b), b)
                    for n, (a, b) in enumerate(parts)]

            def open_parts() -> None:           # in the transaction storing the first page
                self.store.save_checkpoint(scope, next_link=None, watermark=self._watermark,
                                           window_end=end, run_id=self.reader.run_id,
                                           status="in_progress")
                for part_scope, url, before in urls:
                    self.store.save_checkpoint(part_scope, next_link=url, watermark=None,
                                               window_end=before, run_id=self.reader.run_id,
                                               status="in_progress")

            self.reader.store_page(self.team_id, None, items, None, None, None, hand,
                                   also=open_parts)
        self._jobs(len(urls))
        for part_scope, url, before in reversed(urls):    # each goes first: the oldest leads
            self.spawn(lambda s=part_scope, u=url, b=before: self._run(lambda: self._read(s, u, b)))

    # -- every job -----------------------------------------------------------------------

    def _jobs(self, count: int) -> None:
        with self._lock:
            self._left += count

    def _run(self, job: Callable[[], None]) -> None:
        """One of the team's jobs; the last to end closes the pass (or leaves it open)."""
        try:
            job()
        except TEAM_ERRORS as exc:
            with self._lock:
                self._error = self._error or exc
        except BaseException:
            with self._lock:
                self._fatal = True
            raise
        finally:
            with self._lock:
                self._left -= 1
                last = self._left == 0
            if last:
                self._close()

    def _close(self) -> None:
        if self._fatal:             # the export itself stops: the pass stays open, unsaid
            return
        if self._error is None:
            scope, end = team_scope(self.team_id), self._window_end
            prefix = parts_prefix(self.team_id)

            def complete() -> None:
                with self.store.transaction():
                    self.store.save_checkpoint(scope, next_link=None, watermark=end,
                                               window_end=None, run_id=self.reader.run_id,
                                               status="complete")
                    self.store.drop_checkpoints_under(prefix)

            self.reader.submit(complete)
        elif isinstance(self._error, GraphRequestError):
            # A link Graph refused (an expired continuation token): the pass starts afresh
            # next time from the last complete one, not from that link again.
            self.reader.restart_stream(team_scope(self.team_id), self._watermark,
                                       parts=parts_prefix(self.team_id))
        self.finished(self._error)

    def _read(self, scope: str, url: str, end: str, *, whole: bool = False,
              estimate: RemainingPages | None = None, pages: Any = None, hand: Any = None
              ) -> None:
        """A stream (a part, or the whole window) from `url` to its end, page by page."""
        estimate = estimate or RemainingPages(end)
        if pages is not None:
            for items, next_link in pages:
                estimate.saw(items)
                self._store(scope, items, next_link, end, hand, whole=whole)
            return
        with self.reader.hand() as own:
            for items, next_link in self.reader.client.iter_pages(
                    url, headers=PREFER_ALL_ENUMS, priority=estimate.pages_left, admit=own.take):
                estimate.saw(items)
                self._store(scope, items, next_link, end, own, whole=whole)

    def _store(self, scope: str, items: list[Json], next_link: str | None, end: str, hand: Any,
               *, whole: bool) -> None:
        """A page with its stream's checkpoint. The whole window's own stream completes the
        pass itself (as one stream always did); a part only completes itself."""
        if whole:
            done = next_link is None
            self.reader.store_page(self.team_id, scope, items, next_link,
                                   end if done else self._watermark, None if done else end, hand)
        else:
            self.reader.store_page(self.team_id, scope, items, next_link, None, end, hand)
