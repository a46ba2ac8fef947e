"""What `migrate run` would still change in Slack for a plan: the plan against the ledger.

The plan lists everything the source asks for (posts already in Slack included: an earlier run
made them); the ledger says what is done. A change is pending when the run would make a Slack
call for it: a channel to create, rename, give its purpose or topic, or archive; a post or file
not in Slack yet; a post in Slack whose text changed in Teams (chat.update); a post deleted in
Teams still in Slack; a member not invited yet. `migrate plan --detailed-exitcode` exits 2
when there is any (0 when none), as Terraform's plan does.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TYPE_CHECKING, Any

from migrate.store import Store, ledger
from migrate.store.keys import ChannelStepKey, MemberKey
from migrate.transform.content import DELETED

if TYPE_CHECKING:
    from migrate.plan.model import Plan

SETTLED = ("done", "skipped")
BATCH = 500


def pending_changes(plan: Plan, store: Store, *, deleted_messages: str = "delete") -> Counter[str]:
    """Pending changes by kind ("posts", "channels to create", …); empty when nothing is."""
    out: Counter[str] = Counter()
    for channel in plan.channels:
        if channel.action != "skip":
            out.update(_channel_steps(channel, store))
    for rows, posts in _batches(plan.posts, store):
        for post in posts:
            row = rows.get(post.key)
            if row is None or row["state"] not in SETTLED:
                out["posts"] += 1
            elif (row["state"] == "done" and row["content_hash"]
                  and not (row["reason"] or "").startswith("imported from")
                  and row["content_hash"] != ledger.text_hash(post.text)):
                # in Slack with an older text (an imported message is the person's own:
                # an app cannot edit it, so nothing is pending for it)
                out["posts to update"] += 1
    for rows, uploads in _batches(plan.uploads, store):
        out["files"] += sum(1 for u in uploads
                            if (row := rows.get(u.key)) is None or row["state"] not in SETTLED)
    for rows, retractions in _batches(plan.retractions, store):
        for retraction in retractions:
            row = rows.get(retraction.key)
            if row is None or row["state"] != "done":
                continue
            if deleted_messages == "placeholder" and row["content_hash"] == ledger.text_hash(DELETED):
                continue
            out["posts to delete"] += 1
    return Counter({kind: n for kind, n in out.items() if n})


def _channel_steps(channel: Any, store: Store) -> Counter[str]:
    out: Counter[str] = Counter()
    teams_id = channel.teams_channel_id

    def done(step: str) -> bool:
        row = ledger.get(store, ChannelStepKey(step, teams_id).text)
        return row is not None and row["state"] in SETTLED

    if channel.action == "create" and not done("channel"):
        out["channels to create"] += 1
    if channel.rename_to:
        out["channels to rename"] += 1
    for step, wanted in (("purpose", channel.purpose), ("topic", channel.topic)):
        if wanted and not done(step):
            out[f"channel {step}s to set"] += 1
    settled = {MemberKey.parse(key).user for key, row in
               ledger.with_prefix(store, MemberKey.prefix(teams_id)).items()
               if row["state"] in SETTLED}
    out["members to invite"] += sum(1 for user in channel.invite if user not in settled)
    if channel.archive_after and not done("archive"):
        out["channels to archive"] += 1
    return out


def _batches(items: Iterable[Any], store: Store) -> Iterator[tuple[dict, list[Any]]]:
    """The items BATCH at a time, with the ledger rows of their keys."""
    iterator = iter(items)
    while batch := list(islice(iterator, BATCH)):
        yield ledger.rows(store, [item.key for item in batch]), batch


def describe(changes: Counter[str]) -> str:
    """"12 posts, 2 channels to create" — or "no changes"."""
    if not changes:
        return "no changes: Slack already holds everything this plan asks for"
    return ", ".join(f"{n:,} {kind}" for kind, n in sorted(changes.items(), key=lambda kv: -kv[1]))
