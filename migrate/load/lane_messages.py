"""The message steps of a channel lane: posts (roots, replies, continuation parts), edits,
deletions and file uploads, each exactly once — an unanswered call is looked up in Slack (by
the Teams ids in the metadata, or the file id in the thread) before anything is re-sent.
A part of ChannelLane (lane.py)."""

from __future__ import annotations

from typing import Any

from migrate.load.client import SlackOutcomeUnknown, SlackRefused, SlackUnavailable
from migrate.load.lane_common import (
    CONTENT_CODES,
    LOOKBACK_S,
    TRIES,
    Halt,
    Item,
    Refused,
    epoch,
    payload,
    share_ts,
)
from migrate.plan.build import Post, Upload, metadata_for
from migrate.store import ledger
from migrate.store.keys import PostKey
from migrate.transform.content import DELETED


class MessageSteps:
    def _thread_of(self, post: Post) -> str | None:
        """The ts of the thread a reply goes into; raises Refused when its root was refused
        for good (the reply is skipped too), and halts the lane when the root is not in yet."""
        if post.root_id is None:
            return None
        ts = self.thread_ts.get(post.root_id)
        if ts is None:
            root = ledger.get(self.imp.store, PostKey(post.channel, post.root_id).text)
            if root is not None and root["state"] == "skipped":
                self._skip(post.key, "post", "its thread root was refused by Slack")
                raise Refused
            self._fail(post.key, "post", "its thread root is not in Slack yet")
        return ts

    def _find_post(self, post: Post, thread_ts: str | None, since_iso: str | None) -> str | None:
        """The ts of this post if it is already in Slack (read back by its metadata)."""
        oldest = f"{max(0.0, epoch(since_iso) - LOOKBACK_S):.6f}"
        client, channel = self.imp.client, self.slack_id
        cursor = ""
        while True:
            if thread_ts:
                page = self._call("conversations.replies", lambda c=cursor: client.replies(
                    channel, thread_ts, oldest=oldest, cursor=c))
            else:
                page = self._call("conversations.history", lambda c=cursor: client.history(
                    channel, oldest=oldest, cursor=c))
            for message in page.get("messages") or []:
                ids = payload(message)
                if (ids.get("teams_message_id") == post.message_id
                        and ids.get("teams_channel_id") == post.channel
                        and int(ids.get("part", 0)) == post.part):
                    return message["ts"]
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or ""
            if not cursor:
                return None

    def _resolve(self, post: Post, thread_ts: str | None, since_iso: str | None) -> bool:
        try:
            ts = self._find_post(post, thread_ts, since_iso)
        except (SlackUnavailable, SlackRefused) as exc:
            # Never post while we cannot tell whether it is there: leave it in doubt.
            self.trouble = True
            self.imp.count("post", "in_doubt")
            raise Halt(f"cannot check an unanswered post ({exc.code})") from None
        if ts is None:
            return False
        self._posted(post, ts, "found")
        return True

    def _posted(self, post: Post, ts: str, outcome: str) -> None:
        ledger.done(self.imp.store, post.key, slack_channel=self.slack_id, slack_ts=ts,
                    kind="post", teams_id=post.message_id, content_hash=ledger.text_hash(post.text))
        if post.root_id is None and post.part == 0:
            self.thread_ts[post.message_id] = ts
        self.imp.count("post", outcome)
        if outcome == "posted":
            with self.imp._lock:
                self.imp.posted_in[self.slack_id] += 1

    def _do_post(self, item: Item) -> None:
        post = item.post
        assert post is not None
        store, client = self.imp.store, self.imp.client
        row = self.rows.get(post.key)
        if row is not None and row["state"] == "done":
            self._update(post, row)
            return
        try:
            thread_ts = self._thread_of(post)
        except Refused:
            return
        if (row is not None and row["state"] in ("in_doubt", "intent")
                and self._resolve(post, thread_ts, row["intent_at"])):
            return
        metadata = metadata_for(post.channel, post.message_id, post.part)
        for _ in range(TRIES):
            def send() -> Any:
                # The intent is written once the scheduler admits the call, just before it goes.
                ledger.intent(store, post.key, "post", teams_id=post.message_id,
                              slack_channel=self.slack_id, run_id=self.imp.run_id)
                return client.post_message(self.slack_id, post.text, username=post.username,
                                           icon_url=post.icon_url, metadata=metadata,
                                           thread_ts=thread_ts)

            try:
                answer = self._call("chat.postMessage", send, posting=True)
            except SlackOutcomeUnknown as exc:
                started = ledger.get(store, post.key)["intent_at"]
                ledger.in_doubt(store, post.key, f"no answer to the post ({exc.code})")
                if self._resolve(post, thread_ts, started):
                    return
                continue  # not in Slack: it never landed, post it again
            except SlackUnavailable as exc:
                self._fail(post.key, "post", f"Slack unavailable ({exc.code})")
            except SlackRefused as exc:
                if exc.code in CONTENT_CODES:
                    self._skip(post.key, "post", f"Slack refused the message: {exc.code}")
                    return
                self._fail(post.key, "post", f"Slack refused the post: {exc.code}")
            self._posted(post, answer["ts"], "posted")
            return
        self._fail(post.key, "post", f"no answer from Slack after {TRIES} tries")

    def _update(self, post: Post, row) -> None:
        """An edit (or a reactions change) in Teams: the post in Slack gets the new text."""
        channel, ts = row["slack_channel"], row["slack_ts"]
        try:
            self._call("chat.update", lambda: self.imp.client.update_message(channel, ts, post.text))
        except SlackRefused as exc:
            self._skip_update(post.key, f"Slack refused the edit: {exc.code}")
            return
        except SlackUnavailable as exc:
            self._change_failed(post.key, "edit", f"Slack unavailable ({exc.code})")
            return
        ledger.done(self.imp.store, post.key, content_hash=ledger.text_hash(post.text))
        self.imp.count("post", "updated")

    def _change_failed(self, key: str, change: str, reason: str) -> None:
        """An edit or deletion of a post already in Slack failed: the post stays `done` (it
        is in Slack — marking it failed would post it again) and the next sync retries."""
        ledger.done(self.imp.store, key, reason=f"{change} not applied yet: {reason}")
        self.imp.count(change, "failed", f"{change}: {reason}")
        self.trouble = True

    def _skip_update(self, key: str, reason: str) -> None:
        # The post stays in Slack as it was (done); the edit is what is skipped. Remember the
        # new text's hash so the next sync does not try again.
        ledger.done(self.imp.store, key, reason=reason,
                    content_hash=ledger.text_hash(next(p.text for p in self._posts() if p.key == key)))
        self.imp.count("edit", "skipped", reason)

    def _do_retract(self, item: Item) -> None:
        retraction = item.retraction
        assert retraction is not None
        row = self.rows[retraction.key]
        channel, ts = row["slack_channel"], row["slack_ts"]
        client = self.imp.client
        try:
            if self.imp.deleted_messages == "placeholder" and retraction.reason == "deleted in Teams":
                self._call("chat.update", lambda: client.update_message(channel, ts, DELETED))
                ledger.done(self.imp.store, retraction.key, content_hash=ledger.text_hash(DELETED))
                self.imp.count("post", "replaced by a placeholder")
                return
            self._call("chat.delete", lambda: client.delete_message(channel, ts))
        except SlackRefused as exc:
            if exc.code != "message_not_found":
                self._change_failed(retraction.key, "delete", f"Slack refused: {exc.code}")
                return
        except SlackUnavailable as exc:
            self._change_failed(retraction.key, "delete", f"Slack unavailable ({exc.code})")
            return
        ledger.skipped(self.imp.store, retraction.key, "post",
                       f"deleted from Slack ({retraction.reason})")
        self.imp.count("post", "deleted")

    # ------------------------------------------------------------------ uploads

    def _file_in_thread(self, thread_ts: str, file_id: str, since_iso: str | None) -> str | None:
        oldest = f"{max(0.0, epoch(since_iso) - LOOKBACK_S):.6f}"
        cursor = ""
        while True:
            page = self._call("conversations.replies", lambda c=cursor: self.imp.client.replies(
                self.slack_id, thread_ts, oldest=oldest, cursor=c))
            for message in page.get("messages") or []:
                if any(f.get("id") == file_id for f in message.get("files") or []):
                    return message["ts"]
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or ""
            if not cursor:
                return None

    def _do_upload(self, item: Item) -> None:
        upload = item.upload
        assert upload is not None
        store, client, key = self.imp.store, self.imp.client, upload.key
        thread_ts = self.thread_ts.get(upload.thread_of)
        if thread_ts is None:
            root = ledger.get(store, PostKey(upload.channel, upload.thread_of).text)
            if root is not None and root["state"] == "skipped":
                self._skip(key, "file", "the message it belongs to was refused by Slack")
                return
            self._fail(key, "file", "the message it belongs to is not in Slack yet", halt=False)
            return
        row = self.rows.get(key)
        if row is not None and row["state"] in ("in_doubt", "intent") and row["slack_file"]:
            try:
                ts = self._file_in_thread(thread_ts, row["slack_file"], row["intent_at"])
            except (SlackUnavailable, SlackRefused) as exc:
                self._still_in_doubt(key, "file", f"cannot check an unanswered upload ({exc.code})")
            if ts:
                self._uploaded(upload, row["slack_file"], ts, "found")
                return
        path = self.imp.files_dir / upload.sha256[:2] / upload.sha256
        try:
            data = path.read_bytes()
        except OSError:
            self._skip(key, "file", f"the downloaded copy is missing ({path}); export again")
            return
        if not data:
            self._skip(key, "file", "empty file (Slack refuses zero-length uploads)")
            return
        for _ in range(TRIES):
            file_id = None

            def share(f: str) -> Any:
                ledger.intent(store, key, "file", teams_id=upload.message_id,
                              slack_channel=self.slack_id, run_id=self.imp.run_id, slack_file=f)
                return client.complete_upload(f, upload.name, self.slack_id, thread_ts,
                                              username=self._usernames.get(upload.message_id))

            try:
                # getUploadURLExternal and the byte upload are repeatable (an upload never
                # completed stays private); only the share can leave us in doubt.
                ticket = self._call("files.getUploadURLExternal",
                                    lambda: client.get_upload_url(upload.name, len(data)))
                client.upload_bytes(ticket["upload_url"], data)
                file_id = ticket["file_id"]
                answer = self._call("files.completeUploadExternal",
                                    lambda f=file_id: share(f), posting=True)
            except SlackOutcomeUnknown as exc:
                started = ledger.get(store, key)["intent_at"]
                ledger.in_doubt(store, key, f"no answer to completeUploadExternal ({exc.code})")
                try:
                    ts = self._file_in_thread(thread_ts, file_id, started)
                except (SlackUnavailable, SlackRefused) as err:
                    self._still_in_doubt(key, "file",
                                         f"cannot check an unanswered upload ({err.code})", halt=False)
                    return
                if ts:
                    self._uploaded(upload, file_id, ts, "found")
                    return
                continue
            except SlackRefused as exc:
                if exc.code in CONTENT_CODES:
                    self._skip(key, "file", f"Slack refused the file: {exc.code}")
                else:
                    self._fail(key, "file", f"Slack refused the upload: {exc.code}", halt=False)
                return
            except SlackUnavailable as exc:
                self._fail(key, "file", f"Slack unavailable ({exc.code})", halt=False)
                return
            self._uploaded(upload, file_id, share_ts(answer, self.slack_id), "uploaded")
            return
        self._fail(key, "file", f"no answer from Slack after {TRIES} tries", halt=False)

    def _uploaded(self, upload: Upload, file_id: str, ts: str | None, outcome: str) -> None:
        ledger.done(self.imp.store, upload.key, kind="file", slack_channel=self.slack_id,
                    slack_ts=ts, slack_file=file_id, teams_id=upload.message_id)
        self.imp.count("file", outcome)

