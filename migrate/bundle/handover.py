"""The hand-over from an imported bundle to the API: find each bundled conversation in Slack,
confirm every message it carried by its ts, and record them in the ledger as done — so `run`
and `sync` carry on from there (new messages, replies into imported threads, files, members)
and never post an imported message twice.

Public and private channels are found by name and read back (the app joins a public one;
a private one must have the app added by the admin). An app cannot read people's direct and
group messages: a DM or group DM counts as imported once a readable conversation of the same
ZIP was confirmed (the admin imported that ZIP), and is reported as not verifiable.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from migrate.load.client import SlackClient, SlackRefused
from migrate.load.directory import SlackDirectory
from migrate.load.readback import channel_messages
from migrate.load.scheduler import Scheduler
from migrate.store import Store, bundles, ledger
from migrate.store.keys import ChannelStepKey

READABLE = ("channel", "group")


@dataclass
class HandOver:
    confirmed: list[str] = field(default_factory=list)       # conversation names
    awaiting: dict[str, str] = field(default_factory=dict)   # name → what is missing
    unverifiable: dict[str, str] = field(default_factory=dict)
    messages: int = 0                                        # confirmed in this pass

    def as_dict(self) -> dict[str, Any]:
        return {"confirmed": len(self.confirmed), "awaiting": self.awaiting,
                "unverifiable": self.unverifiable, "messages_confirmed": self.messages}


def hand_over(store: Store, client: SlackClient, scheduler: Scheduler,
              directory: SlackDirectory, bot: str | None) -> HandOver:
    out = HandOver()
    pending = bundles.unconfirmed(store)
    if not pending:
        return out
    imported_zips: set[str] = set()
    for teams_id, conv in pending.items():
        if conv["kind"] not in READABLE:
            continue
        items = bundles.items_of(store, teams_id)
        channel = directory.channel_by_name(conv["name"])
        if channel is None:
            out.awaiting[f"#{conv['name']}"] = "not in Slack yet: import its bundle" + (
                " (and add the app to the private channel, or it cannot see it)"
                if conv["kind"] == "group" else "")
            continue
        try:
            seen = _read(client, scheduler, channel)
        except SlackRefused as exc:
            out.unverifiable[f"#{conv['name']}"] = (
                f"cannot read it ({exc.code}): add the app to the channel, then verify again")
            continue
        found = [row for row in items if row["ts"] in seen]
        _record(store, teams_id, channel.id, found)
        out.messages += len(found)
        imported_zips.update(row["bundle"] for row in found)
        if len(found) == len(items):
            bundles.confirm(store, teams_id, channel.id)
            out.confirmed.append(f"#{conv['name']}")
        else:
            missing = defaultdict(int)
            for row in items:
                if row["ts"] not in seen:
                    missing[row["bundle"]] += 1
            out.awaiting[f"#{conv['name']}"] = "messages not in Slack yet, from " + ", ".join(
                f"{name} ({n})" for name, n in sorted(missing.items()))
    for teams_id, conv in pending.items():
        if conv["kind"] in READABLE:
            continue
        items = bundles.items_of(store, teams_id)
        label = f"{'DM' if conv['kind'] == 'dm' else 'group DM'} {conv['name']}"
        if items and {row["bundle"] for row in items} <= imported_zips:
            _record(store, teams_id, None, items)
            bundles.confirm(store, teams_id, None)
            out.confirmed.append(label)
            out.unverifiable[label] = ("imported with its bundle; an app cannot read people's "
                                       "direct messages to check it")
        else:
            out.awaiting[label] = "its bundle's import is not confirmed yet"
    return out


def _read(client: SlackClient, scheduler: Scheduler, channel) -> set[str]:
    if not channel.is_private:
        scheduler.call("conversations.join", None, lambda: client.join(channel.id))
    return {message["ts"] for message, _ in channel_messages(client, scheduler, channel.id)}


def _record(store: Store, teams_id: str, slack_channel: str | None, rows: list) -> None:
    """The imported conversation and messages as done in the ledger (reason: the bundle)."""
    if slack_channel is not None:
        ledger.done(store, ChannelStepKey("channel", teams_id).text, kind="channel",
                    teams_id=teams_id, slack_channel=slack_channel,
                    reason="created by Slack's importer from a bundle")
    for row in rows:
        ledger.done(store, row["key"], kind="post", teams_id=row["message_id"],
                    slack_channel=slack_channel, slack_ts=row["ts"],
                    reason=f"imported from {row['bundle']}", content_hash=row["text_hash"])
