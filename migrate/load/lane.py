"""One lane per Slack channel: everything the channel receives, in order, one call in flight
(the scheduler interleaves the lanes). This module holds the lane's items, its state from the
ledger and the scheduler protocol; the steps themselves are in lane_setup.py (channel,
members, archive) and lane_messages.py (posts, edits, deletions, files)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from migrate.load.client import SlackRateLimited
from migrate.load.lane_common import Halt, Item
from migrate.load.lane_messages import MessageSteps
from migrate.load.lane_setup import SetupSteps
from migrate.plan.build import ChannelPlan, Post, Upload
from migrate.store import ledger
from migrate.store.keys import ChannelStepKey, FileKey, PostKey
from migrate.transform.content import DELETED

if TYPE_CHECKING:
    from migrate.load.importer import Importer


class ChannelLane(SetupSteps, MessageSteps):
    """Everything one Slack channel receives, in order (see the module docstring)."""

    def __init__(self, importer: Importer, plan: ChannelPlan) -> None:
        self.imp = importer
        self.cp = plan
        self.label = plan.slack_name or f"{plan.team_name}/{plan.channel_name}"
        self.slack_id: str | None = plan.slack_channel_id
        channel = plan.teams_channel_id
        posts = ledger.with_prefix(importer.store, PostKey.prefix(channel))
        self.rows = {**posts, **ledger.with_prefix(importer.store, FileKey.prefix(channel))}
        self.thread_ts: dict[str, str] = {}
        for text, row in posts.items():
            key = PostKey.parse(text)
            if key.part == 0 and row["state"] == "done" and row["slack_ts"]:
                self.thread_ts[key.message] = row["slack_ts"]
        self.items = self._items()
        self.total = sum(1 for i in self.items if i.kind in ("post", "upload"))
        self._left = self.total    # posts and uploads not passed yet (the lane's priority)
        self.index = 0
        self.halted: str | None = None
        self.trouble = False          # something failed: never archive in this run
        self._usernames = {p.message_id: p.username for p in self._posts()}
        archive = ledger.get(importer.store, self._key("archive"))
        self.archived = archive is not None and archive["state"] == "done"
        self._skip_done()

    def _posts(self) -> list[Post]:
        return self.imp.posts_by_channel.get(self.cp.teams_channel_id, [])

    def _items(self) -> list[Item]:
        items = [Item("channel")]
        if self.cp.rename_to:
            items.append(Item("rename"))
        if self.cp.purpose:
            items.append(Item("purpose"))
        if self.cp.topic:
            items.append(Item("topic"))
        uploads: dict[str, list[Upload]] = {}
        for upload in self.imp.uploads_by_channel.get(self.cp.teams_channel_id, []):
            uploads.setdefault(upload.message_id, []).append(upload)
        posts = self._posts()
        for i, post in enumerate(posts):
            items.append(Item("post", post=post))
            last_part = i + 1 == len(posts) or posts[i + 1].message_id != post.message_id
            if last_part:
                items.extend(Item("upload", upload=u) for u in uploads.pop(post.message_id, []))
        items.extend(Item("retract", retraction=r)
                     for r in self.imp.retractions_by_channel.get(self.cp.teams_channel_id, []))
        if self.cp.invite:
            items.append(Item("invite"))
        if self.cp.archive_after:
            items.append(Item("archive"))
        return items

    # ------------------------------------------------------------------ lane protocol

    def _state(self, item: Item) -> str | None:
        if item.kind == "post":
            row = self.rows.get(item.post.key)
            if (row is not None and row["state"] == "done" and row["content_hash"]
                    and row["content_hash"] != ledger.text_hash(item.post.text)):
                return "edited"   # in Slack with an older text: chat.update it
        elif item.kind == "retract":
            row = self.rows.get(item.retraction.key)
            if row is None or row["state"] != "done":
                return "done"
            placeholder = self.imp.deleted_messages == "placeholder"
            if placeholder and row["content_hash"] == ledger.text_hash(DELETED):
                return "done"
            return "pending"
        elif item.kind == "upload":
            row = self.rows.get(item.upload.key)
        elif item.kind == "rename":
            return None  # planned only while the Slack name differs (a channel may move twice)
        else:
            row = ledger.get(self.imp.store, self._key(item.kind))
            if item.kind == "channel" and row is not None and row["state"] == "done":
                self.slack_id = row["slack_channel"] or self.slack_id
        return row["state"] if row is not None else None

    def _key(self, step: str) -> str:
        return ChannelStepKey(step, self.cp.teams_channel_id).text

    def _skip_done(self) -> None:
        while self.index < len(self.items):
            item = self.items[self.index]
            if item.kind in ("invite",):
                return
            if self._state(item) not in ("done", "skipped"):
                return
            if item.kind in ("post", "upload"):
                self.imp.progress.advance(self.label)
                self._left -= 1
            self.index += 1

    def next_call(self) -> tuple[str, str | None] | None:
        if self.halted or self.index >= len(self.items):
            return None
        item = self.items[self.index]
        if item.kind == "post" and self._state(item) == "edited":
            return ("chat.update", None)
        return {
            "channel": ("conversations.create", None), "purpose": ("conversations.setPurpose", None),
            "rename": ("conversations.rename", None),
            "topic": ("conversations.setTopic", None), "post": ("chat.postMessage", self.slack_id),
            "upload": ("files.getUploadURLExternal", None),
            "retract": ("chat.update" if self.imp.deleted_messages == "placeholder"
                        else "chat.delete", None),
            "invite": ("conversations.invite", None), "archive": ("conversations.archive", None),
        }[item.kind]

    def remaining(self) -> int:
        return self._left

    def left(self) -> int:
        return 0 if self.index >= len(self.items) else len(self.items) - self.index

    def step(self) -> None:
        item = self.items[self.index]
        try:
            if self.archived and item.kind not in ("channel", "archive"):
                self._archived_change(item)
            else:
                getattr(self, f"_do_{item.kind}")(item)
        except Halt as exc:
            self._halt(str(exc))
            return
        except SlackRateLimited:
            # Still 429 after the scheduler's patient retries: this channel waits for the next
            # run (a post's intent stays in doubt and is looked up first then).
            self._halt("Slack kept answering 429 (rate limited); the next run retries")
            return
        if item.kind in ("post", "upload"):
            self.imp.progress.advance(self.label)
            self._left -= 1
        self.index += 1
        self._skip_done()

    def _halt(self, why: str) -> None:
        self.halted = why
        self.trouble = True
        with self.imp._lock:
            self.imp.result.halted[self.label] = why

    def _archived_change(self, item: Item) -> None:
        """DESIGN §4.4: later changes in a channel archived after import are reported only."""
        reason = "channel archived in Slack after import: the change is reported, not posted"
        if item.kind == "post" and self._state(item) is None:
            self._skip(item.post.key, "post", reason)
        elif item.kind == "upload":
            self._skip(item.upload.key, "file", reason)
        elif item.kind in ("post", "retract"):
            self.imp.count("edit", "skipped", reason)

    def _call(self, method: str, fn: Callable[[], Any], *, posting: bool = False) -> Any:
        return self.imp.scheduler.call(method, self.slack_id if posting else None, fn,
                                       priority=self.remaining())

    def _fail(self, key: str, kind: str, reason: str, *, halt: bool = True) -> None:
        ledger.failed(self.imp.store, key, reason, kind=kind, run_id=self.imp.run_id)
        self.imp.count(kind, "failed", reason)
        self.trouble = True
        if halt:
            raise Halt(f"{kind} failed: {reason}")

    def _still_in_doubt(self, key: str, kind: str, reason: str, *, halt: bool = True) -> None:
        """The look-up itself failed: the item stays in doubt (never `failed`, which the next
        run would simply redo) so it is looked up again before anything is re-sent."""
        ledger.in_doubt(self.imp.store, key, reason)
        self.imp.count(kind, "failed", reason)
        self.trouble = True
        if halt:
            raise Halt(f"{kind} in doubt: {reason}")

    def _skip(self, key: str, kind: str, reason: str) -> None:
        ledger.skipped(self.imp.store, key, kind, reason, run_id=self.imp.run_id)
        self.imp.count(kind, "skipped", reason)

