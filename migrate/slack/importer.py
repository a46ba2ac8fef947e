"""Plan → Slack: executes a Plan through the scheduler, exactly once (DESIGN §4.4, §4.5).

One lane per channel does, in order: create (or reuse) the channel, set its purpose/topic,
post every message (roots in order, each followed by its thread; a reply only once its
root's ts is known) with the files of each message uploaded into its thread, invite the
mapped members in batches of ≤ 100, and archive it last when its Teams team is archived.
Members are invited after the history is in, so nobody gets an unread badge per old message.

Exactly once: the ledger records an intent before every post, upload share and channel
creation, and the ts/id after. A call whose outcome is unknown leaves the item *in doubt*;
before it is tried again the importer looks for it in Slack — posts by the Teams ids in their
metadata (conversations.history, or .replies in a thread, from shortly before the intent),
uploads by their file id in the thread, channels by name and creator — and records what it
finds instead of posting twice.

Failures: a permanent refusal makes that item *skipped* with Slack's reason and the lane goes
on; a transient one makes it *failed* and stops that channel's lane (posting past it would
put later messages before it); other channels go on. The next run resumes.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from migrate.plan import ChannelPlan, Plan, Post, Retraction, Upload, metadata_for
from migrate.slack.client import (
    SlackClient,
    SlackOutcomeUnknown,
    SlackRateLimited,
    SlackRefused,
    SlackUnavailable,
)
from migrate.slack.directory import remember_channel
from migrate.slack.scheduler import Scheduler
from migrate.store import Store, ledger
from migrate.timestamps import parse_instant
from migrate.transform.channels import MAX_NAME
from migrate.transform.content import DELETED

LOOKBACK_S = 600.0        # an in-doubt post is looked for from this long before its intent
TRIES = 3                 # posts tried per run when their outcome keeps being unknown
INVITE_BATCH = 100        # reference §4.3: the stricter of the documented maxima
GUEST_CODES = {"user_is_restricted", "user_is_ultra_restricted", "ura_max_channels"}
CHANNEL_CODES = {"channel_not_found", "not_in_channel", "is_archived", "restricted_action",
                 "no_permission", "method_not_supported_for_channel_type"}
# Refusals that say this content will never be accepted: the item is skipped, not retried.
CONTENT_CODES = {"msg_too_long", "no_text", "invalid_blocks", "invalid_blocks_format",
                 "msg_blocks_too_long", "too_many_attachments", "invalid_metadata_format",
                 "invalid_metadata_schema", "metadata_too_large", "markdown_text_conflict",
                 "file_type_not_allowed", "file_upload_size_restricted", "file_uploads_disabled",
                 "file_uploads_except_images_disabled", "invalid_arguments"}


class ImportProgress(Protocol):
    def lanes(self, totals: dict[str, int], done: dict[str, int]) -> None: ...
    def advance(self, channel: str, n: int = 1) -> None: ...


class _NoProgress:
    def lanes(self, totals: dict[str, int], done: dict[str, int]) -> None:
        pass

    def advance(self, channel: str, n: int = 1) -> None:
        pass


@dataclass
class ImportResult:
    outcomes: Counter = field(default_factory=Counter)        # (kind, outcome) this run
    failed: Counter = field(default_factory=Counter)          # reason → items
    skipped: Counter = field(default_factory=Counter)         # reason → items
    halted: dict[str, str] = field(default_factory=dict)      # channel name → why its lane stopped
    resolved_in_doubt: int = 0                                # found in Slack, not posted again
    not_attempted: int = 0                                    # items left by halted lanes or time
    seconds: float = 0.0
    posts_done: int = 0
    finished: bool = True

    def as_dict(self) -> dict[str, Any]:
        outcomes: dict[str, dict[str, int]] = {}
        for (kind, outcome), n in sorted(self.outcomes.items()):
            outcomes.setdefault(kind, {})[outcome] = n
        return {"outcomes": outcomes, "failed": dict(self.failed.most_common()),
                "skipped": dict(self.skipped.most_common()), "halted_channels": self.halted,
                "resolved_in_doubt": self.resolved_in_doubt, "not_attempted": self.not_attempted,
                "seconds": round(self.seconds, 2), "posts_done": self.posts_done,
                "finished": self.finished}


def _epoch(iso: str | None) -> float:
    moment = parse_instant(iso)
    return moment.timestamp() if moment is not None else time.time()


def _payload(message: dict) -> dict:
    return ((message.get("metadata") or {}).get("event_payload")) or {}


class _Halt(Exception):
    """This channel's lane cannot go on in this run."""


