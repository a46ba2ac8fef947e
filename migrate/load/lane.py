"""One lane per Slack channel: everything the channel receives, in order, one call in flight
(the scheduler interleaves the lanes). This module holds the lane's items, its state from the
ledger, the scheduler protocol and the dispatch table (STEPS: item kind → the Slack call the
scheduler admits first, and the step function). The steps are functions of one LaneContext
(lane_common.py): lane_setup.py (channel, rename, purpose, topic, members, archive) and
lane_messages.py (posts, edits, deletions, files)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from migrate.load import lane_messages, lane_setup
from migrate.load.client import SlackRateLimited
from migrate.load.lane_common import Halt, Item, LaneContext, imported
from migrate.plan.build import ChannelPlan, Upload
from migrate.store import ledger
from migrate.store.keys import FileKey, PostKey
from migrate.transform.content import DELETED

if TYPE_CHECKING:
    from migrate.load.importer import Importer


@dataclass(frozen=True)
class Step:
    method: str                                   # the call the scheduler is asked about first
    do: Callable[[LaneContext, Item], None]
    posting: bool = False                         # admitted on the channel's posting budget


STEPS: dict[str, Step] = {
    "channel": Step("conversations.create", lane_setup.create_channel),
    "rename": Step("conversations.rename", lane_setup.rename_channel),
    "purpose": Step("conversations.setPurpose", lane_setup.set_purpose),
    "topic": Step("conversations.setTopic", lane_setup.set_topic),
    "post": Step("chat.postMessage", lane_messages.send_post, posting=True),
    "upload": Step("files.getUploadURLExternal", lane_messages.send_upload),
    "retract": Step("chat.delete", lane_messages.retract_post),
    "invite": Step("conversations.invite", lane_setup.invite_members),
    "archive": Step("conversations.archive", lane_setup.archive_channel),
}


class ChannelLane:
    """Everything one Slack channel receives, in order (see the module docstring)."""

    def __init__(self, importer: Importer, plan: ChannelPlan) -> None:
        channel = plan.teams_channel_id
        store = importer.store
        posts = ledger.with_prefix(store, PostKey.prefix(channel))
        thread_ts: dict[str, str] = {}
        for text, row in posts.items():
            key = PostKey.parse(text)
            if key.part == 0 and row["state"] == "done" and row["slack_ts"]:
                thread_ts[key.message] = row["slack_ts"]
        planned = importer.posts_by_channel.get(channel, [])
        self.ctx = LaneContext(
            store=store, client=importer.client, scheduler=importer.scheduler, run=importer,
            cp=plan, run_id=importer.run_id, files_dir=importer.files_dir,
            deleted_messages=importer.deleted_messages, posts=planned,
            uploads=importer.uploads_by_channel.get(channel, []),
            rows={**posts, **ledger.with_prefix(store, FileKey.prefix(channel))},
            thread_ts=thread_ts, usernames={p.message_id: p.username for p in planned},
            label=plan.slack_name or f"{plan.team_name}/{plan.channel_name}",
            slack_id=plan.slack_channel_id)
        self.progress = importer.progress
        self.retractions = importer.retractions_by_channel.get(channel, [])
        self.items = self._items()
        self.total = sum(1 for i in self.items if i.kind in ("post", "upload"))
        self.ctx.left = self.total    # posts and uploads not passed yet (the lane's priority)
        self.index = 0
        self.halted: str | None = None
        archive = ledger.get(store, self.ctx.key("archive"))
        self.archived = archive is not None and archive["state"] == "done"
        self._skip_done()

    @property
    def label(self) -> str:
        return self.ctx.label

    def _items(self) -> list[Item]:
        cp = self.ctx.cp
        items = [Item("channel")]
        if cp.rename_to:
            items.append(Item("rename"))
        if cp.purpose:
            items.append(Item("purpose"))
        if cp.topic:
            items.append(Item("topic"))
        uploads: dict[str, list[Upload]] = {}
        for upload in self.ctx.uploads:
            uploads.setdefault(upload.message_id, []).append(upload)
        posts = self.ctx.posts
        for i, post in enumerate(posts):
            items.append(Item("post", post=post))
            last_part = i + 1 == len(posts) or posts[i + 1].message_id != post.message_id
            if last_part:
                items.extend(Item("upload", upload=u) for u in uploads.pop(post.message_id, []))
        items.extend(Item("retract", retraction=r) for r in self.retractions)
        if cp.invite:
            items.append(Item("invite"))
        if cp.archive_after:
            items.append(Item("archive"))
        return items

    # ------------------------------------------------------------------ lane protocol


    def _state(self, item: Item) -> str | None:
        ctx = self.ctx
        if item.kind == "post":
            row = ctx.rows.get(item.post.key)
            if row is not None and row["state"] == "done" and imported(row):
                # A person's own message now: only an edit in Teams since the import matters
                # (reported, as an app cannot edit it).
                changed = item.post.imported_hash not in (None, row["content_hash"])
                return "edited" if changed else "done"
            if (row is not None and row["state"] == "done" and row["content_hash"]
                    and row["content_hash"] != ledger.text_hash(item.post.text)):
                return "edited"   # in Slack with an older text: chat.update it
        elif item.kind == "retract":
            row = ctx.rows.get(item.retraction.key)
            if row is None or row["state"] != "done":
                return "done"
            placeholder = ctx.deleted_messages == "placeholder"
            if placeholder and row["content_hash"] == ledger.text_hash(DELETED):
                return "done"
            return "pending"
        elif item.kind == "upload":
            row = ctx.rows.get(item.upload.key)
        elif item.kind == "rename":
            return None  # planned only while the Slack name differs (a channel may move twice)
        else:
            row = ledger.get(ctx.store, ctx.key(item.kind))
            if item.kind == "channel" and row is not None and row["state"] == "done":
                ctx.slack_id = row["slack_channel"] or ctx.slack_id
        return row["state"] if row is not None else None

    def _skip_done(self) -> None:
        while self.index < len(self.items):
            item = self.items[self.index]
            if item.kind in ("invite",):
                return
            if self._state(item) not in ("done", "skipped"):
                return
            self._passed(item)

    def _passed(self, item: Item) -> None:
        if item.kind in ("post", "upload"):
            self.progress.advance(self.label)
            self.ctx.left -= 1
        self.index += 1

    def next_call(self) -> tuple[str, str | None] | None:
        if self.halted or self.index >= len(self.items):
            return None
        item = self.items[self.index]
        if item.kind == "post" and self._state(item) == "edited":
            return ("chat.update", None)
        if item.kind == "retract" and self.ctx.deleted_messages == "placeholder":
            return ("chat.update", None)
        step = STEPS[item.kind]
        return (step.method, self.ctx.slack_id if step.posting else None)

    def remaining(self) -> int:
        return self.ctx.left

    def left(self) -> int:
        return 0 if self.index >= len(self.items) else len(self.items) - self.index

    def step(self) -> None:
        item = self.items[self.index]
        try:
            if self.archived and item.kind not in ("channel", "archive"):
                self._archived_change(item)
            else:
                STEPS[item.kind].do(self.ctx, item)
        except Halt as exc:
            self._halt(str(exc))
            return
        except SlackRateLimited:
            # Still 429 after the scheduler's patient retries: this channel waits for the next
            # run (a post's intent stays in doubt and is looked up first then).
            self._halt("Slack kept answering 429 (rate limited); the next run retries")
            return
        self._passed(item)
        self._skip_done()

    def _halt(self, why: str) -> None:
        self.halted = why
        self.ctx.trouble = True
        self.ctx.run.note_halted(self.label, why)

    def _archived_change(self, item: Item) -> None:
        """Later changes in a channel archived after import are reported, not posted (the bot has
        left it, and an archived channel is history)."""
        reason = "channel archived in Slack after import: the change is reported, not posted"
        if item.kind == "post" and self._state(item) is None:
            self.ctx.skip(item.post.key, "post", reason)
        elif item.kind == "upload":
            self.ctx.skip(item.upload.key, "file", reason)
        elif item.kind in ("post", "retract"):
            self.ctx.run.count("edit", "skipped", reason)
