"""The Plan: every action `migrate run` will take and every skip, with its reason.

`build_plan(store, settings, directory)` is pure with respect to the outside world: it reads
the exported Teams data in the store, the mapping files and a read-only look at the Slack
workspace, and returns a `Plan`. `migrate plan` renders it; `migrate run` executes exactly it.
Same inputs → byte-identical `plan.json` (no wall-clock time, everything sorted).
"""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from dataclasses import replace
from typing import Any

from migrate.config import Settings
from migrate.errors import ConfigError
from migrate.export import records
from migrate.load.directory import SlackDirectory
from migrate.load.limits import slack_limits
from migrate.model import SlackUserId, TeamsChannel, TeamsMessage, TeamsTeam
from migrate.plan.chats import KIND_LABEL, ChatLine, plan_chats
from migrate.plan.estimate import estimate_run, run_costs
from migrate.plan.model import (  # the records (plan/model.py): imported from here too
    PLAN_VERSION,
    ChannelPlan,
    Plan,
    Post,
    Retraction,
    Skip,
    Upload,
)
from migrate.plan.people import People, UserLine, plan_people
from migrate.plan.spool import Spool, SpooledItems
from migrate.plan.tally import Tally
from migrate.store import Store, bundles, ledger, teams_chats, teams_files, teams_objects
from migrate.store.keys import FileKey, PostKey
from migrate.transform.channels import load_channel_overrides, plan_channel_names
from migrate.transform.content import RenderContext, load_mappings, render_message
from migrate.transform.overrides import load_user_overrides

__all__ = ["PLAN_VERSION", "ChannelPlan", "Plan", "PlanBuilder", "Post", "Retraction", "Skip",
           "Upload", "UserLine", "build_plan", "metadata_for"]


class _Warnings:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.samples: dict[str, list[str]] = defaultdict(list)

    def add(self, kind: str, detail: str) -> None:
        self.counts[kind] += 1
        if len(self.samples[kind]) < 5:
            self.samples[kind].append(detail)


def _member_ids(store: Store, team: TeamsTeam, channel: TeamsChannel,
                chat_members: dict[str, list]) -> list[str]:
    """Who is in a channel (Teams user ids), read from the store when asked: a standard
    channel's members are its team's; a private or shared channel has its own; a chat carried
    as a channel, its chat's."""
    if channel.id in chat_members:
        return [m.user_id for m in chat_members[channel.id]]
    if channel.is_private:
        return teams_objects.channel_member_user_ids(store, channel.id)
    return teams_objects.team_member_user_ids(store, team.id)


def metadata_for(channel_id: str, message_id: str, part: int) -> dict[str, Any]:
    """The Teams ids ride on every post (event_type teams_message), so a run — or verify, or
    adopt — can find its own posts in Slack."""
    return {"event_type": "teams_message",
            "event_payload": {"teams_message_id": message_id, "teams_channel_id": channel_id,
                              "part": part}}


def build_plan(store: Store, settings: Settings, directory: SlackDirectory, *,
               for_bundle: bool = False) -> Plan:
    """The Plan. `for_bundle`: only the decisions (users, channel names, chats), no posts —
    the bundle writer renders each conversation itself, one at a time — and conversations an
    earlier bundle carried are not held back (a later bundle carries what is new in them).
    The people, and the posts, uploads, skips and retractions, are in the plan's spool: call
    `plan.close()` when done (or let the plan go)."""
    builder = PlanBuilder(store, settings, directory, for_bundle=for_bundle)
    try:
        builder.decide()
        for decision in builder.decisions:
            builder.plan_channel(decision)
        return builder.finish()
    except BaseException:
        builder.plan.close()
        raise


