"""Slack's cursor paging, as one small object (as dlt's paginators): it asks for the next page
with `response_metadata.next_cursor` until Slack gives none, each request admitted by the
scheduler (which owns every wait). A cursor Slack hands back twice would loop forever: a
repeated cursor ends the listing (docs.slack.dev/apis/web-api/pagination: cursors are opaque
and a page may be empty, so only the cursor says whether more follows).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Protocol

Json = dict[str, Any]


class Admits(Protocol):
    def call(self, method: str, channel: str | None, fn: Callable[[], Json]) -> Json: ...


class SlackCursor:
    """The pages of one cursor-paged Slack method: `for page in SlackCursor(...)`.
    `fetch(cursor)` makes the call ("" for the first page)."""

    def __init__(self, scheduler: Admits, method: str, fetch: Callable[[str], Json],
                 channel: str | None = None) -> None:
        self.scheduler = scheduler
        self.method = method
        self.fetch = fetch
        self.channel = channel
        self.repeated = False      # True when Slack handed back a cursor it had given before

    def __iter__(self) -> Iterator[Json]:
        cursor, seen = "", set()
        while True:
            page = self.scheduler.call(self.method, self.channel, lambda c=cursor: self.fetch(c))
            yield page
            cursor = next_cursor(page)
            if not cursor:
                return
            if cursor in seen:
                self.repeated = True
                return
            seen.add(cursor)

    def items(self, key: str) -> Iterator[Json]:
        """The objects under `key` (messages, members, channels) of every page."""
        for page in self:
            yield from page.get(key) or []


def next_cursor(page: Json) -> str:
    return (page.get("response_metadata") or {}).get("next_cursor") or ""
