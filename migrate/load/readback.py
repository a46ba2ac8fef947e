"""Reading a channel back: every message of its history and of its threads, in Slack's order,
through the scheduler (which owns every wait). `verify` and `adopt` both need it.

Pages follow `response_metadata.next_cursor` until it is empty; a cursor Slack repeats would
loop forever, so a repeated cursor ends the listing (reference/slack.md: cursors are opaque).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from migrate.load.client import SlackClient
from migrate.load.scheduler import Scheduler

Json = dict[str, Any]


def _pages(scheduler: Scheduler, method: str, fetch: Callable[[str], Json]) -> Iterator[Json]:
    cursor, seen = "", set()
    while True:
        page = scheduler.call(method, None, lambda c=cursor: fetch(c))
        yield page
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or ""
        if not cursor or cursor in seen:
            return
        seen.add(cursor)


def channel_messages(client: SlackClient, scheduler: Scheduler, channel: str
                     ) -> Iterator[tuple[Json, str | None]]:
    """(message, the thread it is in — None at the top level) for every message: the history
    first, then the replies of each thread (read with `include_all_metadata`)."""
    roots: list[str] = []
    for page in _pages(scheduler, "conversations.history",
                       lambda c: client.history(channel, cursor=c)):
        for message in page.get("messages") or []:
            thread = message.get("thread_ts")
            yield message, thread if thread and thread != message["ts"] else None
            if message.get("reply_count"):
                roots.append(message["ts"])
    for root in roots:
        for page in _pages(scheduler, "conversations.replies",
                           lambda c, r=root: client.replies(channel, r, cursor=c)):
            for message in page.get("messages") or []:
                if message["ts"] != root:   # the root comes first in every page set
                    yield message, root