class _Refused(Exception):
    """This item is skipped for good (recorded); the lane goes on."""


@dataclass
class _Item:
    kind: str          # channel | purpose | topic | post | upload | retract | invite | archive
    post: Post | None = None
    upload: Upload | None = None
    retraction: Retraction | None = None


class Importer:
    def __init__(self, plan: Plan, store: Store, client: SlackClient, scheduler: Scheduler, *,
                 files_dir: Path, run_id: int | None = None,
                 progress: ImportProgress | None = None,
                 known_channel_names: set[str] | None = None,
                 deleted_messages: str = "delete") -> None:
        self.plan = plan
        self.store = store
        self.client = client
        self.scheduler = scheduler
        self.files_dir = files_dir
        self.run_id = run_id
        self.progress = progress or _NoProgress()
        self.result = ImportResult()
        self._lock = threading.Lock()
        self._taken_names = set(known_channel_names or ())
        self._bot_user: str | None = None
        self._workspace_channels: dict[str, dict] | None = None
        self.posted_in: Counter = Counter()      # Slack channel → posts made by this run
        self.posts_by_channel: dict[str, list[Post]] = {}
        for post in plan.posts:
            self.posts_by_channel.setdefault(post.channel, []).append(post)
        self.deleted_messages = deleted_messages
        self.retractions_by_channel: dict[str, list[Retraction]] = {}
        for retraction in plan.retractions:
            self.retractions_by_channel.setdefault(retraction.channel, []).append(retraction)
        self.uploads_by_channel: dict[str, list[Upload]] = {}
        for upload in plan.uploads:
            self.uploads_by_channel.setdefault(upload.channel, []).append(upload)

    # ------------------------------------------------------------------ bookkeeping

    def count(self, kind: str, outcome: str, reason: str | None = None, n: int = 1) -> None:
        with self._lock:
            self.result.outcomes[(kind, outcome)] += n
            if outcome == "failed" and reason:
                self.result.failed[reason] += n
            if outcome == "skipped" and reason:
                self.result.skipped[reason] += n
            if kind == "post" and outcome in ("posted", "found"):
                self.result.posts_done += n
            if outcome == "found":
                self.result.resolved_in_doubt += n

    def posts_per_channel(self) -> dict[str, int]:
        with self._lock:
            return dict(self.posted_in)

    def run(self, *, workers: int = 8) -> ImportResult:
        started = time.monotonic()
        lanes = [ChannelLane(self, c) for c in self.plan.channels if c.action != "skip"]
        # Items earlier runs finished count as done from the start (a sync shows its delta).
        self.progress.lanes({lane.label: lane.total for lane in lanes},
                            {lane.label: lane.total - lane.remaining() for lane in lanes})
        try:
            finished = self.scheduler.run(lanes, workers=workers)
        finally:
            self.result.seconds = time.monotonic() - started
        self.result.finished = finished and not self.result.halted
        self.result.not_attempted = sum(lane.left() for lane in lanes)
        return self.result

    # ------------------------------------------------------------------ Slack look-ups

    def bot_user(self) -> str | None:
        if self._bot_user is None:
            answer = self.scheduler.call("auth.test", None, self.client.auth_test)
            self._bot_user = answer.get("user_id") or ""
        return self._bot_user or None

    def workspace_channel(self, name: str, *, refresh: bool = False) -> dict | None:
        """The workspace's channel called `name` (conversations.list, read once per run)."""
        with self._lock:
            cached = self._workspace_channels
        if cached is None or refresh:
            found: dict[str, dict] = {}
            cursor = ""
            while True:
                page = self.scheduler.call("conversations.list", None,
                                           lambda c=cursor: self.client.list_channels(c))
                for channel in page.get("channels") or []:
                    found[channel["name"]] = channel
                cursor = (page.get("response_metadata") or {}).get("next_cursor") or ""
                if not cursor:
                    break
            with self._lock:
                self._workspace_channels = cached = found
                self._taken_names |= set(found)
        return cached.get(name)

    def claim_name(self, name: str) -> bool:
        with self._lock:
            if name in self._taken_names:
                return False
            self._taken_names.add(name)
            return True


