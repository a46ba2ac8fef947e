"""Before the first write: does Slack already hold work of ours that this ledger does not know?

A lost working directory (an expired CI cache, a wrong path, `--workdir` typo) used to mean a
fresh ledger and every channel and post made a second time. Our traces in Slack are
recognisable: channels the app's bot user created (`creator`, conversations.list), and posts
carrying our message metadata (event_type teams_message, with the Teams ids) in channels the bot can read. If any of them is
unknown to the ledger, the state is missing: refuse (exit 2) and say where it should be and
how to rebuild it (`migrate adopt`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from migrate.errors import ConfigError
from migrate.load.client import SlackClient
from migrate.load.directory import SlackDirectory
from migrate.load.scheduler import Scheduler
from migrate.store import Store, ledger
from migrate.store.keys import PostKey

SHOWN = 5


class LostState(ConfigError):
    """Slack holds channels or posts of ours that the ledger does not know (exit 2)."""


@dataclass
class Traces:
    channels: list[str] = field(default_factory=list)       # "#name" of ours, unknown
    posts: dict[str, int] = field(default_factory=dict)     # "#name" → our posts seen there

    def __bool__(self) -> bool:
        return bool(self.channels or self.posts)


def our_post_key(message: dict) -> PostKey | None:
    """The ledger key a Slack message of ours names in its metadata (its Teams channel may be
    "" in a message that does not say), or None for a message that is not ours."""
    meta = message.get("metadata") or {}
    payload = meta.get("event_payload") or {}
    if meta.get("event_type") != "teams_message" or not payload.get("teams_message_id"):
        return None
    return PostKey(str(payload.get("teams_channel_id") or ""), str(payload["teams_message_id"]),
                   int(payload.get("part", 0) or 0))


def find_unknown_traces(store: Store, client: SlackClient, scheduler: Scheduler,
                        directory: SlackDirectory, bot_user: str | None,
                        reuse_channels: list[str], pending_names: set[str],
                        owned: set[str] | None = None) -> Traces:
    """Our channels and posts in Slack that the ledger does not know.

    Channels: every channel the bot created that no ledger row names, except those that may
    be a create in doubt (`pending_names`: the planned names of channels whose creation the
    ledger started but did not confirm, and their -N suffixes): the importer resolves those.
    Posts: one page of the newest history of each channel the plan reuses and the ledger has
    no row for (a merge target of a lost run), looking for our metadata."""
    traces = Traces()
    known = set(ledger.channel_map(store).values()) | ledger.slack_channels(store)

    def pending(name: str) -> bool:
        base, _, suffix = name.rpartition("-")
        return name in pending_names or (suffix.isdigit() and base in pending_names)

    for channel_id, raw in sorted(directory.raw_channels.items()):
        if bot_user and raw.get("creator") == bot_user and channel_id not in known \
                and not pending(raw.get("name") or ""):
            if owned is not None and not _holds_ours(client, scheduler, channel_id, owned):
                continue   # a shard: another shard's channel (its posts name others' channels)
            traces.channels.append(f"#{raw.get('name') or channel_id}")
    for channel_id in reuse_channels:
        if channel_id in known:
            continue
        raw = directory.raw_channels.get(channel_id) or {}
        if raw.get("is_archived") or raw.get("is_member") is False:
            continue
        page = scheduler.call("conversations.history", None,
                              lambda c=channel_id: client.history(c, limit=200))
        ours = [m for m in page.get("messages") or [] if our_post_key(m)]
        if ours:
            traces.posts[f"#{raw.get('name') or channel_id}"] = len(ours)
    return traces


def _holds_ours(client: SlackClient, scheduler: Scheduler, channel_id: str,
                owned: set[str]) -> bool:
    """Under --shard, a channel the app created may be another shard's: it is this one's lost
    state only when its newest posts name a Teams channel or chat this shard owns. (A channel
    still without posts cannot tell, and is let be.)"""
    page = scheduler.call("conversations.history", None,
                          lambda: client.history(channel_id, limit=50))
    return any((key := our_post_key(m)) and key.channel in owned
               for m in page.get("messages") or [])


def refuse_if_lost(traces: Traces, workdir: Path) -> None:
    if not traces:
        return
    what = []
    if traces.channels:
        names = ", ".join(traces.channels[:SHOWN]) + (" …" if len(traces.channels) > SHOWN else "")
        what.append(f"{len(traces.channels)} channels this app created ({names})")
    if traces.posts:
        names = ", ".join(list(traces.posts)[:SHOWN])
        what.append(f"migrated posts in {len(traces.posts)} reused channels ({names})")
    raise LostState(
        f"Slack already holds {' and '.join(what)} that the ledger in {workdir / 'state.db'} "
        "does not know: this working directory's state is missing, and writing now would "
        "migrate everything a second time",
        hint="restore the working directory (CI: its cache) and point --workdir/MIGRATE_WORKDIR "
        "at it, or rebuild its ledger from Slack with `migrate adopt`")
