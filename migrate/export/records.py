"""Typed records from the store: the only place that reads the raw Graph JSON of users, teams,
channels, memberships and messages (raw Graph dicts never leave the Teams side of the code;
a message's own dict rides along only for the renderer).

Every loader returns its records in a stable order (by id), so everything built from them
(the Plan, its reports) is deterministic.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from migrate.model import (
    TeamsChannel,
    TeamsChannelId,
    TeamsChat,
    TeamsChatId,
    TeamsMember,
    TeamsMessage,
    TeamsMessageId,
    TeamsTeam,
    TeamsTeamId,
    TeamsUser,
    TeamsUserId,
)
from migrate.store import Store, teams_chats, teams_objects

Json = dict[str, Any]


def _strings(value: Any) -> tuple[str, ...]:
    """A Graph string collection (otherMails, proxyAddresses, roles): null and blanks dropped."""
    if not isinstance(value, list):
        return ()
    return tuple(s.strip() for s in value if isinstance(s, str) and s.strip())


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def teams_user(raw: Json) -> TeamsUser:
    """A Graph `user` → TeamsUser. A user without a displayName is named by an address."""
    mail = _text(raw.get("mail"))
    upn = _text(raw.get("userPrincipalName"))
    enabled = raw.get("accountEnabled")
    return TeamsUser(
        id=TeamsUserId(raw["id"]),
        display_name=_text(raw.get("displayName")) or mail or upn or raw["id"],
        mail=mail,
        user_principal_name=upn,
        other_mails=_strings(raw.get("otherMails")),
        proxy_addresses=_strings(raw.get("proxyAddresses")),
        user_type=_text(raw.get("userType")) or "Member",
        account_enabled=True if enabled is None else bool(enabled),
    )


def teams_team(raw: Json) -> TeamsTeam:
    return TeamsTeam(
        id=TeamsTeamId(raw["id"]),
        display_name=_text(raw.get("displayName")) or raw["id"],
        description=_text(raw.get("description")),
        visibility=_text(raw.get("visibility")),
        is_archived=bool(raw.get("isArchived")),
        created_at=_text(raw.get("createdDateTime")),
    )


def teams_channel(raw: Json, team_id: str) -> TeamsChannel:
    return TeamsChannel(
        id=TeamsChannelId(raw["id"]),
        team_id=TeamsTeamId(team_id),
        display_name=_text(raw.get("displayName")) or raw["id"],
        description=_text(raw.get("description")),
        membership_type=_text(raw.get("membershipType")) or "standard",
        created_at=_text(raw.get("createdDateTime")),
    )


def teams_member(raw: Json) -> TeamsMember | None:
    """A conversationMember → TeamsMember; None for members without an Entra user id
    (anonymous guests, phone users, …), who cannot be matched to anyone."""
    user_id = _text(raw.get("userId"))
    if user_id is None:
        return None
    return TeamsMember(user_id=TeamsUserId(user_id), display_name=_text(raw.get("displayName")),
                       roles=_strings(raw.get("roles")))


def teams_message(raw: Json, channel_id: str) -> TeamsMessage:
    """A Graph `chatMessage` → TeamsMessage (the object itself rides along as `raw`, for the
    renderer). Its sender is a user when `from.user.id` is set, else an app (or no one)."""
    sender = raw.get("from") or {}
    user = sender.get("user") or {}
    if user.get("id"):
        sender_user_id, sender_name = TeamsUserId(user["id"]), user.get("displayName")
    else:
        sender_user_id, sender_name = None, (sender.get("application") or {}).get("displayName")
    return TeamsMessage(
        id=TeamsMessageId(raw["id"]),
        channel_id=TeamsChannelId(channel_id),
        reply_to_id=TeamsMessageId(raw["replyToId"]) if raw.get("replyToId") else None,
        created_at=raw.get("createdDateTime") or None,
        sender_user_id=sender_user_id,
        sender_name=sender_name or None,
        raw=raw,
    )


def load_chats(store: Store) -> Iterator[TeamsChat]:
    """Every chat whose details were read, by id, with its current members (Entra users, each
    once) — one chat at a time: a tenant of 100,000 chats never sits in memory as JSON."""
    members = itertools.groupby(teams_chats.raw_chat_members(store), key=lambda row: row[0])
    pending = next(members, None)
    for raw in teams_chats.raw_chats(store):
        while pending is not None and pending[0] < raw["id"]:
            pending = next(members, None)      # members of a chat not stored: none to attach
        mine: tuple[TeamsMember, ...] = ()
        if pending is not None and pending[0] == raw["id"]:
            mine = tuple(_members(pending[1]).get(raw["id"], ()))
            pending = next(members, None)
        yield TeamsChat(id=TeamsChatId(raw["id"]), chat_type=raw.get("chatType") or "group",
                        topic=_text(raw.get("topic")), created_at=raw.get("createdDateTime") or None,
                        members=mine)


class TeamsUsers:
    """Every stored Teams user, by id, read from the store one at a time each time it is
    iterated (350,000 of them are never all in memory)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def __iter__(self) -> Iterator[TeamsUser]:
        return (teams_user(raw) for raw in teams_objects.raw_users(self.store))


