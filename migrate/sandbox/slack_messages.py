"""Slack Web API methods of the emulator that write messages: chat.*, reactions, pins,
bookmarks and the external file upload flow (files.getUploadURLExternal → POST the bytes →
files.completeUploadExternal). Slack's method pages are at
https://docs.slack.dev/reference/methods/<method name>.
"""

from __future__ import annotations

import mimetypes
import re
import time
from bisect import bisect_left
from typing import Any

from migrate.sandbox.slack_state import (
    Channel,
    Ctx,
    FileRec,
    Json,
    MethodSpec,
    Msg,
    SlackError,
    Store,
    arg_bool,
    arg_int,
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
# 1 GB: Slack's file size limit as third parties state it (no Slack page found says so)
# (https://github.com/looker-open-source/actions/pull/668)
MAX_FILE_BYTES = 1 << 30
_CHAT = ("chat:write",)
# Options recorded for state() so tests can check what the importer asked for (no unfurls…).
_KEPT_OPTIONS = ("unfurl_links", "unfurl_media", "mrkdwn", "parse", "link_names", "reply_broadcast")


# ---------------------------------------------------------------- shared checks


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


def _blocks(args: Json) -> list | None:
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


def _thread_parent(store: Store, channel: Channel, thread_ts: str | None) -> Msg | None:
    """The root a reply joins. A reply's ts leads to its root (the docs only advise against
    it). An unknown thread_ts posts into the channel, as Slack is reported to do (assumed)."""
    if not thread_ts:
        return None
    key = ts_key(thread_ts)
    msg = channel.by_key.get(key) if key is not None else None
    if msg is None:
        return None
    return msg.parent or msg


def _author(ctx: Ctx, args: Json, data: Json, msg_extra: Json) -> None:
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


def _new_message(ctx: Ctx, channel: Channel, data: Json, parent: Msg | None,
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
    blocks = _blocks(args)
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
    _author(ctx, args, data, extra)
    if blocks is not None:
        data["blocks"] = blocks
    if attachments:
        data["attachments"] = attachments
    if metadata:
        data["metadata"] = metadata
    parent = _thread_parent(store, channel, arg_str(args, "thread_ts"))
    msg = _new_message(ctx, channel, data, parent, arg_bool(args, "reply_broadcast"))
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
    blocks = _blocks(args)
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


# ---------------------------------------------------------------- files


def _file_type(name: str) -> tuple[str, str]:
    mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return mimetype, {"txt": "text", "": "binary"}.get(ext, ext)


@method("files.getUploadURLExternal", tier="Tier 4", scopes=("files:write",), writes=True,
        errors=("missing_argument", "file_upload_size_restricted", "alt_txt_too_large"))
def files_get_upload_url_external(ctx: Ctx, args: Json) -> Json:
    store = ctx.store
    filename = arg_str(args, "filename")
    length = arg_int(args, "length")
    # length 0 ⇒ missing_argument
    # (https://docs.slack.dev/reference/methods/files.getUploadURLExternal)
    if not filename or length is None or length <= 0:
        raise SlackError("missing_argument")
    if length > MAX_FILE_BYTES:
        raise SlackError("file_upload_size_restricted")
    alt_txt = arg_str(args, "alt_txt")
    if alt_txt is not None and len(alt_txt) > 1000:
        raise SlackError("alt_txt_too_large")
    fid = store.new_id("F")
    token = store.new_token()
    mimetype, filetype = _file_type(filename)
    now = int(time.time())
    url = f"{ctx.origin}/files/{fid}/{filename}"
    data: Json = {
        "id": fid, "created": now, "timestamp": now, "name": filename, "title": filename,
        "mimetype": mimetype, "filetype": filetype, "user": store.bot_user,
        "user_team": store.team["id"], "size": length, "mode": "hosted", "is_external": False,
        "is_public": False, "url_private": url, "url_private_download": url + "?download=1",
        "permalink": f"https://{store.team.get('domain', 'sandbox')}.slack.com/files/{store.bot_user}/{fid}/{filename}",
        "channels": [], "groups": [], "ims": [],
    }
    if alt_txt:
        data["alt_txt"] = alt_txt
    store.files[fid] = FileRec(data, length)
    store.uploads[token] = fid
    # Real upload URLs are on files.slack.com/upload/v1/…
    # (https://docs.slack.dev/reference/methods/files.getUploadURLExternal); ours on the emulator.
    return {"upload_url": f"{ctx.origin}/upload/v1/{token}", "file_id": fid}


def receive_upload(store: Store, token: str, body: bytes) -> tuple[int, str]:
    """Step 2 of the upload flow: the bytes POSTed to an upload URL. Called with the lock held."""
    fid = store.uploads.get(token)
    if fid is None:
        return 404, "Not Found"
    rec = store.files[fid]
    if len(body) != rec.length:
        # Slack does not document this answer; a 400 makes slack_sdk raise SlackRequestError.
        return 400, f"length mismatch: declared {rec.length}, received {len(body)}"
    rec.content = body
    return 200, f"OK - {len(body)}"


def _complete_targets(ctx: Ctx, args: Json) -> list[Channel]:
    channel_id = arg_str(args, "channel_id")
    channels = [c.strip() for c in (arg_str(args, "channels") or "").split(",") if c.strip()]
    if channel_id and channels:
        raise SlackError("invalid_arguments")
    if len(channels) > 100:
        raise SlackError("channels_limit_exceeded")
    names = [channel_id] if channel_id else channels
    if arg_str(args, "thread_ts") and len(names) > 1:
        # thread_ts needs a single channel
        # (https://docs.slack.dev/reference/methods/files.completeUploadExternal)
        raise SlackError("invalid_arguments")
    targets = []
    for name in names:
        channel = ctx.store.visible(name)
        # Archiving removed the bot, so an archived channel also answers not_in_channel.
        if not ctx.store.is_member(channel):
            raise SlackError("not_in_channel")
        targets.append(channel)
    return targets


def share_targets(store: Store, args: Json) -> list[str]:
    """Channel ids a completeUploadExternal call would post into (for the posting limits)."""
    names = [arg_str(args, "channel_id") or "", *(arg_str(args, "channels") or "").split(",")]
    found = (store.find(n.strip()) for n in names if n.strip())
    return [c.id for c in found if c is not None]


@method("files.completeUploadExternal", tier="Tier 4", scopes=("files:write",), writes=True,
        errors=("file_not_found", "channel_not_found", "not_in_channel", "channels_limit_exceeded",
                "invalid_blocks"),
        required=('files',))
def files_complete_upload_external(ctx: Ctx, args: Json) -> Json:
    store = ctx.store
    items = arg_json(args, "files", "invalid_arguments")
    if not isinstance(items, list) or not items or not all(
        isinstance(i, dict) and isinstance(i.get("id"), str) for i in items
    ):
        raise SlackError("invalid_arguments")
    recs: list[tuple[FileRec, Any]] = []
    for item in items:
        rec = store.files.get(item["id"])
        if rec is None or rec.content is None:  # never uploaded: nothing to complete
            raise SlackError("file_not_found")
        recs.append((rec, item.get("title")))
    targets = _complete_targets(ctx, args)
    comment = arg_str(args, "initial_comment")
    blocks = None
    if not comment:
        try:
            blocks = _blocks(args)
        except SlackError:
            raise SlackError("invalid_blocks") from None
    for rec, title in recs:
        if title:
            rec.data["title"] = title
    # Completing a file again shares it again (assumed: Slack documents no single-use rule);
    # the importer must not re-complete an upload whose outcome it does not know.
    for channel in targets:
        data: Json = {"type": "message", "text": (comment or "")[:TEXT_TRUNCATE], "upload": True,
                      "display_as_bot": False, **store.bot_fields(), "files": []}
        extra: Json = {}
        _author(ctx, args, data, extra)
        if blocks is not None:
            data["blocks"] = blocks
        parent = _thread_parent(store, channel, arg_str(args, "thread_ts"))
        msg = _new_message(ctx, channel, data, parent, False)
        msg.extra = extra
        for rec, _ in recs:
            rec.shares.append((channel.id, msg.key))
            rec.data["groups" if channel.private else "channels"] = sorted(
                {*rec.data["groups" if channel.private else "channels"], channel.id})
            share = {"ts": data["ts"], "channel_name": channel.data["name"], "team_id": store.team["id"]}
            if parent is not None:
                share["thread_ts"] = parent.data["ts"]
            kind = "private" if channel.private else "public"
            rec.data.setdefault("shares", {}).setdefault(kind, {}).setdefault(channel.id, []).append(share)
            rec.data["is_public"] = rec.data["is_public"] or not channel.private
        # The message shows the files as shared (channels, is_public); `shares` stays on the file.
        data["files"] = [{k: v for k, v in rec.data.items() if k != "shares"} for rec, _ in recs]
    return {"files": [dict(rec.data) for rec, _ in recs]}