class PlanBuilder:
    """The plan in three steps, so `migrate run` can post a channel while others are still
    being exported: `decide` (people, chats, every channel's name and fate: needs the
    tenant's teams, channels and members), then `plan_channel` for each decision, in any
    order, once its messages are exported (its posts and files into the spool), then `finish`
    (what is left: deletions in channels not planned, the figures, the estimate).
    `build_plan` does the three in a row."""

    def __init__(self, store: Store, settings: Settings, directory: SlackDirectory, *,
                 for_bundle: bool = False) -> None:
        self.store = store
        self.settings = settings
        self.directory = directory
        self.for_bundle = for_bundle
        self.warnings = _Warnings()
        self.plan = Plan(as_of=None)
        self.spool = self.plan.spool = Spool(store.path.parent)
        self.decisions: list = []
        self._planned: dict[str, ChannelPlan] = {}
        self._chats_decided = False

    def decide(self, *, chats: bool = True) -> None:
        """Everything but the items. `chats=False` leaves the chats to `finish` (their
        messages may still be coming in); only when no chat is carried as a channel."""
        store, settings, directory, warnings = self.store, self.settings, self.directory, self.warnings
        opts = settings.plan
        if not chats and opts.chats_to_channels != "none":
            raise ValueError("chats carried as channels are named with the channels")
        plan, spool = self.plan, self.spool
        teams = {t.id: t for t in records.load_teams(store)}
        channels = records.load_channels(store)

        user_overrides = load_user_overrides(opts.user_map) if opts.user_map else []
        self.people, plan.users = plan_people(spool, records.TeamsUsers(store), directory,
                                              user_overrides, guests=opts.guests, warn=warnings.add)
        chat_teams: dict[str, TeamsTeam] = {}
        chat_channels: list[TeamsChannel] = []
        self.chat_members: dict[str, list] = {}
        if chats:
            chat_teams, chat_channels, self.chat_members = self._decide_chats()
        channel_overrides = load_channel_overrides(opts.channel_map) if opts.channel_map else []
        mapped_channels = ledger.channel_map(store)
        self.decisions = plan_channel_names(
            [*teams.values(), *chat_teams.values()], [*channels, *chat_channels],
            directory.channels, channel_overrides, unicode_names=opts.unicode_channel_names,
            mapped=mapped_channels, follow_renames=opts.renamed_channels == "rename")
        for decision in self.decisions:
            if (decision.teams_channel_id in self.chat_members and decision.action == "reuse"
                    and decision.teams_channel_id not in mapped_channels):
                # A chat's content goes only where exactly its members can read it.
                raise ConfigError(f"{opts.channel_map}: chat {decision.teams_channel_id} cannot "
                                  "be merged into an existing Slack channel; rename or skip it "
                                  "instead")
        if chats:
            self._name_chats()
        self.by_channel = {c.id: c for c in [*channels, *chat_channels]}
        self.teams_and_chats = {**teams, **chat_teams}

        reactions, emoji, system_events = load_mappings(
            opts.reactions_file or None, opts.emoji_file or None, opts.system_events_file or None)
        self.ctx = RenderContext(users=self.people.names, timezone=opts.timezone, emoji=emoji,
                                 reactions=reactions, system_events=system_events)
        # Every team has a General channel: a team with none was listed but never read.
        with_channels = {c.team_id for c in channels}
        for team in sorted(teams.values(), key=lambda t: t.display_name.casefold()):
            if team.id not in with_channels:
                warnings.add("team_not_read", f"{team.display_name}: listed by Graph, but its "
                             "channels were never read (see the export warnings); nothing of "
                             "it is planned")
        for team_id, channel_id, count in teams_objects.unlisted_channels(store):
            if team_id in teams:        # (a team out of scope now may have messages stored)
                warnings.add("channel_not_listed", f"{teams[team_id].display_name}: {count} "
                             f"messages of channel {channel_id}, which Graph does not list "
                             "(deleted in Teams?), are not planned")
        self.since = settings.export.since or None
        self.awaiting = {} if self.for_bundle else bundles.unconfirmed(store)
        self.chat_since = max(filter(None, [self.since, settings.export.chats_since or None]),
                              default=None)
        self.sink = _Sink(plan, None if self.for_bundle else spool)
        self.deleted = _deleted_in_teams(store)

    def _decide_chats(self) -> tuple[dict[str, TeamsTeam], list[TeamsChannel], dict[str, list]]:
        self._unnamed: SpooledItems[ChatLine] = SpooledItems(self.spool, ChatLine, "chats_unnamed")
        found = plan_chats(self.store, self.settings, self.people, self._unnamed)
        for chat_id in teams_chats.chats_without_details(self.store):
            self.warnings.add("chat_not_read", f"chat {chat_id}: its messages were exported but "
                              "its members could not be read (see the export warnings); it is "
                              "not planned")
        self._chats_decided = True
        return found

    def _name_chats(self) -> None:
        self.plan.chats = _named_chats(self.spool, self._unnamed, {
            d.teams_channel_id: d.slack_name for d in self.decisions
            if d.teams_channel_id in self.chat_members})

    def team_of(self, decision) -> str:
        """The Teams team (or a chat's stand-in) of a decision's channel."""
        return self.by_channel[decision.teams_channel_id].team_id

    def plan_channel(self, decision) -> ChannelPlan:
        """One channel's plan (its posts, uploads and skips go to the spool)."""
        store, warnings, sink = self.store, self.warnings, self.sink
        channel = self.by_channel[decision.teams_channel_id]
        team = self.teams_and_chats[channel.team_id]
        is_chat = channel.id in self.chat_members
        invite: tuple[SlackUserId, ...] = ()
        posts = uploads = 0
        action, reason = decision.action, decision.reason
        if action != "skip" and channel.id in self.awaiting:
            # Slack's importer creates it: the API must not, nor post what the bundle carries.
            action, reason = "skip", (f"carried by the import bundle as "
                                      f"{self.awaiting[channel.id]['name']}: import it, then "
                                      "`migrate verify` hands it over to the API")
        if action == "skip":
            sink.skip(Skip("channel", channel.id, reason or "skipped"))
        else:
            invite = tuple(sorted({
                slack_id for uid in _member_ids(store, team, channel, self.chat_members)
                if (slack_id := self.people.slack_id(uid))}))
            if not self.for_bundle:
                posts, uploads = _channel_items(
                    store, channel, self.ctx, self.people,
                    self.chat_since if is_chat else self.since, sink, warnings,
                    self.deleted.pop(channel.id, {}))
        if decision.renamed_from and decision.action == "create":
            warnings.add("channel_renamed", f"{decision.renamed_from} → {decision.slack_name}")
        team_name = KIND_LABEL.get(team.display_name, team.display_name) if is_chat \
            else team.display_name
        planned = self._planned[channel.id] = ChannelPlan(
            channel.id, team.id, team_name, channel.display_name, action,
            decision.slack_name, decision.slack_channel_id, decision.is_private,
            decision.renamed_from, reason, decision.archive_after, decision.topic,
            decision.purpose, invite, posts=posts, uploads=uploads,
            rename_to=decision.rename_to)
        return planned

    def finish(self) -> Plan:
        """The rest, once every decision is planned; the plan."""
        store, plan, warnings = self.store, self.plan, self.warnings
        missing = [d.teams_channel_id for d in self.decisions
                   if d.teams_channel_id not in self._planned]
        if missing:
            raise RuntimeError(f"{len(missing)} channels were never planned: {missing[:3]}")
        if not self._chats_decided:
            self._decide_chats()
            self._name_chats()
        plan.channels = [self._planned[d.teams_channel_id] for d in self.decisions]
        for channel_id in sorted(self.deleted):   # channels not planned now: their deletions still go
            self.sink.retract(self.deleted[channel_id])
        self.sink.seal()
        # "As of" the newest change in the data, not the export's clock: same data, same plan.
        plan.as_of = teams_objects.newest_teams_change(store)
        plan.source = teams_objects.inventory(store)
        for kind, count in store.warning_counts("export").items():
            warnings.counts[f"export:{kind}"] += count
        plan.warnings = dict(sorted(warnings.counts.items()))
        plan.warning_samples = {k: v for k, v in sorted(warnings.samples.items())}
        costs = run_costs(plan.source, len(self.directory.users), len(self.directory.channels),
                          chat_readers=teams_objects.count(store, "teams_users")
                          if self.settings.export.chats else 0,
                          graph_scale=self.settings.graph.rate_scale,
                          slack_limits=slack_limits(self.settings.slack))
        plan.estimate = estimate_run(plan, slack_limits(self.settings.slack,
                                                        cap_share=self.settings.cap_share), costs)
        return plan


