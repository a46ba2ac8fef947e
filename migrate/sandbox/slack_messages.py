"""Slack Web API methods of the emulator that write messages: chat.*, reactions, pins and
bookmarks, and the checks and steps of posting that files.completeUploadExternal shares
(slack_files.py). Slack's method pages are at
https://docs.slack.dev/reference/methods/<method name>.
"""

from __future__ import annotations

import re
import time
from bisect import bisect_left

from migrate.sandbox.slack_state import (
    Channel,
    Ctx,
    Json,
    MethodSpec,
    Msg,
    SlackError,
    Store,
    arg_bool,
    arg_json,
    arg_str,
    registrar,
    require,
    ts_key,
    ts_str,
)

METHODS: dict[str, MethodSpec] = {}
method = registrar(METHODS)

# chat.postMessage silently truncates text above this
# (https://docs.slack.dev/reference/methods/chat.postMessage)
TEXT_TRUNCATE = 40_000
# chat.update answers msg_too_long above this (https://docs.slack.dev/reference/methods/chat.update)
UPDATE_MAX = 4_000
# blocks per message (https://docs.slack.dev/reference/block-kit/blocks)
MAX_BLOCKS = 50
_CHAT = ("chat:write",)
# Options recorded for state() so tests can check what the importer asked for (no unfurls…).
_KEPT_OPTIONS = ("unfurl_links", "unfurl_media", "mrkdwn", "parse", "link_names", "reply_broadcast")


# ------------------------------------------------ posting: checks and steps (also slack_files.py)


def postable(ctx: Ctx, channel_arg: str | None) -> Channel:
    """The channel a bot may post into, or the error Slack gives (the error table of
    https://docs.slack.dev/reference/methods/chat.postMessage)."""
    store = ctx.store
    channel = store.visible(channel_arg)  # private and not a member → channel_not_found
    if channel.archived:
        raise SlackError("is_archived")
    if not store.is_member(channel) and "chat:write.public" not in ctx.scopes:
        raise SlackError("not_in_channel")
    return channel


def parse_blocks(args: Json) -> list | None:
    blocks = arg_json(args, "blocks", "invalid_blocks_format")
    if blocks is None:
        return None
    if not isinstance(blocks, list):
        raise SlackError("invalid_blocks_format")
    if len(blocks) > MAX_BLOCKS or not all(
        isinstance(b, dict) and isinstance(b.get("type"), str) for b in blocks
    ):
        raise SlackError("invalid_blocks")
    return blocks


def _metadata(args: Json, allow_clear: bool) -> Json | None:
    """`metadata` as a JSON string or object {event_type, event_payload}
    (https://docs.slack.dev/messaging/message-metadata)."""
    if args.get("metadata") in (None, ""):
        return None
    value = arg_json(args, "metadata", "invalid_metadata_format")
    if value == {} and allow_clear:
        # chat.update: {} clears the metadata (https://docs.slack.dev/reference/methods/chat.update)
        return {}
    if (
        not isinstance(value, dict)
        or not isinstance(value.get("event_type"), str)
        or not value["event_type"]
        or not isinstance(value.get("event_payload"), dict)
    ):
        raise SlackError("invalid_metadata_format")
    return {"event_type": value["event_type"], "event_payload": value["event_payload"]}


def thread_parent(store: Store, channel: Channel, thread_ts: str | None) -> Msg | None:
    """The root a reply joins. A reply's ts leads to its root (the docs only advise against
    it). An unknown thread_ts posts into the channel, as Slack is reported to do (assumed)."""
    if not thread_ts:
        return None
    key = ts_key(thread_ts)
    msg = channel.by_key.get(key) if key is not None else None
    if msg is None:
        return None
    return msg.parent or msg


def apply_author(ctx: Ctx, args: Json, data: Json, msg_extra: Json) -> None:
    """username/icon overrides need chat:write.customize
    (https://docs.slack.dev/reference/methods/chat.postMessage); without it they are ignored
    (assumed; Slack does not list an error for it)."""
    if "chat:write.customize" not in ctx.scopes:
        return
    username = arg_str(args, "username")
    icon_emoji = arg_str(args, "icon_emoji")
    icon_url = arg_str(args, "icon_url")
    if username:
        data["username"] = username
    # emoji wins over URL (https://docs.slack.dev/reference/methods/chat.postMessage)
    if icon_emoji:
        data["icons"] = {"emoji": icon_emoji}
    elif icon_url:
        data["icons"] = {"image_48": icon_url}
    msg_extra.update({k: v for k, v in (("icon_emoji", icon_emoji), ("icon_url", icon_url)) if v})


