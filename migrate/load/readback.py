"""Reading a channel back: every message of its history and of its threads, in Slack's order,
through the scheduler (which owns every wait). `verify` and `adopt` both need it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from migrate.load.client import SlackClient
from migrate.load.paging import SlackCursor
from migrate.load.scheduler import Scheduler

Json = dict[str, Any]


def ts_order(ts: str) -> tuple[int, int]:
    """A Slack ts ("seconds.micros") as a sortable pair: the order Slack shows messages in."""
    seconds, _, micros = ts.partition(".")
    return int(seconds), int(micros or 0)


def channel_messages(client: SlackClient, scheduler: Scheduler, channel: str
                     ) -> Iterator[tuple[Json, str | None]]:
    """(message, the thread it is in — None at the top level) for every message: the history
    first, then the replies of each thread (read with `include_all_metadata`)."""
    roots: list[str] = []
    history = SlackCursor(scheduler, "conversations.history",
                          lambda c: client.history(channel, cursor=c))
    for message in history.items("messages"):
        thread = message.get("thread_ts")
        yield message, thread if thread and thread != message["ts"] else None
        if message.get("reply_count"):
            roots.append(message["ts"])
    for root in roots:
        replies = SlackCursor(scheduler, "conversations.replies",
                              lambda c, r=root: client.replies(channel, r, cursor=c))
        for message in replies.items("messages"):
            if message["ts"] != root:   # the root comes first in every page set
                yield message, root
