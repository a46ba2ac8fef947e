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
class TeamsMessage:
    """A channel message, root or reply. `raw` is the Graph chatMessage itself, for the
    renderer (migrate/transform/content.py) only; everything else reads the typed fields."""

    id: TeamsMessageId
    channel_id: TeamsChannelId
    reply_to_id: TeamsMessageId | None      # the thread root's id; None for a root
    created_at: str | None                  # createdDateTime, as Graph gave it
    sender_user_id: TeamsUserId | None      # None when an app (or no one) sent it
    sender_name: str | None                 # the sending user's displayName, or else the app's
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, hash=False)

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
