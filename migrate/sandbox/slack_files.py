"""Slack Web API methods of the emulator for files: the external upload flow —
files.getUploadURLExternal, then the bytes POSTed to the upload URL (receive_upload), then
files.completeUploadExternal, which shares the files as messages (slack_messages.py posts
them). Slack's method pages are at https://docs.slack.dev/reference/methods/<method name>.
"""

from __future__ import annotations

import mimetypes
import time
from typing import Any

from migrate.sandbox.slack_messages import (
    TEXT_TRUNCATE,
    apply_author,
    new_message,
    parse_blocks,
    thread_parent,
)
from migrate.sandbox.slack_state import (
    Channel,
    Ctx,
    FileRec,
    Json,
    MethodSpec,
    SlackError,
    Store,
    arg_int,
    arg_json,
    arg_str,
    registrar,
)

METHODS: dict[str, MethodSpec] = {}
method = registrar(METHODS)

# 1 GB: Slack's file size limit as third parties state it (no Slack page found says so)
# (https://github.com/looker-open-source/actions/pull/668)
MAX_FILE_BYTES = 1 << 30


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
            blocks = parse_blocks(args)
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
        apply_author(ctx, args, data, extra)
        if blocks is not None:
            data["blocks"] = blocks
        parent = thread_parent(store, channel, arg_str(args, "thread_ts"))
        msg = new_message(ctx, channel, data, parent, False)
        msg.extra = extra
        if store.share_delay_s > 0:
            msg.visible_at = time.monotonic() + store.share_delay_s
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
