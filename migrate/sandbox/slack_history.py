"""Slack Web API methods of the emulator that read messages: conversations.history and
conversations.replies, paged by slack_paging.page_messages. Slack's method pages are at
https://docs.slack.dev/reference/methods/<method name>.
"""

from __future__ import annotations

import time

from migrate.sandbox.slack_paging import page_messages
from migrate.sandbox.slack_state import (
    Channel,
    Ctx,
    Json,
    MethodSpec,
    Msg,
    SlackError,
    arg_str,
    registrar,
    require,
)

METHODS: dict[str, MethodSpec] = {}
method = registrar(METHODS)

_HISTORY_SCOPES = ("groups:history", "im:history", "mpim:history", "channels:history")


def _readable(ctx: Ctx, args: Json, public_nonmember: str) -> Channel:
    channel = ctx.store.visible(arg_str(args, "channel"))
    # A bot reads only channels it is in; archiving removed it
    # (https://github.com/elastic/connectors/issues/1972).
    if not ctx.store.is_member(channel):
        raise SlackError(public_nonmember)
    return channel


@method("conversations.history", tier="Tier 3", scopes=_HISTORY_SCOPES,
        errors=("channel_not_found", "not_in_channel", "invalid_cursor", "invalid_ts_latest",
                "invalid_ts_oldest"),
        required=('channel',))
def conversations_history(ctx: Ctx, args: Json) -> Json:
    # Internal (customer-built) apps keep Tier 3 and limits up to 999
    # (https://docs.slack.dev/reference/methods/conversations.history); the project's Slack app is
    # an internal one.
    channel = _readable(ctx, args, "not_in_channel")
    out = page_messages(*_shown(ctx, channel.keys, channel.top), args, newest_first=True)
    out["pin_count"] = len(channel.pins)
    for name in ("oldest", "latest"):
        if arg_str(args, name):
            out[name] = arg_str(args, name)
    return out


@method("conversations.replies", tier="Tier 3", scopes=_HISTORY_SCOPES,
        errors=("channel_not_found", "thread_not_found", "invalid_cursor", "invalid_ts_latest",
                "invalid_ts_oldest"),
        required=('channel', 'ts'))
def conversations_replies(ctx: Ctx, args: Json) -> Json:
    # The contract lists no not_in_channel for replies: a channel the bot is not in answers
    # channel_not_found here.
    channel = _readable(ctx, args, "channel_not_found")
    msg = ctx.store.message(channel, require(args, "ts"), "thread_not_found")
    root = msg.parent or msg  # `ts` may name any message of the thread (method docs)
    thread = [root, *root.replies]
    return page_messages(*_shown(ctx, [m.key for m in thread], thread), args, newest_first=False)


def _shown(ctx: Ctx, keys: list[int], msgs: list[Msg]) -> tuple[list[int], list[Msg]]:
    """The messages history and replies show now: not a file share still being processed."""
    if ctx.store.share_delay_s <= 0:
        return keys, msgs
    now = time.monotonic()
    shown = [m for m in msgs if m.visible_at <= now]
    return [m.key for m in shown], shown
