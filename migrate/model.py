"""Typed records of both sides. Ids are distinct types so a Teams id is never passed where a
Slack id belongs (Zulip's `teams_user_id_to_slack_user_id` style). Records are built from the
store by the Graph adapter (migrate/export/records.py) and from Slack answers by the Slack
adapter; everything between the two adapters speaks only these."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, NewType

TeamsUserId = NewType("TeamsUserId", str)
TeamsTeamId = NewType("TeamsTeamId", str)
TeamsChannelId = NewType("TeamsChannelId", str)
TeamsMessageId = NewType("TeamsMessageId", str)
TeamsChatId = NewType("TeamsChatId", str)
SlackUserId = NewType("SlackUserId", str)
SlackChannelId = NewType("SlackChannelId", str)


@dataclass(frozen=True, slots=True)
class TeamsUser:
    id: TeamsUserId
    display_name: str
    mail: str | None = None
    user_principal_name: str | None = None
    other_mails: tuple[str, ...] = ()
    proxy_addresses: tuple[str, ...] = ()   # as Graph gives them: "SMTP:primary", "smtp:alias"
    user_type: str = "Member"               # Member | Guest
    account_enabled: bool = True

    @property
    def is_guest(self) -> bool:
        return self.user_type == "Guest"


@dataclass(frozen=True, slots=True)
class TeamsTeam:
    id: TeamsTeamId
    display_name: str
    description: str | None = None
    visibility: str | None = None
    is_archived: bool = False
    created_at: str | None = None


@dataclass(frozen=True, slots=True)
class TeamsMember:
    user_id: TeamsUserId
    display_name: str | None = None
    roles: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TeamsChannel:
    id: TeamsChannelId
    team_id: TeamsTeamId
    display_name: str
    description: str | None = None
    membership_type: str = "standard"       # standard | private | shared
    created_at: str | None = None
    is_archived: bool = False               # the channel alone archived (its team may not be)

    @property
    def is_private(self) -> bool:
        """Private and shared Teams channels become private Slack channels: their content only
        ever goes where just their members can read it."""
        return self.membership_type in ("private", "shared", "unknownFutureValue")


@dataclass(frozen=True, slots=True)
class TeamsChat:
    """A 1:1, group or meeting chat with its current members (a member who left is not one)."""

    id: TeamsChatId
    chat_type: str                          # oneOnOne | group | meeting
    topic: str | None = None
    created_at: str | None = None
    members: tuple[TeamsMember, ...] = ()


@dataclass(frozen=True, slots=True)
class TeamsIdentity:
    """Who or what a mention names: one identity of Graph's mentioned identity set."""

    kind: str                               # user | conversation | tag | application
    id: str | None = None
    display_name: str | None = None


@dataclass(frozen=True, slots=True)
class TeamsMention:
    """One entry of a message's `mentions`: the `<at id>` of the body it fills."""

    at_id: str                              # the `id` of its `<at>` element(s) in the body
    text: str | None = None                 # mentionText, as typed
    # What is mentioned, in the order the renderer asks (user, conversation, tag, application);
    # Graph sets one of them, the others are left out.
    mentioned: tuple[TeamsIdentity, ...] = ()


@dataclass(frozen=True, slots=True)
class TeamsReaction:
    reaction_type: str = ""                 # "like", "😍", "custom", …
    display_name: str | None = None         # the emoji's name ("Thumbs up"); a custom one's name
    user_id: str | None = None              # who reacted
    created_at: str | None = None


@dataclass(frozen=True, slots=True)
class TeamsAttachment:
    """One entry of a message's `attachments`: a file, a quoted or forwarded message, a card.
    Its `content` is content, like the body: kept as Graph gives it (a JSON string or object)
    for the renderer to read."""

    id: str | None = None
    content_type: str | None = None         # reference | messageReference | application/vnd… | …
    content_url: str | None = None
    name: str | None = None
    content: str | Mapping[str, Any] | None = field(default=None, hash=False)


@dataclass(frozen=True, slots=True)
class TeamsMessage:
    """A channel message, root or reply, with what the renderer (migrate/transform/content.py)
    reads of it. The Graph chatMessage itself is parsed once, by migrate/export/records.py, and
    not kept: the body (HTML or text) and the cards' payloads are the only source content left
    for the transform to convert."""

    id: TeamsMessageId
    channel_id: TeamsChannelId
    reply_to_id: TeamsMessageId | None      # the thread root's id; None for a root
    created_at: str | None                  # createdDateTime, as Graph gave it
    sender_user_id: TeamsUserId | None      # None when an app (or no one) sent it
    sender_name: str | None                 # the sending user's displayName, or else the app's
    sender_kind: str | None = None          # "user" | "application" (an app, no user) | None
    sender_app_id: str | None = None        # the sending app's id, when sender_kind is "application"
    message_type: str = "message"           # message | systemEventMessage | chatEvent | …
    body: str = ""                          # the body's content: HTML, or text
    body_type: str = "html"                 # html | text
    subject: str | None = None
    importance: str | None = None           # normal | high | urgent
    attachments: tuple[TeamsAttachment, ...] = ()
    mentions: tuple[TeamsMention, ...] = ()
    reactions: tuple[TeamsReaction, ...] = ()
    edited_at: str | None = None            # lastEditedDateTime
    deleted_at: str | None = None           # deletedDateTime
    event_type: str | None = None           # a system event's eventDetail @odata.type

    def as_root(self) -> TeamsMessage:
        """This reply as a thread of its own (for a reply whose root is not in the export)."""
        return replace(self, reply_to_id=None)


@dataclass(frozen=True, slots=True)
class SlackUser:
    id: SlackUserId
    name: str
    real_name: str | None = None
    display_name: str | None = None
    email: str | None = None
    deleted: bool = False
    is_bot: bool = False
    is_restricted: bool = False             # multi-channel guest
    is_ultra_restricted: bool = False       # single-channel guest
    image_72: str | None = None


@dataclass(frozen=True, slots=True)
class SlackChannel:
    id: SlackChannelId
    name: str
    is_private: bool = False
    is_archived: bool = False
    members: tuple[SlackUserId, ...] = field(default=())
