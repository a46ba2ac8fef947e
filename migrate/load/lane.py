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
from migrate.store.keys import PostKey
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


WINDOW = 64   # posts a lane reads from the plan at a time: its memory, whatever the channel's size


class ChannelLane:
    """Everything one Slack channel receives, in order (see the module docstring). The items
    are read from the plan a window at a time — setup, then posts with their files, then
    deletions, invites and archiving — so thousands of lanes of a large tenant stay small."""

    def __init__(self, importer: Importer, plan: ChannelPlan) -> None:
        channel = plan.teams_channel_id
        store = importer.store
        self._plan_posts = importer.plan.posts
        self._plan_uploads = importer.plan.uploads
        self._plan_retractions = importer.plan.retractions
        self.ctx = LaneContext(
            store=store, client=importer.client, scheduler=importer.scheduler, run=importer,
            cp=plan, run_id=importer.run_id, files_dir=importer.files_dir,
            deleted_messages=importer.deleted_messages,
            channel_posts=lambda: self._plan_posts.of(channel),
            channel_uploads=lambda: self._plan_uploads.of(channel),
            rows={}, thread_ts=ThreadTs(store, channel), usernames={},
            label=plan.slack_name or f"{plan.team_name}/{plan.channel_name}",
            slack_id=plan.slack_channel_id)
        self.progress = importer.progress
        self.total = self._plan_posts.count(channel) + self._plan_uploads.count(channel)
        self.ctx.left = self.total    # posts and uploads not passed yet (the lane's priority)
        self.items = self._head()
        self.index = 0
        self._phase = "body"          # body: posts and files, a window at a time; end: tail read
        self._after = 0               # where the next window of posts starts
        self._uploads: dict[str, list[Upload]] | None = None
        self._last_message: str | None = None
        self.halted: str | None = None
        archive = ledger.get(store, self.ctx.key("archive"))
        self.archived = archive is not None and archive["state"] == "done"
        self._skip_done()

    @property
    def label(self) -> str:
        return self.ctx.label

    def _head(self) -> list[Item]:
        cp = self.ctx.cp
        items = [Item("channel")]
        if cp.rename_to:
            items.append(Item("rename"))
        if cp.purpose:
            items.append(Item("purpose"))
        if cp.topic:
            items.append(Item("topic"))
        return items

    def _tail(self) -> list[Item]:
        cp = self.ctx.cp
        items = [Item("retract", retraction=r)
                 for r in self._plan_retractions.of(cp.teams_channel_id)]
        if cp.invite:
            items.append(Item("invite"))
        if cp.archive_after:
            items.append(Item("archive"))
        return items

    def _current(self) -> Item | None:
        """The item the lane is at, reading the next window when this one is passed."""
        while self.index >= len(self.items):
            if not self._next_window():
                return None
        return self.items[self.index]

    def _next_window(self) -> bool:
        ctx = self.ctx
        channel = ctx.cp.teams_channel_id
        if self._phase == "end":
            return False
        if self._uploads is None:
            self._uploads = {}
            for upload in self._plan_uploads.of(channel):
                self._uploads.setdefault(upload.message_id, []).append(upload)
        items: list[Item] = []
        if self._phase == "body":
            posts, self._after = self._plan_posts.chunk(channel, self._after, WINDOW)
            # A message's files go right after its last part: when the next message starts.
            last = self._last_message
            ctx.usernames = {last: ctx.usernames[last]} if last in ctx.usernames else {}
            for post in posts:
                if last is not None and post.message_id != last:
                    items.extend(Item("upload", upload=u) for u in self._uploads.pop(last, []))
                items.append(Item("post", post=post))
                ctx.usernames[post.message_id] = post.username
                last = post.message_id
            self._last_message = last
            if not posts:
                if last is not None:
                    items.extend(Item("upload", upload=u) for u in self._uploads.pop(last, []))
                items.extend(self._tail())
                self._phase = "end"
        self.items, self.index = items, 0
        ctx.rows = ledger.rows(ctx.store, [key for item in items
                                           if (key := _item_key(item)) is not None])
        return True

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
        while (item := self._current()) is not None:
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
        item = None if self.halted else self._current()
        if item is None:
            return None
        if item.kind == "post" and self._state(item) == "edited":
            return ("chat.update", None)
        if item.kind == "retract" and self.ctx.deleted_messages == "placeholder":
            return ("chat.update", None)
        step = STEPS[item.kind]
        return (step.method, self.ctx.slack_id if step.posting else None)

    def remaining(self) -> int:
        return self.ctx.left

    def left(self) -> int:
        """Items not done (when the lane stopped early): its posts and files, and the rest."""
        if self._current() is None:
            return 0
        rest = sum(1 for item in self.items[self.index:] if item.kind not in ("post", "upload"))
        return self.ctx.left + rest + (len(self._tail()) if self._phase != "end" else 0)

    def step(self) -> None:
        item = self._current()
        assert item is not None
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


def _item_key(item: Item) -> str | None:
    if item.post is not None:
        return item.post.key
    if item.upload is not None:
        return item.upload.key
    if item.retraction is not None:
        return item.retraction.key
    return None


class ThreadTs:
    """Teams root message id → its ts in Slack: what this run posted, else the ledger's
    (read when a reply asks). Bounded: a channel's replies follow their roots closely."""

    KEEP = 4_096

    def __init__(self, store, channel: str) -> None:
        self.store = store
        self.channel = channel
        self.known: dict[str, str] = {}

    def get(self, root_id: str | None) -> str | None:
        if root_id is None:
            return None
        ts = self.known.get(root_id)
        if ts is None:
            row = ledger.get(self.store, PostKey(self.channel, root_id).text)
            if row is not None and row["state"] == "done" and row["slack_ts"]:
                ts = self[root_id] = row["slack_ts"]
        return ts

    def __setitem__(self, root_id: str, ts: str) -> None:
        if len(self.known) >= self.KEEP:
            self.known.clear()
        self.known[root_id] = ts