def _named_chats(spool: Spool, unnamed: SpooledItems[ChatLine],
                 names: dict[str, str | None]) -> SpooledItems[ChatLine]:
    """The chat lines in the order planned, each carried chat with its Slack channel's name."""
    unnamed.flush()
    spool.name_chats(names)
    chats: SpooledItems[ChatLine] = SpooledItems(spool, ChatLine, "chats")
    chats.fill(functools.partial(spool.copy_named_chats, unnamed.table))
    return chats


class _Sink:
    """Where build_plan puts the items: the plan's spool (or its lists, for a bundle's plan,
    which has no posts), counted as they go."""

    def __init__(self, plan: Plan, spool: Spool | None) -> None:
        self.plan = plan
        if spool is not None:
            plan.posts = SpooledItems(spool, Post, "posts")
            plan.uploads = SpooledItems(spool, Upload, "uploads")
            plan.skips = SpooledItems(spool, Skip, "skips")
            plan.retractions = SpooledItems(spool, Retraction, "retractions")
        self.tally = plan.counted = Tally()

    def post(self, post: Post) -> None:
        self.plan.posts.append(post)
        self.tally.add_post(post)

    def upload(self, upload: Upload) -> None:
        self.plan.uploads.append(upload)
        self.tally.add_upload(upload)

    def skip(self, skip: Skip) -> None:
        self.plan.skips.append(skip)
        self.tally.add_skip(skip)

    def retract(self, retractions: dict[str, Retraction]) -> None:
        self.plan.retractions.extend(retractions[k] for k in sorted(retractions))

    def seal(self) -> None:
        for items in (self.plan.posts, self.plan.uploads, self.plan.skips, self.plan.retractions):
            if isinstance(items, SpooledItems):
                items.seal()