def new_message(ctx: Ctx, channel: Channel, data: Json, parent: Msg | None,
                 broadcast: bool) -> Msg:
    store = ctx.store
    data["ts"] = ts_str(store.next_key(channel))
    if parent is not None:
        data["thread_ts"] = parent.data["ts"]
        data["parent_user_id"] = parent.data.get("user", "")
        if broadcast:
            data["subtype"] = "thread_broadcast"
    return store.append(channel, data, parent, in_history=parent is None or broadcast)


# ---------------------------------------------------------------- chat


@method("chat.postMessage", tier="Special", scopes=_CHAT, writes=True,
        errors=("channel_not_found", "is_archived", "not_in_channel", "no_text",
                "invalid_blocks", "invalid_blocks_format", "invalid_metadata_format",
                "markdown_text_conflict", "too_many_attachments"),
        required=('channel',))
def chat_post_message(ctx: Ctx, args: Json) -> Json:
    channel = postable(ctx, arg_str(args, "channel"))
    text = arg_str(args, "text")
    blocks = parse_blocks(args)
    markdown = arg_str(args, "markdown_text")
    attachments = arg_json(args, "attachments", "invalid_arguments")
    if markdown is not None and (text or blocks):
        raise SlackError("markdown_text_conflict")
    if attachments is not None and (not isinstance(attachments, list) or len(attachments) > 100):
        raise SlackError("too_many_attachments" if isinstance(attachments, list) else "invalid_arguments")
    text = markdown if markdown is not None else text
    if not text and not blocks and not attachments:
        raise SlackError("no_text")
    metadata = _metadata(args, allow_clear=False)
    store = ctx.store
    # Posted by the app's bot: it owns the message (bot_id), so chat.update/delete may touch it.
    data: Json = {"type": "message", "subtype": "bot_message", "text": (text or "")[:TEXT_TRUNCATE],
                  **store.bot_fields()}
    extra: Json = {}
    apply_author(ctx, args, data, extra)
    if blocks is not None:
        data["blocks"] = blocks
    if attachments:
        data["attachments"] = attachments
    if metadata:
        data["metadata"] = metadata
    parent = thread_parent(store, channel, arg_str(args, "thread_ts"))
    msg = new_message(ctx, channel, data, parent, arg_bool(args, "reply_broadcast"))
    extra.update({k: args[k] for k in _KEPT_OPTIONS if args.get(k) is not None})
    msg.extra = extra
    return {"channel": channel.id, "ts": data["ts"], "message": msg.render(True)}


def _own_message(ctx: Ctx, args: Json, not_owned: str) -> tuple[Channel, Msg]:
    store = ctx.store
    channel = store.visible(arg_str(args, "channel"))
    msg = store.message(channel, arg_str(args, "ts"))
    # bots edit/delete only what their app posted
    # (https://docs.slack.dev/reference/methods/chat.update)
    if not store.owned(msg):
        raise SlackError(not_owned)
    return channel, msg


@method("chat.update", tier="Tier 3", scopes=_CHAT, writes=True,
        errors=("channel_not_found", "message_not_found", "cant_update_message", "msg_too_long",
                "no_text", "is_inactive", "invalid_blocks", "invalid_blocks_format",
                "invalid_metadata_format"),
        required=('channel', 'ts'))
