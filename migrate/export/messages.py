"""Reading channel messages into the store, resumably.

Two methods (https://learn.microsoft.com/graph/api/channel-getallmessages and
/graph/api/channel-list-messages):
* `getAllMessages` (default): paged streams per team of roots and replies, 200 rps per
  tenant; read in `lastModifiedDateTime` windows, so a later export reads only what changed
  (from the last window's end minus an overlap, since export data can surface a day late).
  A big team's window is cut into parts read side by side (team_history.py).
* `per-channel`: roots with `$expand=replies` per channel (1 rps per channel), following
  `replies@odata.nextLink`, and the `/replies` listing when a root shows 1000 inline replies
  without one (contrib #8819). No server-side filter exists, so incremental runs re-read.

Each page is stored together with the checkpoint naming the next page, in one transaction:
a killed export resumes at the first page it had not stored — no gap, and a page stored
twice is harmless because messages are keyed by id and keep their newest version.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from migrate.export.client import GraphClient
from migrate.export.errors import GraphRequestError
from migrate.export.files import asset_rows
from migrate.store import Store, teams_files
from migrate.store import teams_objects as teams_store
from migrate.store.writer import Hand, StoreWriter
from migrate.timestamps import parse_instant

Json = dict[str, Any]
# Teams launched in 2017; a lower bound that old reads everything (the real API documents the
# filter as a range, so both bounds are always sent).
EPOCH = "2000-01-01T00:00:00Z"
PREFER_ALL_ENUMS = {"Prefer": "include-unknown-enum-members"}
INLINE_REPLY_LIMIT = 1000
EXPAND = "&$expand=replies"     # roots with their replies inline, where Graph takes it


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


def parse_iso(text: str) -> dt.datetime:
    moment = parse_instant(text)
    if moment is None:
        raise ValueError(f"not a timestamp: {text!r}")
    return moment


class RemainingPages:
    """How many pages a team's getAllMessages stream probably has left, for scheduling.

    Pages have come back oldest change first (so the emulator, and Graph as observed); the
    share of the time window already covered then says how far along the stream is. If the
    order is otherwise, the estimate is noise and scheduling degrades to first come, first
    served — never wrong results.
    """

    def __init__(self, window_end: str) -> None:
        self.end = parse_iso(window_end).timestamp()
        self.first: float | None = None
        self.last: float | None = None
        self.pages = 0

    def saw(self, items: list[Json]) -> None:
        self.pages += 1
        stamps = [parse_iso(m["lastModifiedDateTime"]).timestamp() for m in items
                  if m.get("lastModifiedDateTime")]
        if stamps:
            self.first = min(stamps) if self.first is None else min(self.first, *stamps)
            self.last = max(stamps) if self.last is None else max(self.last, *stamps)

    def pages_left(self) -> float:
        if self.pages == 0:
            return float("inf")  # unknown yet: its first page tells, so it goes first
        if self.first is None or self.last is None or self.end <= self.first:
            return 0.0
        done = max(1e-6, (self.last - self.first) / (self.end - self.first))
        return self.pages * (1 - min(done, 1.0)) / done


class MessageReader:
    def __init__(self, client: GraphClient, store: Store, *, run_id: int | None, window_end: str,
                 overlap: dt.timedelta, since: str | None, writer: StoreWriter | None = None,
                 on_messages: Callable[[int, int], None] = lambda new, updated: None) -> None:
        self.client = client
        self.store = store
        self.writer = writer
        self.run_id = run_id
        self.window_end = window_end
        self.overlap = overlap
        self.since = since
        self.on_messages = on_messages

    def hand(self) -> Hand:
        """A hand on the writer's page budget, for one stream (`Hand`); none without a writer."""
        return self.writer.hand() if self.writer is not None else Hand(None)

    def store_page(self, team_id: str, scope: str | None, messages: list[Json],
                   next_link: str | None, watermark: str | None, window_end: str | None,
                   hand: Hand | None = None, also: Callable[[], None] | None = None) -> None:
        """Store a page with the checkpoint naming the next one, in one transaction — on the
        writer thread when there is one, so the reader can already ask for the next page.
        The rows are made here and `messages` is emptied: what waits for the writer (in its
        queue, or a reader blocked on a full one) is JSON text, not a parsed page (3× larger).
        The page's place in the budget, taken from `hand`, goes with it to the writer.
        `also` (more checkpoints) runs in the same transaction; without `scope`, no own one.
        A message that names no channel or chat (getAllMessages documents channelIdentity on
        each) is a refusal of the stream: its team is reported unreadable, not the export
        failed."""
        try:
            rows = teams_store.message_rows(team_id, messages)
        except ValueError as exc:       # a message without its conversation (message_rows)
            raise GraphRequestError(f"Graph gave a message without channelIdentity ({exc})",
                                    hint="read this tenant channel by channel: "
                                         "export.method = per-channel") from None
        assets = list(asset_rows(messages))
        messages.clear()

        def write() -> None:
            with self.store.transaction():
                new, updated = teams_store.store_message_rows(self.store, rows)
                teams_files.add_pending_files(self.store, assets)
                if scope is not None:
                    self.store.save_checkpoint(scope, next_link=next_link, watermark=watermark,
                                               window_end=window_end, run_id=self.run_id,
                                               status="in_progress" if next_link else "complete")
                if also is not None:
                    also()
            self.on_messages(new, updated)

        self.submit(write, hand)

    def submit(self, write: Callable[[], None], hand: Hand | None = None) -> None:
        """A write on the writer thread, after everything submitted before it (here, without
        a writer)."""
        if self.writer is None:
            write()
        else:
            self.writer.submit(write, pages=hand.hand_over() if hand is not None else 0)

    def restart_stream(self, scope: str, watermark: str | None, *, parts: str | None = None
                       ) -> None:
        """Forget where a stream stood (and its `parts`): Graph refused the link it was to go
        on from — a continuation token that expired or broke, or a next link given twice — so
        the next export reads its window afresh from `watermark`, instead of asking for the
        same dead link on every export. Nothing is lost: messages are stored by id."""
        def forget() -> None:
            with self.store.transaction():
                self.store.save_checkpoint(scope, next_link=None, watermark=watermark,
                                           status="complete", run_id=self.run_id)
                if parts is not None:
                    self.store.drop_checkpoints_under(parts)

        self.submit(forget)

    # -- getAllMessages ------------------------------------------------------------------

    def window_start(self, watermark: str | None, since: str | None = None) -> str:
        """Where a stream's window starts: the last window's end minus the overlap, and never
        before the `since` date (or `since`, the later of the two, for a stream with its own)."""
        start = EPOCH
        if watermark:
            start = iso(parse_iso(watermark) - self.overlap)
        for date in (self.since, since):
            if date and date + "T00:00:00Z" > start:
                start = date + "T00:00:00Z"
        return start

    # -- per channel ---------------------------------------------------------------------

    def read_channel(self, team_id: str, channel_id: str) -> None:
        scope = f"messages:channel:{channel_id}"
        checkpoint = self.store.checkpoint(scope)
        if checkpoint and checkpoint["status"] == "in_progress" and checkpoint["next_link"]:
            url = checkpoint["next_link"]
        else:
            url = f"/teams/{team_id}/channels/{channel_id}/messages?$top=50&$expand=replies"
        try:
            self._read_roots(team_id, channel_id, scope, url)
        except GraphRequestError:
            if not url.endswith(EXPAND):
                self.restart_stream(scope, None)
                raise
            # $expand=replies refused (a service without it): roots, then each one's replies.
            self._read_roots(team_id, channel_id, scope, url.removesuffix(EXPAND))

    def _read_roots(self, team_id: str, channel_id: str, scope: str, url: str) -> None:
        # The budget counts the page of roots; the replies it leads to join that page.
        with self.hand() as hand:
            for roots, next_link in self.client.iter_pages(url, headers=PREFER_ALL_ENUMS,
                                                           admit=hand.take):
                self._store_roots(team_id, channel_id, scope, roots, next_link, hand)

    def read_team_by_channel(self, team_id: str) -> None:
        """A team's history channel by channel: where its getAllMessages is refused (a service
        without that export API, or without its lastModifiedDateTime filter), as the
        per-channel method reads it. GraphNotFound when the team itself is gone."""
        for channel in self.client.iter_items(f"/teams/{team_id}/channels",
                                              headers=PREFER_ALL_ENUMS):
            self.read_channel(team_id, channel["id"])

    def _store_roots(self, team_id: str, channel_id: str, scope: str, roots: list[Json],
                     next_link: str | None, hand: Hand) -> None:
        page: list[Json] = []
        for root in roots:
            expanded = "replies" in root          # else $expand was refused: ask for them
            replies = root.pop("replies", None) or []
            more = root.pop("replies@odata.nextLink", None)
            root.pop("replies@odata.count", None)
            replies = list(replies)
            if more:
                replies.extend(self.client.iter_items(more, headers=PREFER_ALL_ENUMS))
            elif not expanded or len(replies) >= INLINE_REPLY_LIMIT:
                # The inline list is capped and its nextLink is known to go missing.
                replies = list(self.client.iter_items(
                    f"/teams/{team_id}/channels/{channel_id}/messages/{root['id']}/replies?$top=50",
                    headers=PREFER_ALL_ENUMS))
            # Older payloads lack channelIdentity; we know where we read them from.
            for message in (root, *replies):
                if not message.get("channelIdentity"):
                    message["channelIdentity"] = {"teamId": team_id, "channelId": channel_id}
            page.append(root)
            page.extend(replies)
        self.store_page(team_id, scope, page, next_link, None, None, hand)
