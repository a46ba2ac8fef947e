"""Teams messages as Slack export-format messages (the format Slack's importer takes:
slack.com/help/articles/220556107; the fields as zulip's zerver/data_import/slack.py and
mattermost/mmetl's services/slack/models.go read them).

Each message keeps its author (`user`, a stable bundle id per Teams person that the importer
maps by email) and its time: `ts` = the Teams createdDateTime, made unique within the
conversation by bumping the microseconds. Threads carry `thread_ts`, `parent_user_id`,
`reply_count`, `reply_users`, `replies`; reactions carry their users; an edited message
carries `edited`. The text is rendered as `run` renders it, without what a post by the app
has to spell out (the original date, the reactions summary, the edited mark).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from migrate.model import TeamsMessage, TeamsReaction
from migrate.store.keys import PostKey
from migrate.timestamps import parse_instant
from migrate.transform.content import reaction_token, render_message
from migrate.transform.content_model import RenderContext

Json = dict[str, Any]


def bundle_id(prefix: str, teams_id: str) -> str:
    """A stable Slack-looking id (`U…`, `C…`, `G…`, `D…`, `B…`) for a Teams object."""
    digest = hashlib.sha1(teams_id.encode("utf-8"), usedforsecurity=False).digest()
    return prefix + base64.b32encode(digest).decode("ascii")[:10]


def ts_from(created: str | None, taken: set[str]) -> str:
    """`seconds.micros` of a creation time, the next free microsecond when taken."""
    moment = parse_instant(created) or dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    micros = int(moment.timestamp()) * 1_000_000 + moment.microsecond
    while True:
        ts = f"{micros // 1_000_000}.{micros % 1_000_000:06d}"
        if ts not in taken:
            taken.add(ts)
            return ts
        micros += 1


def day_of(ts: str) -> str:
    return dt.datetime.fromtimestamp(int(ts.split(".")[0]), dt.UTC).strftime("%Y-%m-%d")


@dataclass
class Carried:
    """One post a bundle carries: its ledger key, its ts, the hash of its text."""

    key: str
    message_id: str
    ts: str
    text: str


@dataclass
class Conversation:
    """One conversation's messages in export format, by day, and what they carry."""

    days: dict[str, list[Json]] = field(default_factory=lambda: defaultdict(list))
    carried: list[Carried] = field(default_factory=list)
    authors: dict[str, str] = field(default_factory=dict)   # Teams user id → display name
    skipped: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def _reactions(reactions: Sequence[TeamsReaction], ctx: RenderContext,
               user_id: Callable[[str], str]) -> list[Json]:
    """Teams reactions → [{name, users, count}], one user once per name; a reaction with no
    Slack short name (an emoji outside the mapping) is left out."""
    users: dict[str, list[str]] = {}
    for reaction in reactions:
        token = reaction_token(reaction.reaction_type, reaction.display_name, ctx)
        if not (token.startswith(":") and token.endswith(":")):
            continue
        name = token[1:-1]
        person = reaction.user_id
        if not person:
            continue
        who = users.setdefault(name, [])
        if user_id(person) not in who:
            who.append(user_id(person))
    return [{"name": name, "users": who, "count": len(who)} for name, who in sorted(users.items())]


def convert(channel_id: str, messages: list[TeamsMessage], ctx: RenderContext, *,
            user_id: Callable[[str], str], carried: Mapping[str, str], taken: set[str],
            since: str | None = None) -> Conversation:
    """One conversation's messages (roots and replies, any order) in export format.
    `carried`: ledger key → ts of posts an earlier bundle carried (left out, but a new reply
    to such a root threads under its ts); `taken`: every ts already used in it."""
    out = Conversation()
    roots: dict[str, TeamsMessage] = {}
    replies: dict[str, list[TeamsMessage]] = defaultdict(list)
    for message in messages:
        if message.reply_to_id:
            replies[message.reply_to_id].append(message)
        else:
            roots[message.id] = message
    for root_id in [r for r in replies if r not in roots]:
        for orphan in replies.pop(root_id):     # the root is not in the export: its own thread
            roots[orphan.id] = orphan.as_root()
    for root in sorted(roots.values(), key=lambda m: (m.created_at or "", m.id)):
        if since and (root.created_at or "") < since:
            out.skipped["before the since date"] += 1
            continue
        thread = sorted(replies.get(root.id, []), key=lambda m: (m.created_at or "", m.id))
        head = _add(out, channel_id, root, None, ctx, user_id, carried, taken, bool(thread))
        if head is None:
            out.skipped["root not carried"] += len(thread)
            continue
        for reply in thread:
            _add(out, channel_id, reply, head, ctx, user_id, carried, taken, False)
    return out


def _add(out: Conversation, channel_id: str, message: TeamsMessage, root: Json | None,
         ctx: RenderContext, user_id: Callable[[str], str], carried: Mapping[str, str],
         taken: set[str], has_replies: bool) -> Json | None:
    """Add one message's parts; returns the export message a reply threads under (the root's
    first part, or a stand-in with the ts an earlier bundle gave it)."""
    rendered = render_message(message, ctx, has_replies=has_replies)
    if rendered.skip_reason:
        out.skipped[rendered.skip_reason.split(":")[0]] += 1
        return None
    author = message.sender_user_id
    if author:
        out.authors.setdefault(author, message.sender_name or ctx.users.get(author) or author)
    first: Json | None = None
    for part, text in enumerate(rendered.parts):
        key = PostKey(channel_id, message.id, part).text
        if key in carried:                       # an earlier bundle carried it
            if first is None and part == 0:
                first = {"ts": carried[key], "user": user_id(author) if author else None,
                         "_earlier": True}
            continue
        ts = ts_from(message.created_at, taken)
        entry: Json = {"type": "message", "text": text, "ts": ts}
        if author:
            entry["user"] = user_id(author)
        else:                                    # an app: Slack's importer shows a bot message
            entry.update(subtype="bot_message", username=message.sender_name or "Teams app",
                         bot_id=bundle_id("B", message.sender_name or "app"))
        parent = root if root is not None else (first if part else None)
        if parent is not None:
            entry["thread_ts"] = parent["ts"]
            if parent.get("user"):
                entry["parent_user_id"] = parent["user"]
            if not parent.get("_earlier"):
                parent.setdefault("replies", []).append({"user": entry.get("user", ""), "ts": ts})
                parent["reply_count"] = len(parent["replies"])
                parent["reply_users"] = sorted({r["user"] for r in parent["replies"] if r["user"]})
                parent["reply_users_count"] = len(parent["reply_users"])
                parent["latest_reply"] = ts
        elif has_replies or len(rendered.parts) > 1:
            entry["thread_ts"] = ts
        if part == 0:
            reactions = _reactions(message.reactions, ctx, user_id)
            if reactions:
                entry["reactions"] = reactions
            edited = message.edited_at
            if edited and author:
                entry["edited"] = {"user": user_id(author), "ts": ts_from(edited, set())}
            first = entry
        out.days[day_of(ts)].append(entry)
        out.carried.append(Carried(key, message.id, ts, text))
    return first
