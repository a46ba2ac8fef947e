"""Plan → Slack: executes a Plan through the scheduler, exactly once (an intent recorded before
every call, the ts after; a call whose answer never came is looked up before it is made again).

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from migrate.load.client import SlackClient
from migrate.load.feed import LaneFeed
from migrate.load.lane import ChannelLane
from migrate.load.paging import SlackCursor
from migrate.load.scheduler import Scheduler, SchedulerStats
from migrate.plan.build import ChannelPlan, Plan
from migrate.store import Store


class ImportProgress(Protocol):
    def watch(self, stats: SchedulerStats) -> None: ...      # the scheduler's live figures
    def lanes(self, totals: dict[str, int], done: dict[str, int]) -> None: ...
    def add_lane(self, name: str, total: int, done: int) -> None: ...
    def advance(self, channel: str, n: int = 1) -> None: ...


class _NoProgress:
    def watch(self, stats: SchedulerStats) -> None:
        pass

    def add_lane(self, name: str, total: int, done: int) -> None:
        pass

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
        self.progress.watch(scheduler.stats)
        self.result = ImportResult()
        self._lock = threading.Lock()
        self._taken_names = set(known_channel_names or ())
        self._bot_user: str | None = None
        self._workspace_channels: dict[str, dict] | None = None
        self.posted_in: Counter = Counter()      # Slack channel → posts made by this run
        self.deleted_messages = deleted_messages
        self._lanes: list[ChannelLane] = []
        self._feed: LaneFeed | None = None

    # ------------------------------------------------------------------ bookkeeping
    # What the lanes share (lane_common.Run): counters, the halted lanes, the names taken.

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

    def note_posted(self, slack_channel: str | None) -> None:
        """A lane made one post in this Slack channel (the per-channel figures of the run)."""
        with self._lock:
            self.posted_in[slack_channel] += 1

    def note_halted(self, label: str, why: str) -> None:
        with self._lock:
            self.result.halted[label] = why

    def posts_per_channel(self) -> dict[str, int]:
        with self._lock:
            return dict(self.posted_in)

    def open_feed(self) -> None:
        """Channels will also arrive while `run` runs (`add_channel`, then `close_feed`): a
        channel posts as soon as it is planned, while others are still being exported."""
        self._feed = LaneFeed()

    def add_channel(self, cp: ChannelPlan) -> None:
        """One more planned channel for the running import (open_feed first)."""
        assert self._feed is not None, "open_feed() first"
        if cp.action == "skip":
            return
        lane = ChannelLane(self, cp)
        with self._lock:
            self._lanes.append(lane)
        self.progress.add_lane(lane.label, lane.total, lane.total - lane.remaining())
        self._feed.add(lane)

    def close_feed(self) -> None:
        """No more channels: `run` returns once the ones it has are done."""
        if self._feed is not None:
            self._feed.close()

    def run(self, *, workers: int = 8) -> ImportResult:
        started = time.monotonic()
        lanes = [ChannelLane(self, c) for c in self.plan.channels if c.action != "skip"]
        with self._lock:
            self._lanes.extend(lanes)
        # Items earlier runs finished count as done from the start (a sync shows its delta).
        self.progress.lanes({lane.label: lane.total for lane in lanes},
                            {lane.label: lane.total - lane.remaining() for lane in lanes})
        try:
            finished = self.scheduler.run(lanes, workers=workers, feed=self._feed)
        finally:
            self.result.seconds = time.monotonic() - started
        self.result.finished = finished and not self.result.halted
        with self._lock:
            self.result.not_attempted = sum(lane.left() for lane in self._lanes)
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
            found = {channel["name"]: channel for channel in SlackCursor(
                self.scheduler, "conversations.list", self.client.list_channels).items("channels")}
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