def chat_update(ctx: Ctx, args: Json) -> Json:
    channel, msg = _own_message(ctx, args, "cant_update_message")
    if channel.archived:
        raise SlackError("is_inactive")
    text = arg_str(args, "text")
    blocks = parse_blocks(args)
    if text is not None and len(text) > UPDATE_MAX:
        raise SlackError("msg_too_long")
    if not text and blocks is None and args.get("attachments") is None:
        raise SlackError("no_text")
    metadata = _metadata(args, allow_clear=True)
    data = dict(msg.data)  # replaced, not mutated: earlier renders stay as they were
    if text is not None:
        data["text"] = text
    if blocks is not None:  # absent: the old blocks are kept
        data["blocks"] = blocks
    if metadata == {}:
        data.pop("metadata", None)
    elif metadata:
        data["metadata"] = metadata
    store = ctx.store
    data["edited"] = {"user": store.bot_user, "ts": ts_str(time.time_ns() // 1000)}
    msg.data = data
    return {"channel": channel.id, "ts": data["ts"], "text": data["text"],
            "message": msg.render(True)}


def _remove(store: Store, channel: Channel, msg: Msg) -> None:
    if msg.parent is None and msg.replies:
        # A root with replies leaves a tombstone so the thread stays reachable.
        msg.data = {"type": "message", "subtype": "tombstone", "ts": msg.data["ts"],
                    "user": "USLACKBOT", "text": "This message was deleted.", "hidden": True}
        return
    del channel.by_key[msg.key]
    i = bisect_left(channel.keys, msg.key)
    if i < len(channel.keys) and channel.keys[i] == msg.key:
        del channel.keys[i]
        del channel.top[i]
    if msg.key in channel.pins:
        channel.pins.remove(msg.key)
    parent = msg.parent
    if parent is not None:
        parent.replies.remove(msg)
        if not parent.replies and parent.data.get("subtype") == "tombstone":
            _remove(store, channel, parent)


@method("chat.delete", tier="Tier 3", scopes=_CHAT, writes=True,
        errors=("channel_not_found", "message_not_found", "cant_delete_message"),
        required=('channel', 'ts'))
def chat_delete(ctx: Ctx, args: Json) -> Json:
    channel, msg = _own_message(ctx, args, "cant_delete_message")
    _remove(ctx.store, channel, msg)
    return {"channel": channel.id, "ts": msg.data["ts"]}


# ---------------------------------------------------------------- reactions, pins, bookmarks

_EMOJI = re.compile(r"[a-z0-9_+'-]+(::skin-tone-[2-6])?")


@method("reactions.add", tier="Tier 3", scopes=("reactions:write",), writes=True,
        errors=("channel_not_found", "no_item_specified", "invalid_name", "is_archived",
                "message_not_found", "already_reacted"),
        required=('channel', 'name'))
def reactions_add(ctx: Ctx, args: Json) -> Json:
    store = ctx.store
    channel = store.visible(arg_str(args, "channel"))
    if not arg_str(args, "timestamp"):
        raise SlackError("no_item_specified")
    name = (arg_str(args, "name") or "").strip(":")
    if not _EMOJI.fullmatch(name):
        raise SlackError("invalid_name")
    if channel.archived:
        raise SlackError("is_archived")
    msg = store.message(channel, arg_str(args, "timestamp"))
    reactions = msg.data.setdefault("reactions", [])
    entry = next((r for r in reactions if r["name"] == name), None)
    if entry is None:
        entry = {"name": name, "users": [], "count": 0}
        reactions.append(entry)
    # a token reacts only as itself (https://docs.slack.dev/reference/methods/reactions.add)
    if store.bot_user in entry["users"]:
        raise SlackError("already_reacted")
    entry["users"].append(store.bot_user)
    entry["count"] += 1
    return {}


@method("pins.add", tier="Tier 2", scopes=("pins:write",), writes=True,
        errors=("channel_not_found", "no_item_specified", "not_in_channel", "message_not_found",
                "already_pinned"),
        required=('channel',))
def pins_add(ctx: Ctx, args: Json) -> Json:
    store = ctx.store
    channel = store.visible(arg_str(args, "channel"))
    if not arg_str(args, "timestamp"):
        raise SlackError("no_item_specified")
    if not store.is_member(channel):
        raise SlackError("not_in_channel")
    msg = store.message(channel, arg_str(args, "timestamp"))
    if msg.key in channel.pins:
        raise SlackError("already_pinned")
    channel.pins.append(msg.key)
    msg.data["pinned_to"] = [channel.id]
    # Slack announces pins in the channel (the pinned_item subtype of Slack's exports,
    # https://slack.com/help/articles/220556107; assumed for the API).
    store.system_message(channel, "pinned_item", f"<@{store.bot_user}> pinned a message to this channel.",
                         item_type="C")
    return {}


@method("bookmarks.add", tier="Tier 2", scopes=("bookmarks:write",), writes=True,
        errors=("channel_not_found", "invalid_bookmark_type", "invalid_link", "access_denied"),
        required=('title', 'type'))
def bookmarks_add(ctx: Ctx, args: Json) -> Json:
    store = ctx.store
    channel = store.visible(arg_str(args, "channel_id"))
    title = require(args, "title")
    # the only type an app can add (https://docs.slack.dev/reference/methods/bookmarks.add)
    if require(args, "type") != "link":
        raise SlackError("invalid_bookmark_type")
    link = arg_str(args, "link") or ""
    if not re.match(r"https?://\S", link):
        raise SlackError("invalid_link")
    if channel.archived:
        raise SlackError("access_denied")  # archived channels are read-only (assumed code)
    now = int(time.time())
    bookmark = {"id": store.new_id("Bk", 9), "channel_id": channel.id, "title": title,
                "link": link, "emoji": arg_str(args, "emoji") or "", "icon_url": None,
                "type": "link", "entity_id": None, "date_created": now, "date_updated": 0,
                "rank": str(len(channel.bookmarks)), "last_updated_by_user_id": store.bot_user,
                "last_updated_by_team_id": store.team["id"], "shortcut_id": None,
                "app_id": store.bot.get("app_id")}
    channel.bookmarks.append(bookmark)
    return {"bookmark": dict(bookmark)}
