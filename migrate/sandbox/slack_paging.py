"""How the Slack emulator's list methods page: `limit` as Slack reads it, and the ts-window pages
of conversations.history and conversations.replies (oldest/latest/inclusive, next_ts cursors).
Offset cursors are slack_state.encode_cursor/decode_cursor.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from migrate.sandbox.slack_state import (
    Json,
    Msg,
    SlackError,
    arg_bool,
    arg_int,
    arg_str,
    decode_cursor,
    encode_cursor,
    ts_key,
)


def page_limit(args: Json, default: int, maximum: int, error: str | None) -> int:
    """`limit` as Slack pages it: a default when absent; above the maximum → `error` or capped."""
    limit = arg_int(args, "limit", error or "invalid_arguments")
    if limit is None or limit == 0:
        return default
    if limit < 0 or limit > maximum:
        if error:
            raise SlackError(error)
        return maximum if limit > maximum else default
    return limit


def _bounds(args: Json) -> tuple[int, int, bool]:
    oldest = ts_key(arg_str(args, "oldest") or "0")
    if oldest is None:
        raise SlackError("invalid_ts_oldest")
    latest_arg = arg_str(args, "latest")
    latest = ts_key(latest_arg) if latest_arg else 1 << 62
    if latest is None:
        raise SlackError("invalid_ts_latest")
    return oldest, latest, arg_bool(args, "inclusive")


def page_messages(keys: list[int], msgs: list[Msg], args: Json, newest_first: bool) -> Json:
    """Pages `msgs` (ascending, `keys` their ts keys) within oldest/latest, by cursor."""
    oldest, latest, inclusive = _bounds(args)
    limit = page_limit(args, 100, 999, None)  # above the maximum Slack caps the page
    lo = bisect_left(keys, oldest) if inclusive else bisect_right(keys, oldest)
    hi = bisect_right(keys, latest) if inclusive else bisect_left(keys, latest)
    cursor = decode_cursor(arg_str(args, "cursor"), "next_ts")
    include = arg_bool(args, "include_all_metadata")
    if newest_first:
        if cursor is not None:
            hi = min(hi, bisect_left(keys, cursor))
        start = max(lo, hi - limit)
        page = msgs[start:hi][::-1]
        more = start > lo
    else:
        if cursor is not None:
            lo = max(lo, bisect_right(keys, cursor))
        end = min(hi, lo + limit)
        page = msgs[lo:end]
        more = end < hi
    out: Json = {"messages": [m.render(include) for m in page], "has_more": more}
    next_cursor = encode_cursor("next_ts", page[-1].key) if more and page else ""
    out["response_metadata"] = {"next_cursor": next_cursor}
    return out
