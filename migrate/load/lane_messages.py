"""The message steps of a channel lane: posts (roots, replies, continuation parts), edits,
deletions and file uploads, each exactly once — an unanswered call is looked up in Slack (by
the Teams ids in the metadata, or the file id in the thread) before anything is re-sent.
Each is a function `step(ctx, item)` of lane.STEPS; what a Slack error means for each is its
Refusals (lane_common.py)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from migrate.load.lane_common import (
    CONTENT,
    DELETE,
    EDIT,
    LOOKBACK_S,
    LOOKUP,
    TRIES,
    Halt,
    Item,
    LaneContext,
    Outcome,
    Refused,
    epoch,
    imported,
    payload,
    share_ts,
)
from migrate.load.paging import SlackCursor
from migrate.plan.build import Post, Upload, metadata_for
from migrate.store import ledger
from migrate.store.keys import PostKey
from migrate.transform.content import DELETED

# Waits before looking again for the share of an unanswered upload (seconds, in turn).
SHARE_SETTLE_S = (1.0, 3.0)


def _thread_of(ctx: LaneContext, post: Post) -> str | None:
    """The ts of the thread a reply goes into; raises Refused when its root was refused for
    good (the reply is skipped too), and halts the lane when the root is not in yet."""
    if post.root_id is None:
        return None
    ts = ctx.thread_ts.get(post.root_id)
    if ts is None:
        root = ledger.get(ctx.store, PostKey(post.channel, post.root_id).text)
        if root is not None and root["state"] == "skipped":
            ctx.skip(post.key, "post", "its thread root was refused by Slack")
            raise Refused
        ctx.fail(post.key, "post", "its thread root is not in Slack yet")
    return ts


class _ThroughLane:
    """Admits the paginator's calls as the lane's own (its priority, its scheduler)."""

    def __init__(self, ctx: LaneContext) -> None:
        self.ctx = ctx

    def call(self, method: str, channel: str | None, fn: Callable[[], Any]) -> Any:
        return self.ctx.call(method, fn)


def _find_post(ctx: LaneContext, post: Post, thread_ts: str | None,
               since_iso: str | None) -> str | None:
    """The ts of this post if it is already in Slack (read back by its metadata)."""
    oldest = f"{max(0.0, epoch(since_iso) - LOOKBACK_S):.6f}"
    client, channel = ctx.client, ctx.slack_id
    if thread_ts:
        pages = SlackCursor(_ThroughLane(ctx), "conversations.replies", lambda c: client.replies(
            channel, thread_ts, oldest=oldest, cursor=c))
    else:
        pages = SlackCursor(_ThroughLane(ctx), "conversations.history", lambda c: client.history(
            channel, oldest=oldest, cursor=c))
    for message in pages.items("messages"):
        ids = payload(message)
        if (ids.get("teams_message_id") == post.message_id
                and ids.get("teams_channel_id") == post.channel
                and int(ids.get("part", 0)) == post.part):
            return message["ts"]
    return None


def _resolve(ctx: LaneContext, post: Post, thread_ts: str | None, since_iso: str | None) -> bool:
    looked = ctx.attempt(LOOKUP, lambda: _find_post(ctx, post, thread_ts, since_iso))
    if looked.outcome is not Outcome.DONE:
        # Never post while we cannot tell whether it is there: leave it in doubt.
        ctx.trouble = True
        ctx.run.count("post", "in_doubt")
        raise Halt(f"cannot check an unanswered post ({looked.code})")
    if looked.value is None:
        return False
    _posted(ctx, post, looked.value, "found")
    return True


def _posted(ctx: LaneContext, post: Post, ts: str, outcome: str) -> None:
    ledger.done(ctx.store, post.key, slack_channel=ctx.slack_id, slack_ts=ts,
                kind="post", teams_id=post.message_id, content_hash=ledger.text_hash(post.text))
    if post.root_id is None and post.part == 0:
        ctx.thread_ts[post.message_id] = ts
    ctx.run.count("post", outcome)
    if outcome == "posted":
        ctx.run.note_posted(ctx.slack_id)


def send_post(ctx: LaneContext, item: Item) -> None:
    post = item.post
    assert post is not None
    store, client = ctx.store, ctx.client
    row = ctx.rows.get(post.key)
    if row is not None and row["state"] == "done" and imported(row):
        reason = (f"{row['reason'].split(';')[0]}; edited in Teams after the import — not "
                  "applied: an app cannot edit a person's own message")
        ledger.done(store, post.key, reason=reason, content_hash=post.imported_hash)
        ctx.run.count("edit", "skipped", reason)
        return
    if row is not None and row["state"] == "done":
        _update(ctx, post, row)
        return
    try:
        thread_ts = _thread_of(ctx, post)
    except Refused:
        return
    if (row is not None and row["state"] in ("in_doubt", "intent")
            and _resolve(ctx, post, thread_ts, row["intent_at"])):
        return
    metadata = metadata_for(post.channel, post.message_id, post.part)
    for _ in range(TRIES):
        def send() -> Any:
            # The intent is written once the scheduler admits the call, just before it goes.
            return ctx.recorded(post.key, "post", lambda: client.post_message(
                ctx.slack_id, post.text, username=post.username, icon_url=post.icon_url,
                metadata=metadata, thread_ts=thread_ts),
                teams_id=post.message_id, slack_channel=ctx.slack_id)

        answer = ctx.try_call("chat.postMessage", send, CONTENT, posting=True)
        if ctx.conclude(post.key, "post", answer, what="the post", what_skipped="the message",
                        unanswered="the post"):
            _posted(ctx, post, answer.value["ts"], "posted")
            return
        if answer.outcome is not Outcome.IN_DOUBT:    # skipped (a failure halted the lane)
            return
        if _resolve(ctx, post, thread_ts, ledger.get(store, post.key)["intent_at"]):
            return
        # not in Slack: it never landed, post it again
    ctx.fail(post.key, "post", f"no answer from Slack after {TRIES} tries")


def _update(ctx: LaneContext, post: Post, row: sqlite3.Row) -> None:
    """An edit (or a reactions change) in Teams: the post in Slack gets the new text."""
    channel, ts = row["slack_channel"], row["slack_ts"]
    answer = ctx.try_call("chat.update",
                          lambda: ctx.client.update_message(channel, ts, post.text), EDIT)
    if answer.outcome is Outcome.SKIPPED:
        _skip_update(ctx, post, f"Slack refused the edit: {answer.code}")
        return
    if answer.outcome is not Outcome.DONE:
        _change_failed(ctx, post.key, "edit", answer.reason())
        return
    ledger.done(ctx.store, post.key, content_hash=ledger.text_hash(post.text))
    ctx.run.count("post", "updated")


def _change_failed(ctx: LaneContext, key: str, change: str, reason: str) -> None:
    """An edit or deletion of a post already in Slack failed: the post stays `done` (it is
    in Slack — marking it failed would post it again) and the next sync retries."""
    ledger.done(ctx.store, key, reason=f"{change} not applied yet: {reason}")
    ctx.run.count(change, "failed", f"{change}: {reason}")
    ctx.trouble = True


def _skip_update(ctx: LaneContext, post: Post, reason: str) -> None:
    # The post stays in Slack as it was (done); the edit is what is skipped. Remember the
    # new text's hash so the next sync does not try again.
    ledger.done(ctx.store, post.key, reason=reason, content_hash=ledger.text_hash(post.text))
    ctx.run.count("edit", "skipped", reason)


def retract_post(ctx: LaneContext, item: Item) -> None:
    retraction = item.retraction
    assert retraction is not None
    row = ctx.rows[retraction.key]
    channel, ts = row["slack_channel"], row["slack_ts"]
    client = ctx.client
    placeholder = (ctx.deleted_messages == "placeholder"
                   and retraction.reason == "deleted in Teams")
    if placeholder:
        answer = ctx.try_call("chat.update", lambda: client.update_message(channel, ts, DELETED),
                              DELETE)
    else:
        answer = ctx.try_call("chat.delete", lambda: client.delete_message(channel, ts), DELETE)
    if answer.outcome is not Outcome.DONE:
        _change_failed(ctx, retraction.key, "delete", answer.reason())
        return
    if placeholder and answer.error is None:
        ledger.done(ctx.store, retraction.key, content_hash=ledger.text_hash(DELETED))
        ctx.run.count("post", "replaced by a placeholder")
        return
    # Deleted now, or already gone (message_not_found).
    ledger.skipped(ctx.store, retraction.key, "post", f"deleted from Slack ({retraction.reason})")
    ctx.run.count("post", "deleted")


# ---------------------------------------------------------------------- uploads


def _file_in_thread(ctx: LaneContext, thread_ts: str, file_id: str,
                    since_iso: str | None) -> str | None:
    oldest = f"{max(0.0, epoch(since_iso) - LOOKBACK_S):.6f}"
    replies = SlackCursor(_ThroughLane(ctx), "conversations.replies", lambda c: ctx.client.replies(
        ctx.slack_id, thread_ts, oldest=oldest, cursor=c))
    for message in replies.items("messages"):
        if any(f.get("id") == file_id for f in message.get("files") or []):
            return message["ts"]
    return None


def _share_in_thread(ctx: LaneContext, thread_ts: str, file_id: str,
                     since_iso: str | None) -> str | None:
    """`_file_in_thread` right after an unanswered completion: Slack processes a file share
    asynchronously, so its message can be missing for a moment (python-slack-sdk issues 1329,
    1590): looked for again after SHARE_SETTLE_S before it counts as never shared."""
    for wait in (0.0, *SHARE_SETTLE_S):
        if wait:
            ctx.scheduler.pause(wait)
        found = _file_in_thread(ctx, thread_ts, file_id, since_iso)
        if found:
            return found
    return None


def send_upload(ctx: LaneContext, item: Item) -> None:
    upload = item.upload
    assert upload is not None
    store, client, key = ctx.store, ctx.client, upload.key
    thread_ts = ctx.thread_ts.get(upload.thread_of)
    if thread_ts is None:
        root = ledger.get(store, PostKey(upload.channel, upload.thread_of).text)
        if root is not None and root["state"] == "skipped":
            ctx.skip(key, "file", "the message it belongs to was refused by Slack")
            return
        ctx.fail(key, "file", "the message it belongs to is not in Slack yet", halt=False)
        return
    row = ctx.rows.get(key)
    if row is not None and row["state"] in ("in_doubt", "intent") and row["slack_file"]:
        looked = ctx.attempt(LOOKUP, lambda: _file_in_thread(ctx, thread_ts, row["slack_file"],
                                                             row["intent_at"]))
        if looked.outcome is not Outcome.DONE:
            ctx.still_in_doubt(key, "file", f"cannot check an unanswered upload ({looked.code})")
        if looked.value:
            _uploaded(ctx, upload, row["slack_file"], looked.value, "found")
            return
    path = ctx.files_dir / upload.sha256[:2] / upload.sha256
    try:
        data = path.read_bytes()
    except OSError:
        ctx.skip(key, "file", f"the downloaded copy is missing ({path}); export again")
        return
    if not data:
        ctx.skip(key, "file", "empty file (Slack refuses zero-length uploads)")
        return
    for _ in range(TRIES):
        sent: dict[str, str] = {}

        def share(f: str) -> Any:
            return ctx.recorded(key, "file", lambda: client.complete_upload(
                f, upload.name, ctx.slack_id, thread_ts,
                username=ctx.usernames.get(upload.message_id)),
                teams_id=upload.message_id, slack_channel=ctx.slack_id, slack_file=f)

        def send(sent: dict[str, str] = sent) -> Any:
            # getUploadURLExternal and the byte upload are repeatable (an upload never
            # completed stays private); only the share can leave us in doubt.
            ticket = ctx.call("files.getUploadURLExternal",
                              lambda: client.get_upload_url(upload.name, len(data)))
            client.upload_bytes(ticket["upload_url"], data)
            sent["file"] = ticket["file_id"]
            return ctx.call("files.completeUploadExternal", lambda f=sent["file"]: share(f),
                            posting=True)

        answer = ctx.attempt(CONTENT, send)
        if ctx.conclude(key, "file", answer, what="the upload", what_skipped="the file",
                        unanswered="completeUploadExternal", halt=False):
            _uploaded(ctx, upload, sent["file"], share_ts(answer.value, ctx.slack_id), "uploaded")
            return
        if answer.outcome is not Outcome.IN_DOUBT:    # skipped or failed
            return
        file_id, started = sent["file"], ledger.get(store, key)["intent_at"]
        looked = ctx.attempt(LOOKUP, lambda f=file_id, s=started: _share_in_thread(
            ctx, thread_ts, f, s))
        if looked.outcome is not Outcome.DONE:
            ctx.still_in_doubt(key, "file", f"cannot check an unanswered upload ({looked.code})",
                               halt=False)
            return
        if looked.value:
            _uploaded(ctx, upload, file_id, looked.value, "found")
            return
        # not in the thread: the share never landed, upload it again
    ctx.fail(key, "file", f"no answer from Slack after {TRIES} tries", halt=False)


def _uploaded(ctx: LaneContext, upload: Upload, file_id: str, ts: str | None,
              outcome: str) -> None:
    ledger.done(ctx.store, upload.key, kind="file", slack_channel=ctx.slack_id,
                slack_ts=ts, slack_file=file_id, teams_id=upload.message_id)
    ctx.run.count("file", outcome)