def _deleted_in_teams(store: Store) -> dict[str, dict[str, Retraction]]:
    """Posts in Slack whose Teams message is now deleted, by Teams channel and key."""
    out: dict[str, dict[str, Retraction]] = defaultdict(dict)
    for row in ledger.retracted(store):
        channel = PostKey.parse(row["key"]).channel
        out[channel][row["key"]] = Retraction(row["key"], channel, row["teams_id"],
                                              "deleted in Teams")
    return out


def _settle(store: Store, channel: TeamsChannel, message_id: str, keys: list[str], sink: _Sink,
            retractions: dict[str, Retraction]) -> None:
    """What an earlier run already did for one message planned now: its posts in Slack (not
    in plan.json again), and parts an edit made unnecessary (retracted). Nothing else is ever
    retracted: a post merely out of scope (a changed filter, a skipped channel) stays."""
    planned = set(keys)
    for key in keys:
        if key in retractions and retractions[key].reason == "deleted in Teams":
            del retractions[key]         # planned again: it stays
    for key, state in ledger.settled_of_message(store, channel.id, message_id).items():
        if key in planned:
            sink.plan.already_in_slack += 1
        elif state == "done":
            retractions.setdefault(key, Retraction(key, channel.id, message_id,
                                                   "edited in Teams: fewer parts now"))


def _author(message: TeamsMessage, ctx: RenderContext) -> tuple[str, str | None]:
    """The name a post is made under, and the Teams user who sent it (None for an app)."""
    if message.sender_user_id:
        return (ctx.users.get(message.sender_user_id) or message.sender_name or "Unknown user",
                message.sender_user_id)
    return (message.sender_name or "Teams app"), None