def load_teams(store: Store) -> list[TeamsTeam]:
    return [teams_team(raw) for raw in teams_objects.raw_teams(store)]


def load_channels(store: Store) -> list[TeamsChannel]:
    return [teams_channel(raw, team_id) for team_id, raw in teams_objects.raw_channels(store)]


def load_channel_messages(store: Store, channel_id: str) -> list[TeamsMessage]:
    """One channel's messages, roots and replies, by creation time then id."""
    return [teams_message(raw, channel_id)
            for raw in teams_objects.raw_messages_of_channel(store, channel_id)]


@dataclass(frozen=True)
class Thread:
    root: TeamsMessage
    replies: list[TeamsMessage]
    orphan: bool = False       # `root` is a reply whose thread's first message is not exported


def threads_of_channel(store: Store, channel_id: str) -> Iterator[Thread]:
    """One channel's threads in order (roots by creation time then id), each root with its
    replies in order; a reply whose root is not in the export is a thread of its own. Read a
    thread at a time: a channel of a million messages never sits in memory."""
    orphans = [Thread(teams_message(raw, channel_id).as_root(), [], True)
               for raw in teams_objects.raw_orphan_replies(store, channel_id)]

    def threads() -> Iterator[Thread]:
        for raw, has_replies in teams_objects.raw_roots(store, channel_id):
            root = teams_message(raw, channel_id)
            replies = [teams_message(reply, channel_id) for reply in
                       teams_objects.raw_replies(store, channel_id, root.id)] if has_replies else []
            yield Thread(root, replies)

    def order(thread: Thread) -> tuple[str, str]:
        return (thread.root.created_at or "", thread.root.id)

    return heapq.merge(threads(), orphans, key=order)


def _members(rows: Iterable[tuple[str, Json]]) -> dict[str, list[TeamsMember]]:
    """Members per owner (team or channel), from (owner id, conversationMember) in order."""
    out: dict[str, list[TeamsMember]] = {}
    seen: set[tuple[str, str]] = set()
    for owner, raw in rows:
        member = teams_member(raw)
        members = out.setdefault(owner, [])
        if member is not None and (owner, member.user_id) not in seen:
            seen.add((owner, member.user_id))
            members.append(member)
    return out


def load_team_members(store: Store) -> dict[TeamsTeamId, list[TeamsMember]]:
    """Members per team (Entra users only, each once, by user id)."""
    return {TeamsTeamId(k): v for k, v in _members(teams_objects.raw_team_members(store)).items()}


def load_channel_members(store: Store) -> dict[TeamsChannelId, list[TeamsMember]]:
    """A channel's own members (private and shared channels; standard ones use the team's)."""
    return {TeamsChannelId(k): v
            for k, v in _members(teams_objects.raw_channel_members(store)).items()}
