"""The setup steps of a channel lane: create or reuse the channel (a taken name gets the next
suffix; an unanswered create is resolved by name and creator), rename it, set purpose and
topic, invite the members, verify and archive it last. Each is a function `step(ctx, item)`
of lane.STEPS; what a Slack error means for each is its Refusals (lane_common.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from migrate.load.directory import remember_channel
from migrate.load.lane_common import (
    ARCHIVE,
    CREATE,
    GUEST_CODES,
    INVITE,
    INVITE_BATCH,
    JOIN,
    LOOKUP,
    RENAME,
    SET_TEXT,
    UNAVAILABLE_ONLY,
    Halt,
    Item,
    LaneContext,
    Outcome,
)
from migrate.store import ledger
from migrate.store.keys import MemberKey
from migrate.transform.channels import MAX_NAME


def create_channel(ctx: LaneContext, item: Item) -> None:
    key = ctx.key("channel")
    store, cp = ctx.store, ctx.cp
    if cp.action == "reuse" and cp.slack_channel_id:
        if cp.reason and cp.reason.startswith("merged") and not cp.is_private:
            # The bot posts only where it is a member (no chat:write.public needed).
            joined = ctx.try_call("conversations.join",
                                  lambda: ctx.client.join(cp.slack_channel_id), JOIN)
            if joined.outcome is not Outcome.DONE:
                ctx.fail(key, "channel", f"cannot join #{cp.slack_name}: {joined.code}")
        ledger.done(store, key, kind="channel", teams_id=cp.teams_channel_id,
                    slack_channel=cp.slack_channel_id, reason=f"reused #{cp.slack_name}",
                    run_id=ctx.run_id)
        ctx.slack_id = cp.slack_channel_id
        ctx.run.count("channel", "reused")
        return
    row = ledger.get(store, key)
    name = cp.slack_name or ""
    if row is not None and row["state"] in ("in_doubt", "intent") and _adopt(ctx, name):
        return
    for _attempt in range(1, 50):
        def create(n: str = name) -> Any:
            return ctx.recorded(key, "channel", lambda: ctx.client.create_channel(n, cp.is_private),
                                teams_id=cp.teams_channel_id)

        answer = ctx.try_call("conversations.create", create, CREATE)
        if answer.outcome is Outcome.AGAIN:
            # Someone took the name since the plan: the next free suffix, as the naming rule says.
            name = _next_name(ctx, cp.slack_name or name)
            continue
        if not ctx.conclude(key, "channel", answer, what=f"#{name}"):
            # Unanswered (a failure halted the lane): ours if it landed, else create it again.
            if _adopt(ctx, name):
                return
            continue
        created = answer.value
        ctx.run.claim_name(created["name"])
        remember_channel(store, created)
        reason = f"created #{created['name']}"
        if created["name"] != cp.slack_name:
            reason += f" (#{cp.slack_name} was taken when the run reached it)"
        ledger.done(store, key, slack_channel=created["id"], reason=reason)
        ctx.slack_id = created["id"]
        ctx.run.count("channel", "created")
        return
    ctx.fail(key, "channel", f"no free name for #{cp.slack_name}")


def _next_name(ctx: LaneContext, base: str) -> str:
    ctx.run.workspace_channel(base, refresh=True)
    for k in range(2, 1000):
        suffix = f"-{k}"
        candidate = base[:MAX_NAME - len(suffix)].rstrip("-") + suffix
        if ctx.run.claim_name(candidate):
            return candidate
    return base


def _adopt(ctx: LaneContext, name: str) -> bool:
    """An earlier create may have landed: a channel of this name made by our bot is ours."""
    looked = ctx.attempt(UNAVAILABLE_ONLY, lambda: (
        ctx.run.workspace_channel(name, refresh=True), ctx.run.bot_user()))
    if looked.outcome is not Outcome.DONE:
        ctx.still_in_doubt(ctx.key("channel"), "channel", f"cannot check #{name} ({looked.code})")
    found, bot = looked.value
    if found and bot and found.get("creator") == bot:
        ledger.done(ctx.store, ctx.key("channel"), slack_channel=found["id"],
                    reason=f"created #{name} (found after an unanswered create)")
        ctx.slack_id = found["id"]
        ctx.run.count("channel", "found")
        return True
    return False


def rename_channel(ctx: LaneContext, item: Item) -> None:
    """The Teams channel (or its team) was renamed since an earlier run created it, and
    MIGRATE_RENAMED_CHANNELS=rename: the Slack channel follows (next free suffix if taken)."""
    key, wanted, cp = ctx.key("rename"), ctx.cp.rename_to or "", ctx.cp
    name = wanted
    for _attempt in range(50):
        answer = ctx.try_call("conversations.rename", lambda n=name: ctx.client.rename_channel(
            ctx.slack_id, n), RENAME)
        if answer.outcome is Outcome.AGAIN:
            name = _next_name(ctx, wanted)
            continue
        if not ctx.conclude(key, "rename", answer, what=f"to rename #{cp.slack_name}",
                            halt=False):
            return
        renamed = answer.value
        remember_channel(ctx.store, renamed)
        ledger.done(ctx.store, key, kind="rename", slack_channel=ctx.slack_id,
                    teams_id=cp.teams_channel_id,
                    reason=f"renamed #{cp.slack_name} to #{renamed['name']}")
        ctx.label = renamed["name"]
        ctx.run.count("channel", "renamed")
        return
    ctx.skip(key, "rename", f"no free name for #{wanted}")


# ---------------------------------------------------------------------- purpose, topic


def _set_text(ctx: LaneContext, kind: str, fn: Callable[[], Any], method: str) -> None:
    key = ctx.key(kind)
    answer = ctx.try_call(method, fn, SET_TEXT)
    if not ctx.conclude(key, kind, answer, what=f"the {kind}", halt=False):
        return
    ledger.done(ctx.store, key, kind=kind, teams_id=ctx.cp.teams_channel_id,
                slack_channel=ctx.slack_id, run_id=ctx.run_id)
    ctx.run.count(kind, "set")


def set_purpose(ctx: LaneContext, item: Item) -> None:
    value = ctx.cp.purpose or ""
    _set_text(ctx, "purpose", lambda: ctx.client.set_purpose(ctx.slack_id, value),
              "conversations.setPurpose")


def set_topic(ctx: LaneContext, item: Item) -> None:
    value = ctx.cp.topic or ""
    _set_text(ctx, "topic", lambda: ctx.client.set_topic(ctx.slack_id, value),
              "conversations.setTopic")


# ---------------------------------------------------------------------- invites, archive


def invite_members(ctx: LaneContext, item: Item) -> None:
    """Mapped members in batches of ≤ 100 with `force` (valid ones invited, the others
    listed in `errors`). A refused call invites nobody (all or nothing: docs.slack.dev conversations.invite):
    the users it names are settled, the rest go again — one by one when Slack names no
    one — so nobody is recorded as a member who was not invited."""
    channel = ctx.cp.teams_channel_id
    settled = {MemberKey.parse(k).user for k, row in
               ledger.with_prefix(ctx.store, MemberKey.prefix(channel)).items()
               if row["state"] in ("done", "skipped")}
    wanted = [u for u in ctx.cp.invite if u not in settled]
    queue = [wanted[i:i + INVITE_BATCH] for i in range(0, len(wanted), INVITE_BATCH)]
    while queue:
        batch = queue.pop(0)
        answer = ctx.try_call("conversations.invite",
                              lambda b=batch: ctx.client.invite(ctx.slack_id, b), INVITE)
        if answer.outcome is Outcome.FAILED:
            # Refused about the channel, not the people: everyone left is retried later.
            # Unavailable: this batch is, and the next batch is tried now.
            users = [u for b in [batch, *queue] for u in b] if answer.refused else batch
            for user in users:
                ctx.conclude(MemberKey(channel, user).text, "member", answer, what="the invite",
                             halt=False)
            if answer.refused:
                return
            continue
        if answer.outcome is not Outcome.DONE:     # refused, naming (some of) the users
            assert answer.error is not None
            named = {e.get("user"): e.get("error") or answer.code
                     for e in answer.error.data.get("errors") or [] if e.get("user") in batch}
            if not named and len(batch) == 1:
                named = {batch[0]: answer.code}
            rest = [u for u in batch if u not in named]
            if named:
                _settle_members(ctx, named, [])
                if rest:
                    queue.insert(0, rest)
            else:
                queue[:0] = [[u] for u in rest]      # Slack named no one: try each alone
            continue
        refused = {e.get("user"): e.get("error") or "refused"
                   for e in answer.value.get("errors") or []}
        _settle_members(ctx, refused, [u for u in batch if u not in refused])


def _settle_members(ctx: LaneContext, refused: dict[str, str], invited: list[str]) -> None:
    store, channel = ctx.store, ctx.cp.teams_channel_id

    def key(user: str) -> str:
        return MemberKey(channel, user).text

    with store.transaction():
        for user in invited:
            ledger.done(store, key(user), kind="member", slack_channel=ctx.slack_id,
                        teams_id=channel)
            ctx.run.count("member", "invited")
        for user, code in refused.items():
            if code == "already_in_channel":
                ledger.done(store, key(user), kind="member", slack_channel=ctx.slack_id,
                            teams_id=channel)
                ctx.run.count("member", "already")
            elif code in GUEST_CODES:
                ctx.skip(key(user), "member", f"guest account ({code}): an admin "
                         "must add guests to channels")
            else:
                ctx.skip(key(user), "member", f"Slack refused the invite: {code}")


def archive_channel(ctx: LaneContext, item: Item) -> None:
    key = ctx.key("archive")
    if ctx.trouble:
        raise Halt("not archived yet: some of its items failed (the next run retries)")
    _verify_before_archive(ctx)
    answer = ctx.try_call("conversations.archive", lambda: ctx.client.archive(ctx.slack_id),
                          ARCHIVE)
    if not ctx.conclude(key, "archive", answer, what="to archive", halt=False):
        return
    ledger.done(ctx.store, key, kind="archive", slack_channel=ctx.slack_id,
                teams_id=ctx.cp.teams_channel_id)
    ctx.run.count("channel", "archived")


def _verify_before_archive(ctx: LaneContext) -> None:
    """Archiving removes the bot, so `migrate verify` could never read this channel back:
    check it now (same comparison) and keep the verdict in the ledger."""
    from migrate.verify.check import Verifier

    verifier = Verifier(ctx.store, ctx.client, ctx.scheduler)
    looked = ctx.attempt(LOOKUP, lambda: verifier.check_channel(
        ctx.cp, ctx.slack_id, ctx.channel_posts(), ctx.channel_uploads()))
    if looked.outcome is not Outcome.DONE:
        raise Halt(f"not archived yet: cannot verify it first ({looked.code})")
    check = looked.value
    if check.problems or check.unverifiable:
        ctx.trouble = True
        raise Halt(f"not archived: verification found {check.problems} problems "
                   f"({check.unverifiable or 'see migrate verify'})")
    ledger.done(ctx.store, ctx.key("verified"), kind="verified",
                slack_channel=ctx.slack_id, teams_id=ctx.cp.teams_channel_id,
                reason=f"verified before archiving: {check.found} of {check.expected} posts")