class ChannelLane:
    """Everything one Slack channel receives, in order (see the module docstring)."""

    def __init__(self, importer: Importer, plan: ChannelPlan) -> None:
        self.imp = importer
        self.cp = plan
        self.label = plan.slack_name or f"{plan.team_name}/{plan.channel_name}"
        self.slack_id: str | None = plan.slack_channel_id
        self.rows = ledger.with_prefix(importer.store, f"post:{plan.teams_channel_id}:")
        self.rows.update(ledger.with_prefix(importer.store, f"file:{plan.teams_channel_id}:"))
        self.thread_ts: dict[str, str] = {}
        for key, row in self.rows.items():
            # post:<channel>:<message>:<part> — Teams channel ids contain ':' themselves.
            head, message_id, part = key.rsplit(":", 2)
            if head.startswith("post:") and part == "0" and row["state"] == "done" and row["slack_ts"]:
                self.thread_ts[message_id] = row["slack_ts"]
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

    def _items(self) -> list[_Item]:
        items = [_Item("channel")]
        if self.cp.rename_to:
            items.append(_Item("rename"))
        if self.cp.purpose:
            items.append(_Item("purpose"))
        if self.cp.topic:
            items.append(_Item("topic"))
        uploads: dict[str, list[Upload]] = {}
        for upload in self.imp.uploads_by_channel.get(self.cp.teams_channel_id, []):
            uploads.setdefault(upload.message_id, []).append(upload)
        posts = self._posts()
        for i, post in enumerate(posts):
            items.append(_Item("post", post=post))
            last_part = i + 1 == len(posts) or posts[i + 1].message_id != post.message_id
            if last_part:
                items.extend(_Item("upload", upload=u) for u in uploads.pop(post.message_id, []))
        items.extend(_Item("retract", retraction=r)
                     for r in self.imp.retractions_by_channel.get(self.cp.teams_channel_id, []))
        if self.cp.invite:
            items.append(_Item("invite"))
        if self.cp.archive_after:
            items.append(_Item("archive"))
        return items

    # ------------------------------------------------------------------ lane protocol

    def _state(self, item: _Item) -> str | None:
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

    def _key(self, kind: str) -> str:
        return f"{kind}:{self.cp.teams_channel_id}"

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
        except _Halt as exc:
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

    def _archived_change(self, item: _Item) -> None:
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
            raise _Halt(f"{kind} failed: {reason}")

    def _still_in_doubt(self, key: str, kind: str, reason: str, *, halt: bool = True) -> None:
        """The look-up itself failed: the item stays in doubt (never `failed`, which the next
        run would simply redo) so it is looked up again before anything is re-sent."""
        ledger.in_doubt(self.imp.store, key, reason)
        self.imp.count(kind, "failed", reason)
        self.trouble = True
        if halt:
            raise _Halt(f"{kind} in doubt: {reason}")

    def _skip(self, key: str, kind: str, reason: str) -> None:
        ledger.skipped(self.imp.store, key, kind, reason, run_id=self.imp.run_id)
        self.imp.count(kind, "skipped", reason)

    # ------------------------------------------------------------------ channel

    def _do_channel(self, item: _Item) -> None:
        key = self._key("channel")
        store, imp, cp = self.imp.store, self.imp, self.cp
        if cp.action == "reuse" and cp.slack_channel_id:
            if cp.reason and cp.reason.startswith("merged") and not cp.is_private:
                try:  # the bot posts only where it is a member (no chat:write.public needed)
                    self._call("conversations.join", lambda: imp.client.join(cp.slack_channel_id))
                except (SlackRefused, SlackUnavailable) as exc:
                    self._fail(key, "channel", f"cannot join #{cp.slack_name}: {exc.code}")
            ledger.done(store, key, kind="channel", teams_id=cp.teams_channel_id,
                        slack_channel=cp.slack_channel_id, reason=f"reused #{cp.slack_name}",
                        run_id=imp.run_id)
            self.slack_id = cp.slack_channel_id
            imp.count("channel", "reused")
            return
        row = ledger.get(store, key)
        name = cp.slack_name or ""
        if row is not None and row["state"] in ("in_doubt", "intent"):
            adopted = self._adopt(name)
            if adopted:
                return
        for _attempt in range(1, 50):
            def create(n: str = name) -> Any:
                ledger.intent(store, key, "channel", teams_id=cp.teams_channel_id, run_id=imp.run_id)
                return imp.client.create_channel(n, cp.is_private)

            try:
                channel = self._call("conversations.create", create)
            except SlackOutcomeUnknown as exc:
                ledger.in_doubt(store, key, f"no answer to conversations.create ({exc.code})")
                if self._adopt(name):
                    return
                continue
            except SlackUnavailable as exc:
                self._fail(key, "channel", f"Slack unavailable ({exc.code})")
            except SlackRefused as exc:
                if exc.code != "name_taken":
                    self._fail(key, "channel", f"Slack refused #{name}: {exc.code}")
                # Someone took the name since the plan (DESIGN §4.4 race): next free suffix.
                name = self._next_name(cp.slack_name or name)
                continue
            imp.claim_name(channel["name"])
            remember_channel(store, channel)
            reason = f"created #{channel['name']}"
            if channel["name"] != cp.slack_name:
                reason += f" (#{cp.slack_name} was taken when the run reached it)"
            ledger.done(store, key, slack_channel=channel["id"], reason=reason)
            self.slack_id = channel["id"]
            imp.count("channel", "created")
            return
        self._fail(key, "channel", f"no free name for #{cp.slack_name}")

    def _next_name(self, base: str) -> str:
        self.imp.workspace_channel(base, refresh=True)
        for k in range(2, 1000):
            suffix = f"-{k}"
            candidate = base[:MAX_NAME - len(suffix)].rstrip("-") + suffix
            if self.imp.claim_name(candidate):
                return candidate
        return base

    def _adopt(self, name: str) -> bool:
        """An earlier create may have landed: a channel of this name made by our bot is ours."""
        try:
            found = self.imp.workspace_channel(name, refresh=True)
            bot = self.imp.bot_user()
        except SlackUnavailable as exc:
            self._still_in_doubt(self._key("channel"), "channel", f"cannot check #{name} ({exc.code})")
        if found and bot and found.get("creator") == bot:
            ledger.done(self.imp.store, self._key("channel"), slack_channel=found["id"],
                        reason=f"created #{name} (found after an unanswered create)")
            self.slack_id = found["id"]
            self.imp.count("channel", "found")
            return True
        return False

    def _do_rename(self, item: _Item) -> None:
        """The Teams channel (or its team) was renamed since an earlier run created it, and
        MIGRATE_RENAMED_CHANNELS=rename: the Slack channel follows (next free suffix if taken)."""
        key, wanted = self._key("rename"), self.cp.rename_to or ""
        name = wanted
        for _attempt in range(50):
            try:
                channel = self._call("conversations.rename", lambda n=name: self.imp.client.rename_channel(
                    self.slack_id, n))
            except SlackRefused as exc:
                if exc.code == "name_taken":
                    name = self._next_name(wanted)
                    continue
                self._skip(key, "rename", f"Slack refused to rename #{self.cp.slack_name}: {exc.code}")
                return
            except SlackUnavailable as exc:
                self._fail(key, "rename", f"Slack unavailable ({exc.code})", halt=False)
                return
            remember_channel(self.imp.store, channel)
            ledger.done(self.imp.store, key, kind="rename", slack_channel=self.slack_id,
                        teams_id=self.cp.teams_channel_id,
                        reason=f"renamed #{self.cp.slack_name} to #{channel['name']}")
            self.label = channel["name"]
            self.imp.count("channel", "renamed")
            return
        self._skip(key, "rename", f"no free name for #{wanted}")

    # ------------------------------------------------------------------ purpose, topic

    def _set_text(self, kind: str, value: str, fn: Callable[[], Any], method: str) -> None:
        key = self._key(kind)
        try:
            self._call(method, fn)
        except SlackRefused as exc:
            self._skip(key, kind, f"Slack refused the {kind}: {exc.code}")
            return
        except SlackUnavailable as exc:
            self._fail(key, kind, f"Slack unavailable ({exc.code})", halt=False)
            return
        ledger.done(self.imp.store, key, kind=kind, teams_id=self.cp.teams_channel_id,
                    slack_channel=self.slack_id, run_id=self.imp.run_id)
        self.imp.count(kind, "set")

    def _do_purpose(self, item: _Item) -> None:
        value = self.cp.purpose or ""
        self._set_text("purpose", value, lambda: self.imp.client.set_purpose(self.slack_id, value),
                       "conversations.setPurpose")

    def _do_topic(self, item: _Item) -> None:
        value = self.cp.topic or ""
        self._set_text("topic", value, lambda: self.imp.client.set_topic(self.slack_id, value),
                       "conversations.setTopic")

    # ------------------------------------------------------------------ posts

    def _thread_of(self, post: Post) -> str | None:
        """The ts of the thread a reply goes into; raises _Refused when its root was refused
        for good (the reply is skipped too), and halts the lane when the root is not in yet."""
        if post.root_id is None:
            return None
        ts = self.thread_ts.get(post.root_id)
        if ts is None:
            root = ledger.get(self.imp.store, f"post:{post.channel}:{post.root_id}:0")
            if root is not None and root["state"] == "skipped":
                self._skip(post.key, "post", "its thread root was refused by Slack")
                raise _Refused
            self._fail(post.key, "post", "its thread root is not in Slack yet")
        return ts

    def _find_post(self, post: Post, thread_ts: str | None, since_iso: str | None) -> str | None:
        """The ts of this post if it is already in Slack (read back by its metadata)."""
        oldest = f"{max(0.0, _epoch(since_iso) - LOOKBACK_S):.6f}"
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
                payload = _payload(message)
                if (payload.get("teams_message_id") == post.message_id
                        and payload.get("teams_channel_id") == post.channel
                        and int(payload.get("part", 0)) == post.part):
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
            raise _Halt(f"cannot check an unanswered post ({exc.code})") from None
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

    def _do_post(self, item: _Item) -> None:
        post = item.post
        assert post is not None
        store, client = self.imp.store, self.imp.client
        row = self.rows.get(post.key)
        if row is not None and row["state"] == "done":
            self._update(post, row)
            return
        try:
            thread_ts = self._thread_of(post)
        except _Refused:
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

    def _do_retract(self, item: _Item) -> None:
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
        oldest = f"{max(0.0, _epoch(since_iso) - LOOKBACK_S):.6f}"
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

    def _do_upload(self, item: _Item) -> None:
        upload = item.upload
        assert upload is not None
        store, client, key = self.imp.store, self.imp.client, upload.key
        thread_ts = self.thread_ts.get(upload.thread_of)
        if thread_ts is None:
            root = ledger.get(store, f"post:{upload.channel}:{upload.thread_of}:0")
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
            self._uploaded(upload, file_id, _share_ts(answer, self.slack_id), "uploaded")
            return
        self._fail(key, "file", f"no answer from Slack after {TRIES} tries", halt=False)

    def _uploaded(self, upload: Upload, file_id: str, ts: str | None, outcome: str) -> None:
        ledger.done(self.imp.store, upload.key, kind="file", slack_channel=self.slack_id,
                    slack_ts=ts, slack_file=file_id, teams_id=upload.message_id)
        self.imp.count("file", outcome)

    # ------------------------------------------------------------------ invites, archive

    def _do_invite(self, item: _Item) -> None:
        """Mapped members in batches of ≤ 100 with `force` (valid ones invited, the others
        listed in `errors`). A refused call invites nobody (all or nothing, reference §4.3):
        the users it names are settled, the rest go again — one by one when Slack names no
        one — so nobody is recorded as a member who was not invited."""
        store = self.imp.store
        prefix = f"member:{self.cp.teams_channel_id}:"
        settled = {k.removeprefix(prefix) for k, row in ledger.with_prefix(store, prefix).items()
                   if row["state"] in ("done", "skipped")}
        wanted = [u for u in self.cp.invite if u not in settled]
        queue = [wanted[i:i + INVITE_BATCH] for i in range(0, len(wanted), INVITE_BATCH)]
        while queue:
            batch = queue.pop(0)
            try:
                answer = self._call("conversations.invite",
                                    lambda b=batch: self.imp.client.invite(self.slack_id, b))
            except SlackRefused as exc:
                if exc.code in CHANNEL_CODES:  # about the channel, not the people: retry later
                    for user in [u for b in [batch, *queue] for u in b]:
                        self._fail(prefix + user, "member", f"Slack refused the invite: {exc.code}",
                                   halt=False)
                    return
                named = {e.get("user"): e.get("error") or exc.code for e in exc.data.get("errors") or []
                         if e.get("user") in batch}
                if not named and len(batch) == 1:
                    named = {batch[0]: exc.code}
                rest = [u for u in batch if u not in named]
                if named:
                    self._settle_members(prefix, named, [])
                    if rest:
                        queue.insert(0, rest)
                else:
                    queue[:0] = [[u] for u in rest]      # Slack named no one: try each alone
                continue
            except SlackUnavailable as exc:
                for user in batch:
                    self._fail(prefix + user, "member", f"Slack unavailable ({exc.code})", halt=False)
                continue
            refused = {e.get("user"): e.get("error") or "refused" for e in answer.get("errors") or []}
            self._settle_members(prefix, refused, [u for u in batch if u not in refused])

    def _settle_members(self, prefix: str, refused: dict[str, str], invited: list[str]) -> None:
        store = self.imp.store
        with store.transaction():
            for user in invited:
                ledger.done(store, prefix + user, kind="member", slack_channel=self.slack_id,
                            teams_id=self.cp.teams_channel_id)
                self.imp.count("member", "invited")
            for user, code in refused.items():
                if code == "already_in_channel":
                    ledger.done(store, prefix + user, kind="member", slack_channel=self.slack_id,
                                teams_id=self.cp.teams_channel_id)
                    self.imp.count("member", "already")
                elif code in GUEST_CODES:
                    self._skip(prefix + user, "member", f"guest account ({code}): an admin "
                               "must add guests to channels")
                else:
                    self._skip(prefix + user, "member", f"Slack refused the invite: {code}")

    def _do_archive(self, item: _Item) -> None:
        key = self._key("archive")
        if self.trouble:
            raise _Halt("not archived yet: some of its items failed (the next run retries)")
        self._verify_before_archive()
        try:
            self._call("conversations.archive", lambda: self.imp.client.archive(self.slack_id))
        except SlackRefused as exc:
            if exc.code != "already_archived":
                self._fail(key, "archive", f"Slack refused to archive: {exc.code}", halt=False)
                return
        except SlackUnavailable as exc:
            self._fail(key, "archive", f"Slack unavailable ({exc.code})", halt=False)
            return
        ledger.done(self.imp.store, key, kind="archive", slack_channel=self.slack_id,
                    teams_id=self.cp.teams_channel_id)
        self.imp.count("channel", "archived")


    def _verify_before_archive(self) -> None:
        """Archiving removes the bot, so `migrate verify` could never read this channel back:
        check it now (same comparison) and keep the verdict in the ledger."""
        from migrate.verify import Verifier

        verifier = Verifier(self.imp.store, self.imp.client, self.imp.scheduler)
        try:
            check = verifier.check_channel(self.cp, self.slack_id, self._posts(),
                                           self.imp.uploads_by_channel.get(self.cp.teams_channel_id, []))
        except (SlackRefused, SlackUnavailable) as exc:
            raise _Halt(f"not archived yet: cannot verify it first ({exc.code})") from None
        if check.problems or check.unverifiable:
            self.trouble = True
            raise _Halt(f"not archived: verification found {check.problems} problems "
                        f"({check.unverifiable or 'see migrate verify'})")
        ledger.done(self.imp.store, self._key("verified"), kind="verified",
                    slack_channel=self.slack_id, teams_id=self.cp.teams_channel_id,
                    reason=f"verified before archiving: {check.found} of {check.expected} posts")


def _share_ts(answer: dict, channel: str | None) -> str | None:
    """The ts of the share message when Slack already reports it (it may not: §6.5)."""
    for f in answer.get("files") or []:
        for kind in ("public", "private"):
            shares = ((f.get("shares") or {}).get(kind) or {}).get(channel or "") or []
            if shares:
                return shares[-1].get("ts")
    return None

