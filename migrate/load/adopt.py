"""`migrate adopt`: rebuild a lost ledger from what Slack holds, so the next run carries on
instead of migrating everything a second time.

Our work is recognisable in Slack: channels the app's bot created (`creator`), and every post
carries the Teams ids in its message metadata (event_type teams_message). For each such channel (and each
channel the plan reuses), the history and threads are read back; the Teams channel is the one
its posts name (or, for a channel with no post yet, the planned channel of that name); each
post found becomes a `done` ledger row with its ts, each file found in its thread by name a
`done` upload. Archived channels cannot be read (Slack removes the bot): they are adopted by
name with their posts marked done unread, since nothing can be posted into them anyway.
A purpose or topic Slack already shows as planned, and every planned member already in the
channel, are recorded done too: a sync right after adopt writes nothing to Slack when Teams has
not changed (a purpose set again would add a "set the channel description" line).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from migrate.load.client import SlackClient, SlackRefused
from migrate.load.directory import SlackDirectory
from migrate.load.paging import SlackCursor
from migrate.load.readback import channel_messages, ts_order
from migrate.load.scheduler import Scheduler
from migrate.load.state_check import our_post_key
from migrate.plan.build import ChannelPlan, Plan
from migrate.store import Store, ledger
from migrate.store.keys import ChannelStepKey, MemberKey, PostKey

ADOPTED = "adopted from Slack by `migrate adopt`"


@dataclass
class AdoptSummary:
    channels: int = 0
    archived_channels: int = 0
    posts: int = 0
    files: int = 0
    duplicates: int = 0               # posts found more than once (the earliest is kept)
    unmatched_channels: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"channels": self.channels, "archived_channels": self.archived_channels,
                "posts": self.posts, "files": self.files, "duplicates": self.duplicates,
                "unmatched_channels": self.unmatched_channels}


@dataclass
class _Found:
    ts: str
    text: str


# Thread ts → the files shared in that thread: (file id, name, ts of the message carrying it).
ThreadFiles = dict[str, list[tuple[str, str, str]]]


class Adopter:
    def __init__(self, store: Store, plan: Plan, client: SlackClient, scheduler: Scheduler,
                 directory: SlackDirectory, bot_user: str | None) -> None:
        self.store = store
        self.plan = plan
        self.client = client
        self.scheduler = scheduler
        self.directory = directory
        self.bot_user = bot_user
        self.summary = AdoptSummary()
        self.by_name: dict[str, ChannelPlan] = {}
        for cp in plan.channels:
            if cp.slack_name and cp.action != "skip":
                self.by_name.setdefault(cp.slack_name, cp)
        self.channel_plans = {cp.teams_channel_id: cp for cp in plan.channels}
        self.by_base: dict[str, list[ChannelPlan]] = defaultdict(list)
        for cp in self.by_name.values():
            self.by_base[_base(cp.slack_name or "")].append(cp)

    def _messages(self, channel: str) -> tuple[dict[PostKey, list[_Found]], ThreadFiles]:
        """Our posts in a channel — the key each names (Teams channel, message, part) → where
        they are — and the files in each thread."""
        ours: dict[PostKey, list[_Found]] = defaultdict(list)
        thread_files: ThreadFiles = defaultdict(list)
        for message, thread in channel_messages(self.client, self.scheduler, channel):
            key = our_post_key(message)
            if key:
                ours[key].append(_Found(message["ts"], message.get("text") or ""))
            for f in message.get("files") or []:
                thread_files[thread or message["ts"]].append(
                    (f.get("id") or "", f.get("name") or "", message["ts"]))
        return ours, thread_files

    def _planned_for(self, name: str) -> ChannelPlan | None:
        """The planned channel a Slack channel of ours of this name stands for. Without a
        ledger the plan sees our own channels as collisions and suffixes its names (-2, -3),
        so names are compared without their suffix; an ambiguous base matches nothing."""
        if name in self.by_name:
            return self.by_name[name]
        matches = self.by_base.get(_base(name), [])
        return matches[0] if len(matches) == 1 else None

    def candidates(self, reuse: bool = True) -> list[dict]:
        out = [raw for _, raw in sorted(self.directory.raw_channels.items())
               if self.bot_user and raw.get("creator") == self.bot_user]
        if reuse:
            ids = {raw.get("id") for raw in out}
            for cp in self.plan.channels:
                if cp.action == "reuse" and cp.slack_channel_id and cp.slack_channel_id not in ids:
                    raw = self.directory.raw_channels.get(cp.slack_channel_id)
                    if raw is not None:
                        out.append(raw)
        return out

    def run(self) -> AdoptSummary:
        for raw in self.candidates():
            self.adopt_channel(raw)
        return self.summary

    def adopt_channel(self, raw: dict) -> None:
        channel_id, name = raw["id"], raw.get("name") or raw["id"]
        if raw.get("is_archived"):
            cp = self._planned_for(name)
            if cp is None:
                self.summary.unmatched_channels.append(f"#{name}")
                return
            self._record_channel(cp, channel_id, name)
            ledger.done(self.store, ChannelStepKey("archive", cp.teams_channel_id).text,
                        kind="archive", slack_channel=channel_id, reason=ADOPTED)
            for post in self.plan.posts.of(cp.teams_channel_id):
                ledger.done(self.store, post.key, kind="post", teams_id=post.message_id,
                            slack_channel=channel_id,
                            reason=f"{ADOPTED}: in an archived channel, not readable")
            self.summary.archived_channels += 1
            return
        try:
            ours, thread_files = self._messages(channel_id)
        except SlackRefused as exc:   # not_in_channel: a private channel the bot left
            self.summary.unmatched_channels.append(f"#{name} ({exc.code})")
            return
        named = Counter(key.channel for key in ours if key.channel)
        cp = self.channel_plans.get(named.most_common(1)[0][0]) if named else None
        cp = cp or self._planned_for(name)
        if cp is None:
            self.summary.unmatched_channels.append(f"#{name}")
            return
        self._record_channel(cp, channel_id, name)
        self._adopt_setup(cp, raw, channel_id)
        for key, found in sorted(ours.items()):
            if key.channel and key.channel != cp.teams_channel_id:
                continue
            first = min(found, key=lambda f: ts_order(f.ts))
            self.summary.duplicates += len(found) - 1
            ledger.done(self.store, PostKey(cp.teams_channel_id, key.message, key.part).text,
                        kind="post", teams_id=key.message, slack_channel=channel_id,
                        slack_ts=first.ts, content_hash=ledger.text_hash(first.text),
                        reason=ADOPTED)
            self.summary.posts += 1
        self._adopt_files(cp, channel_id, ours, thread_files)

    def _adopt_setup(self, cp: ChannelPlan, raw: dict, channel_id: str) -> None:
        """The purpose and topic Slack already shows as planned, and the planned members
        already in the channel: done."""
        for step, wanted in (("purpose", cp.purpose), ("topic", cp.topic)):
            if wanted and (raw.get(step) or {}).get("value") == wanted:
                ledger.done(self.store, ChannelStepKey(step, cp.teams_channel_id).text,
                            kind=step, slack_channel=channel_id, reason=ADOPTED)
        if not cp.invite:
            return
        present = set(SlackCursor(self.scheduler, "conversations.members",
                                  lambda c: self.client.members(channel_id, cursor=c)
                                  ).items("members"))
        for user in cp.invite:
            if user in present:
                ledger.done(self.store, MemberKey(cp.teams_channel_id, user).text,
                            kind="member", slack_channel=channel_id,
                            teams_id=cp.teams_channel_id, reason=ADOPTED)

    def _record_channel(self, cp: ChannelPlan, channel_id: str, name: str) -> None:
        ledger.done(self.store, ChannelStepKey("channel", cp.teams_channel_id).text,
                    kind="channel", teams_id=cp.teams_channel_id, slack_channel=channel_id,
                    reason=f"{ADOPTED}: #{name}")
        self.summary.channels += 1

    def _adopt_files(self, cp: ChannelPlan, channel_id: str,
                     ours: dict[PostKey, list[_Found]], thread_files: ThreadFiles) -> None:
        """An upload is in its thread under its name: the thread of the message it belongs to."""
        root_ts = {key.message: min(found, key=lambda f: ts_order(f.ts)).ts
                   for key, found in ours.items() if key.part == 0}
        for upload in self.plan.uploads.of(cp.teams_channel_id):
            thread = root_ts.get(upload.thread_of)
            match = next(((fid, ts) for fid, fname, ts in thread_files.get(thread or "", [])
                          if fname == upload.name), None)
            if thread and match:
                ledger.done(self.store, upload.key, kind="file", slack_channel=channel_id,
                            slack_ts=match[1], slack_file=match[0], teams_id=upload.message_id,
                            reason=ADOPTED)
                self.summary.files += 1


def _base(name: str) -> str:
    base, _, suffix = name.rpartition("-")
    return base if base and suffix.isdigit() else name
