"""Typed records from the store: the only place that reads the raw Graph JSON of users, teams,
channels, memberships and messages (raw Graph dicts never leave the Teams side of the code).
A message's envelope — sender, body, mentions, attachments, reactions, edits, events — is
parsed here once; what stays source content for the transform is the body and the cards'
payloads.

Every loader returns its records in a stable order (by id), so everything built from them
(the Plan, its reports) is deterministic.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from migrate.model import (
    TeamsAttachment,
    TeamsChannel,
    TeamsChannelId,
    TeamsChat,
    TeamsChatId,
    TeamsIdentity,
    TeamsMember,
    TeamsMention,
    TeamsMessage,
    TeamsMessageId,
    TeamsReaction,
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
        is_archived=raw.get("isArchived") is True,
    )


def teams_member(raw: Json) -> TeamsMember | None:
    """A conversationMember → TeamsMember; None for members without an Entra user id
    (anonymous guests, phone users, …), who cannot be matched to anyone."""
    user_id = _text(raw.get("userId"))
    if user_id is None:
        return None
    return TeamsMember(user_id=TeamsUserId(user_id), display_name=_text(raw.get("displayName")),
                       roles=_strings(raw.get("roles")))


# -- messages ----------------------------------------------------------------------------------
# A chatMessage is read as the renderer always read it: a key in Graph's camelCase or, failing
# that, in PowerShell exports' PascalCase; a list that is not a list is empty; a value of an odd
# type counts by its truthiness and is kept as text (`_str`).


def graph_field(data: Any, name: str) -> Any:
    """`data[name]`, or `data[Name]` when that is absent or null (PowerShell exports' PascalCase);
    None for a non-object. The transform reads card content with it too."""
    if not isinstance(data, Mapping):
        return None
    value = data.get(name)
    if value is None:
        value = data.get(name[:1].upper() + name[1:])
    return value


def _str(value: Any) -> str | None:
    """A value that is set, as text; None for null, "" and other falsy values."""
    return str(value) if value else None


def _list(value: Any) -> list | tuple:
    return value if isinstance(value, (list, tuple)) else ()


_MENTIONED = ("user", "conversation", "tag", "application")


def teams_mentions(raw_list: Any) -> tuple[TeamsMention, ...]:
    """A chatMessage's `mentions` → TeamsMentions, in order; an entry without an `id` (or not
    an object) fills no `<at>` and is left out."""
    out = []
    for raw in _list(raw_list):
        at_id = graph_field(raw, "id")
        if at_id is None:
            continue
        mentioned = graph_field(raw, "mentioned")
        identities = []
        for kind in _MENTIONED:
            ident = graph_field(mentioned, kind)
            ident_id, name = _str(graph_field(ident, "id")), _str(graph_field(ident, "displayName"))
            if ident_id or name:
                identities.append(TeamsIdentity(kind, ident_id, name))
        out.append(TeamsMention(str(at_id), _str(graph_field(raw, "mentionText")), tuple(identities)))
    return tuple(out)


def teams_attachments(raw_list: Any) -> tuple[TeamsAttachment, ...]:
    """A chatMessage's `attachments` → TeamsAttachments, one per entry (an entry that is not an
    object is an attachment of unknown type, as the renderer shows it). The card payload
    (`content`) is kept as given when it is a JSON string or object."""
    out = []
    for raw in _list(raw_list):
        url, name, content = graph_field(raw, "contentUrl"), graph_field(raw, "name"), graph_field(raw, "content")
        # The body refers to an attachment by its id, else by its contentUrl: a contentUrl that
        # is not text (never a link) can still be that reference.
        ref = graph_field(raw, "id") or (url if not isinstance(url, str) else None)
        out.append(TeamsAttachment(
            id=_str(ref),
            content_type=_str(graph_field(raw, "contentType")),
            content_url=url if isinstance(url, str) else None,
            name=name if isinstance(name, str) else None,
            content=content if isinstance(content, (str, dict)) else None,
        ))
    return tuple(out)


def teams_reactions(raw_list: Any) -> tuple[TeamsReaction, ...]:
    """A chatMessage's `reactions` → TeamsReactions, one per entry (an entry that is not an
    object is a reaction of unknown type)."""
    out = []
    for raw in _list(raw_list):
        created = graph_field(raw, "createdDateTime")
        out.append(TeamsReaction(
            reaction_type=str(graph_field(raw, "reactionType") or ""),
            display_name=_str(graph_field(raw, "displayName")),
            user_id=_str(graph_field(graph_field(graph_field(raw, "user"), "user"), "id")),
            created_at=created if isinstance(created, str) and created else None,
        ))
    return tuple(out)


def teams_message(raw: Json, channel_id: str) -> TeamsMessage:
    """A Graph `chatMessage` → TeamsMessage (the dict is not kept). Its sender is a user when
    `from.user.id` is set, else an app (or no one); `sender_kind` says which of `from.user`
    and `from.application` Graph filled in."""
    sender = graph_field(raw, "from")
    user, app = graph_field(sender, "user"), graph_field(sender, "application")
    if graph_field(user, "id"):
        sender_user_id, sender_name = TeamsUserId(str(graph_field(user, "id"))), graph_field(user, "displayName")
    else:
        sender_user_id, sender_name = None, graph_field(app, "displayName")
    is_app = not user and isinstance(app, Mapping)
    body = graph_field(raw, "body") or {}
    body_type = str(graph_field(body, "contentType") or "html")
    reply_to = graph_field(raw, "replyToId")
    return TeamsMessage(
        id=TeamsMessageId(raw["id"]),
        channel_id=TeamsChannelId(channel_id),
        reply_to_id=TeamsMessageId(str(reply_to)) if reply_to else None,
        created_at=graph_field(raw, "createdDateTime") or None,
        sender_user_id=sender_user_id,
        sender_name=_str(sender_name),
        sender_kind="user" if user else "application" if is_app else None,
        sender_app_id=_str(graph_field(app, "id")) if is_app else None,
        message_type=str(graph_field(raw, "messageType") or "message"),
        body=str(graph_field(body, "content") or ""),
        body_type="text" if body_type.lower() == "text" else "html",
        subject=_str(graph_field(raw, "subject")),
        importance=_str(graph_field(raw, "importance")),
        attachments=teams_attachments(graph_field(raw, "attachments")),
        mentions=teams_mentions(graph_field(raw, "mentions")),
        reactions=teams_reactions(graph_field(raw, "reactions")),
        edited_at=_str(graph_field(raw, "lastEditedDateTime")),
        deleted_at=_str(graph_field(raw, "deletedDateTime")),
        event_type=_event_type(graph_field(raw, "eventDetail")),
    )


def _event_type(detail: Any) -> str | None:
    kind = graph_field(detail, "@odata.type")
    return kind if isinstance(kind, str) and kind else None


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
