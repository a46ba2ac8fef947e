"""`migrate verify`: the source against what Slack has.

Source: the inventory of every team and channel in scope (read from Graph now when Graph
credentials are set, else from the store — migrate/export/inventory.py). A team or channel of
the source that the plan does not cover, or a planned channel that is not in Slack, is a gap:
checking only what the plan contains would pass a team the export missed.
Expected content: the Plan built from the store and the Slack directory cached by the last
plan/run. Found: every migrated channel's history and threads read back with
`include_all_metadata`, our posts recognised by the Teams ids in their metadata (event_type teams_message).
Per channel it lists posts that are

- **missing** (planned, not in Slack),
- **duplicated** (in Slack more than once),
- **misplaced** (a root inside a thread, or a reply outside its root's thread),
- **out of order** (Slack's order of roots, or of replies within a thread, differs from Teams'),
- **outsiders** (a chat carried as a private channel: Slack members who are not the chat's
  mapped members — its content must reach no one else),

and uploads whose file is not in its thread. Channels archived after import cannot be read
back (archiving removes the bot: https://docs.slack.dev/reference/methods/conversations.archive), so the importer verifies each one the same
way just before archiving it and records the result; verify reports that.

A Slack that cannot be reached is not a verdict: `SlackUnreachable` stops verify at once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from migrate.export.inventory import SourceInventory
from migrate.load.client import SlackClient, SlackRefused, SlackUnavailable
from migrate.load.paging import SlackCursor
from migrate.load.readback import channel_messages, ts_order
from migrate.load.scheduler import Scheduler
from migrate.plan.build import ChannelPlan, Plan, Post
from migrate.store import Store, ledger
from migrate.store.keys import ChannelStepKey, FileKey

SAMPLES = 20  # ids listed per problem and channel


@dataclass
class ChannelCheck:
    name: str
    slack_channel: str | None
    expected: int = 0
    found: int = 0
    missing: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    misplaced: list[str] = field(default_factory=list)
    out_of_order: list[str] = field(default_factory=list)
    missing_files: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)      # ours in Slack, no longer planned
    outsiders: list[str] = field(default_factory=list)  # in a chat's channel, not its member
    unverifiable: str | None = None
    gap: str | None = None          # the channel itself is not where it should be, and why
    note: str | None = None

    @property
    def problems(self) -> int:
        return (len(self.missing) + len(self.duplicated) + len(self.misplaced)
                + len(self.out_of_order) + len(self.missing_files) + len(self.outsiders)
                + (1 if self.gap else 0) + (1 if self.unverifiable else 0))

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"channel": self.name, "slack_channel": self.slack_channel,
                               "expected": self.expected, "found": self.found}
        for name in ("missing", "duplicated", "misplaced", "out_of_order", "missing_files", "extra",
                     "outsiders"):
            values = getattr(self, name)
            out[name] = len(values)
            if values:
                out[f"{name}_sample"] = values[:SAMPLES]
        if self.unverifiable:
            out["unverifiable"] = self.unverifiable
        if self.gap:
            out["gap"] = self.gap
        if self.note:
            out["note"] = self.note
        return out


@dataclass
class VerifyReport:
    channels: list[ChannelCheck] = field(default_factory=list)
    source: str = "plan"                 # where the inventory came from: graph or store
    source_teams: int = 0
    source_channels: int = 0
    skipped: list[str] = field(default_factory=list)      # channels the plan skips, with why
    handover: Any = None          # bundle/handover.HandOver when bundles await confirmation

    @property
    def ok(self) -> bool:
        awaiting = bool(self.handover and self.handover.awaiting)   # carried, not in Slack yet
        return not awaiting and all(c.problems == 0 for c in self.channels)

    def totals(self) -> dict[str, int]:
        keys = ("expected", "found")
        out = {k: sum(getattr(c, k) for c in self.channels) for k in keys}
        for name in ("missing", "duplicated", "misplaced", "out_of_order", "missing_files", "extra",
                     "outsiders"):
            out[name] = sum(len(getattr(c, name)) for c in self.channels)
        out["unverifiable_channels"] = sum(1 for c in self.channels if c.unverifiable)
        out["channel_gaps"] = sum(1 for c in self.channels if c.gap)
        out["channels"] = len(self.channels)
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "totals": self.totals(),
                "bundles": self.handover.as_dict() if self.handover else None,
                "source": {"from": self.source, "teams": self.source_teams,
                           "channels": self.source_channels, "skipped": self.skipped},
                "channels": [c.as_dict() for c in self.channels]}


@dataclass
class _Seen:
    ts: str
    thread_ts: str | None      # the thread it sits in (None at the top level)
    files: tuple[str, ...] = ()


def _label(post: Post) -> str:
    return f"{post.message_id}" + (f" part {post.part}" if post.part else "")


class Verifier:
    def __init__(self, store: Store, client: SlackClient, scheduler: Scheduler, *,
                 bot: str | None = None) -> None:
        self.store = store
        self.client = client
        self.scheduler = scheduler
        self.bot = bot              # the app's own user, a member of every channel it made

    def _channel_messages(self, channel: str, imported: dict[str, tuple[str, int]] | None = None
                          ) -> tuple[dict[tuple[str, int], list[_Seen]], dict[str, tuple[str, ...]]]:
        """(Teams message id, part) → where our posts are; ts → file ids of every message.
        `imported`: ts → (Teams message id, part) of posts Slack's importer brought in (they
        carry no metadata: they are known by the ts the bundle gave them)."""
        ours: dict[tuple[str, int], list[_Seen]] = defaultdict(list)
        files: dict[str, tuple[str, ...]] = {}
        imported = imported or {}

        def take(message: dict, thread: str | None) -> None:
            ids = tuple(f.get("id") for f in message.get("files") or [] if f.get("id"))
            if ids:
                files[message["ts"]] = ids
            if message["ts"] in imported:
                ours[imported[message["ts"]]].append(_Seen(message["ts"], thread, ids))
                return
            payload = ((message.get("metadata") or {}).get("event_payload")) or {}
            if (message.get("metadata") or {}).get("event_type") == "teams_message" and \
                    payload.get("teams_message_id"):
                ours[(str(payload["teams_message_id"]), int(payload.get("part", 0)))].append(
                    _Seen(message["ts"], thread, ids))

        for message, thread in channel_messages(self.client, self.scheduler, channel):
            take(message, thread)
        return ours, files

    def check(self, plan: Plan, source: SourceInventory | None = None) -> VerifyReport:
        report = VerifyReport()
        created = ledger.channel_map(self.store)
        if source is not None:
            self._source_gaps(report, plan, source)
        for cp in plan.channels:
            if cp.action == "skip":
                report.skipped.append(f"{cp.team_name} › {cp.channel_name}: {cp.reason or 'skipped'}")
                continue
            slack_id = created.get(cp.teams_channel_id) or cp.slack_channel_id
            posts = plan.posts.of(cp.teams_channel_id)   # one channel's at a time
            try:
                check = self.check_channel(cp, slack_id, posts,
                                           plan.uploads.of(cp.teams_channel_id))
            except SlackUnavailable as exc:
                # Slack gone altogether is no verdict on this channel: that stops verify with
                # one line (ServiceUnreachable); otherwise this channel is unverified.
                self.client.ensure_reachable()
                check = ChannelCheck(f"#{cp.slack_name or cp.channel_name}", slack_id,
                                     expected=len(posts))
                check.unverifiable = f"Slack kept failing on this channel ({exc.code})"
            report.channels.append(check)
        return report

    @staticmethod
    def _source_gaps(report: VerifyReport, plan: Plan, source: SourceInventory) -> None:
        """Teams and channels of the source that the plan does not cover at all."""
        report.source = source.origin
        report.source_teams = len(source.teams)
        report.source_channels = len(source.channels)
        planned = {cp.teams_channel_id for cp in plan.channels}
        for team_id, why in sorted(source.unreadable.items(), key=lambda kv: source.teams[kv[0]]):
            check = ChannelCheck(f"{source.teams[team_id]} (whole team)", None)
            check.gap = f"team not migrated: {why}"
            report.channels.append(check)
        for channel in source.channels:
            if channel.channel_id in planned:
                continue
            check = ChannelCheck(f"{channel.team_name} › {channel.name}", None)
            check.gap = ("in Teams but not in the plan: the export has not read it "
                         "(run `migrate export`, then `migrate run`)")
            report.channels.append(check)

    def check_channel(self, cp: ChannelPlan, slack_id: str | None, posts: list[Post],
                      uploads: list) -> ChannelCheck:
        """One channel: its planned posts and files against what Slack holds."""
        check = ChannelCheck(f"#{cp.slack_name or cp.channel_name}", slack_id)
        check.expected = len(posts)
        if slack_id is None:
            check.gap = "planned, but not in Slack (run `migrate run`)"
            check.missing = [_label(p) for p in posts]
            return check
        try:
            ours, files = self._channel_messages(
                slack_id, ledger.imported_posts(self.store, cp.teams_channel_id))
        except SlackRefused as exc:
            before = ledger.get(self.store, ChannelStepKey("verified", cp.teams_channel_id).text)
            if exc.code in ("not_in_channel", "channel_not_found") and cp.archive_after:
                if before is not None and before["state"] == "done":
                    # The importer verified it just before archiving (the bot is gone now).
                    check.found = check.expected
                    check.unverifiable = None
                    check.note = f"{before['reason']} ({before['updated_at']})"
                    return check
                # Not a gap we can see: Slack archived it and removed the bot (outside a run
                # of ours, which would have recorded its verdict first).
                check.note = ("archived in Slack, which removes the bot: it cannot be read back "
                              "and no verdict was recorded before archiving")
                return check
            check.unverifiable = f"cannot read it back: {exc.code}"
            return check

        self._compare(check, posts, ours)
        self._files(check, cp.teams_channel_id, uploads, files)
        if cp.is_chat:
            self._chat_members(check, cp, slack_id)
        return check

    def _chat_members(self, check: ChannelCheck, cp: ChannelPlan, slack_id: str) -> None:
        """A chat's content goes only where exactly its members can read it: anyone else in
        its channel (added by hand in Slack, or a member who has since left the chat) is a
        privacy problem to fix, reported by Slack user id."""
        allowed = set(cp.invite) | {self.bot}
        members = SlackCursor(self.scheduler, "conversations.members",
                              lambda cursor: self.client.members(slack_id, cursor), slack_id)
        check.outsiders = sorted(m for m in members.items("members") if m not in allowed)

    @staticmethod
    def _compare(check: ChannelCheck, posts: list[Post],
                 ours: dict[tuple[str, int], list[_Seen]]) -> None:
        planned = {(p.message_id, p.part) for p in posts}
        check.extra = [f"{m} part {n}" if n else m for (m, n) in ours if (m, n) not in planned]
        root_ts: dict[str, str] = {}
        for post in posts:
            seen = ours.get((post.message_id, post.part), [])
            if post.root_id is None and seen:
                root_ts[post.message_id] = seen[0].ts
        last_root = (0, 0)
        last_in_thread: dict[str, tuple[int, int]] = {}
        for post in posts:
            seen = ours.get((post.message_id, post.part), [])
            if not seen:
                check.missing.append(_label(post))
                continue
            check.found += 1
            if len(seen) > 1:
                check.duplicated.append(_label(post))
            where = seen[0]
            if post.root_id is None:
                if where.thread_ts is not None:
                    check.misplaced.append(_label(post))
                if ts_order(where.ts) < last_root:
                    check.out_of_order.append(_label(post))
                last_root = max(last_root, ts_order(where.ts))
                continue
            expected_thread = root_ts.get(post.root_id)
            if expected_thread is None or where.thread_ts != expected_thread:
                check.misplaced.append(_label(post))
                continue
            previous = last_in_thread.get(expected_thread, (0, 0))
            if ts_order(where.ts) < previous:
                check.out_of_order.append(_label(post))
            last_in_thread[expected_thread] = max(previous, ts_order(where.ts))

    def _files(self, check: ChannelCheck, teams_channel: str, uploads: list,
               files: dict[str, tuple[str, ...]]) -> None:
        if not uploads:
            return
        rows = ledger.with_prefix(self.store, FileKey.prefix(teams_channel))
        present = {fid for ids in files.values() for fid in ids}
        for upload in uploads:
            row = rows.get(upload.key)
            if row is None or row["state"] == "skipped":
                if row is None:
                    check.missing_files.append(upload.name)
                continue
            if not row["slack_file"] or row["slack_file"] not in present:
                check.missing_files.append(upload.name)
