"""The orders the Graph emulator keeps messages in, and the keyset pages over them.

A channel's roots, a root's replies (ThreadKey: createdDateTime µs, id) and a team's
getAllMessages sequence (ModKey: lastModifiedDateTime µs, channel id, message id) are sorted key
lists; every page is a bisect into one, never a scan, and new messages never shift a later page.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import Any

from migrate.sandbox.graph_odata import to_micros

Json = dict[str, Any]

# (createdDateTime µs, id): order of roots in a channel and of replies under a root
ThreadKey = tuple[int, str]
# (lastModifiedDateTime µs, channel id, message id): order of a team's getAllMessages
ModKey = tuple[int, str, str]


def thread_key(msg: Json) -> ThreadKey:
    return (to_micros(msg["createdDateTime"]), msg["id"])


def mod_key(msg: Json) -> ModKey:
    return (to_micros(msg["lastModifiedDateTime"]), msg["channelIdentity"]["channelId"], msg["id"])


def newest_first(keys: list[ThreadKey], top: int, before: ThreadKey | None
                 ) -> tuple[list[ThreadKey], ThreadKey | None]:
    """Page of `top` keys, newest first, strictly older than `before`; plus the cursor of
    the next page (None on the last). New messages never shift a later page."""
    end = bisect_left(keys, before) if before is not None else len(keys)
    start = max(0, end - top)
    page = keys[start:end][::-1]
    return page, (page[-1] if start > 0 else None)


def modified_span(keys: list[ModKey], lo: int | None, hi: int | None,
                  after: ModKey | None) -> tuple[int, int]:
    """Index range of the keys with lo <= time <= hi that sort after `after`."""
    start = bisect_left(keys, (lo,)) if lo is not None else 0
    if after is not None:
        start = max(start, bisect_right(keys, after))
    # (hi + 1,) sorts after every key whose time is hi
    end = bisect_left(keys, (hi + 1,)) if hi is not None else len(keys)
    return start, end


def modified_page(keys: list[ModKey], top: int, lo: int | None, hi: int | None,
                  after: ModKey | None) -> tuple[list[ModKey], ModKey | None]:
    start, end = modified_span(keys, lo, hi, after)
    page = keys[start:min(end, start + top)]
    return page, (page[-1] if start + top < end else None)