def _channel_items(store: Store, channel: TeamsChannel, ctx: RenderContext, people: People,
                   since: str | None, sink: _Sink, warnings: _Warnings,
                   retractions: dict[str, Retraction]) -> tuple[int, int]:
    """One channel's posts, uploads and skips into the sink, a thread at a time; its figures.
    `retractions` starts as the channel's posts deleted in Teams; the planning settles it."""
    posts, uploads = sink.tally.posts, sink.tally.uploads
    earlier = ledger.any_with_prefix(store, PostKey.prefix(channel.id))
    bundled = {row["key"] for row in bundles.items_of(store, channel.id)}
    files = teams_files.files_by_message(store, channel.id)
    for thread in records.threads_of_channel(store, channel.id):
        root = thread.root
        if thread.orphan:
            warnings.add("orphan_reply", f"{channel.display_name}: reply {root.id}")
        if since and (root.created_at or "") < since:
            sink.skip(Skip("message", root.id, f"before the since date {since}"))
            continue
        keys = _add_message(root, None, channel, ctx, people, files,
                            bool(thread.replies), sink, warnings, bundled)
        if earlier:
            _settle(store, channel, root.id, keys or [], sink, retractions)
        for reply in thread.replies:
            if keys is None:
                sink.skip(Skip("message", reply.id, "its thread root is not migrated"))
                continue
            reply_keys = _add_message(reply, root.id, channel, ctx, people, files,
                                      False, sink, warnings, bundled)
            if earlier:
                _settle(store, channel, reply.id, reply_keys or [], sink, retractions)
    sink.retract(retractions)
    return sink.tally.posts - posts, sink.tally.uploads - uploads


def _add_message(teams_message: TeamsMessage, root_id, channel, ctx, people: People, files,
                 has_replies, sink: _Sink, warnings, bundled=frozenset()) -> list[str] | None:
    """One message's posts and uploads into the sink: their keys, or None when it is skipped."""
    rendered = render_message(teams_message, ctx, has_replies=has_replies)
    if rendered.skip_reason:
        sink.skip(Skip("message", teams_message.id, rendered.skip_reason))
        return None
    for kind, detail in rendered.warnings:
        warnings.add(kind, detail)
    name, teams_user = _author(teams_message, ctx)
    icon = people.icon(teams_user) if people.slack_id(teams_user) else None
    keys = [PostKey(channel.id, teams_message.id, part).text for part in range(len(rendered.parts))]
    imported: tuple[str, ...] = ()
    if bundled and any(key in bundled for key in keys):
        plain = render_message(teams_message, replace(ctx, attribution=False),
                               has_replies=has_replies).parts
        imported = tuple(ledger.text_hash(text) for text in plain)
    for part, text in enumerate(rendered.parts):
        sink.post(Post(keys[part], channel.id, teams_message.id,
                       root_id if (root_id or part == 0) else teams_message.id, part, text,
                       name, icon, teams_message.created_at or "",
                       imported[part] if part < len(imported) else None))
    thread_of = root_id or teams_message.id
    wanted = {(f.source, f.source_id) for f in rendered.files}
    for row in files.get((channel.id, teams_message.id), []):
        if (row["source"], row["source_id"]) not in wanted:
            continue
        label = row["name"] or f"image {row['source_id'][:12]}"
        if row["status"] != "downloaded":
            sink.skip(Skip("file", f"{teams_message.id}:{row['source_id']}",
                           {"missing": "gone from SharePoint/OneDrive",
                            "too_large": f"over the size cap ({row['size'] or 0:,} bytes)",
                            "forbidden": "not readable by the app",
                            "pending": "not downloaded yet (run export again)"}.get(
                               row["status"], row["status"]) + f": {label}"))
            continue
        sink.upload(Upload(FileKey(channel.id, teams_message.id, row["source"],
                                   row["source_id"]).text,
                           channel.id, teams_message.id, thread_of, row["source"], row["source_id"],
                           row["name"] or f"image-{row['source_id'][:12]}.{_ext(row['mime_type'])}",
                           row["sha256"], int(row["size"] or 0), row["mime_type"]))
    return keys


def _ext(mime: str | None) -> str:
    return {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif",
            "application/pdf": "pdf"}.get(mime or "", "bin")
