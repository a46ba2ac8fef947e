"""What a Graph request is: its kind, the team/channel it touches, the limits that apply to it
and the application permission it needs. Used by the client's pacer and by its 403 messages.

Limits are per app per tenant (the Microsoft Teams service limits of
https://learn.microsoft.com/graph/throttling-limits): message reads ≤ 1 rps per channel,
≤ 4 rps per team (the "given team" cap, applied to every team-scoped call), 20 rps per tenant;
getAllMessages 200 rps per tenant. Permissions are the least privileged application
permissions in the permissions table of each API's page
(https://learn.microsoft.com/graph/api/<page>).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit


@dataclass(frozen=True)
class Route:
    kind: str
    team_id: str | None
    channel_id: str | None
    permission: str           # least privileged application permission (the API page's table)
    tenant_rate: float        # requests/s per app per tenant for this kind of call
    channel_rate: float = 0   # requests/s on one channel (0 = no per-channel cap)

    def scopes(self) -> list[tuple[str, float]]:
        """(bucket key, rate) pairs this request consumes, unscaled."""
        out = [(f"tenant:{self.kind_family}", self.tenant_rate)]
        if self.team_id:
            out.append((f"team:{self.team_id}", TEAM_RATE))
        if self.channel_id and self.channel_rate:
            out.append((f"channel:{self.channel_id}", self.channel_rate))
        return out

    @property
    def kind_family(self) -> str:
        if self.kind in MESSAGE_READS:
            return "messages"
        return DELTA_OF.get(self.kind, self.kind)


TEAM_RATE = 4.0
MESSAGE_READS = {"channel_messages", "message", "replies", "hosted_content", "chat_message_reads"}
# A delta query spends its collection's budget (directory limits are per app and tenant,
# https://learn.microsoft.com/graph/throttling-limits); the chats' export API
# (/users/{id}/chats/getAllMessages) is paced on the same getAllMessages budget as the teams'
# channels, 200 rps per app per tenant (Teams service limits, same page).
DELTA_OF = {"users_delta": "users", "groups_delta": "groups",
            "chat_all_messages": "all_messages"}

# (pattern on the path after the version segment, kind, permission, tenant rps, channel rps)
_TABLE: list[tuple[str, str, str, float, float]] = [
    # delta before /users/{id}; each needs what reading its collection needs
    # (https://learn.microsoft.com/graph/api/user-delta, …/group-delta)
    (r"^/users/(microsoft\.graph\.)?delta(\(\))?$", "users_delta", "User.Read.All", 30, 0),
    (r"^/groups/(microsoft\.graph\.)?delta(\(\))?$", "groups_delta", "GroupMember.Read.All", 30, 0),
    # Chats (https://learn.microsoft.com/graph/api/chats-getallmessages, …/chat-get,
    # …/chat-list-members, …/chat-list-messages): Chat.Read.All opens all of them.
    (r"^/users/[^/]+/chats/getAllMessages$", "chat_all_messages", "Chat.Read.All", 200, 0),
    (r"^/users/[^/]+/chats$", "chats", "Chat.ReadBasic.All", 30, 0),
    (r"^/chats/(?P<channel>[^/]+)(/members)?$", "chat", "Chat.Read.All", 30, 0),
    (r"^/chats/(?P<channel>[^/]+)/messages(/[^/]+(/hostedContents(/[^/]+(/\$value)?)?)?)?$",
     "chat_message_reads", "Chat.Read.All", 20, 1),
    (r"^/users(/[^/]+)?$", "users", "User.Read.All", 30, 0),
    (r"^/groups$", "groups", "GroupMember.Read.All", 30, 0),
    (r"^/teams$", "teams", "Team.ReadBasic.All", 30, 0),
    (r"^/teams/(?P<team>[^/]+)$", "team", "Team.ReadBasic.All", 30, 0),
    (r"^/teams/(?P<team>[^/]+)/members$", "team_members", "TeamMember.Read.All", 60, 0),
    (r"^/teams/(?P<team>[^/]+)/(channels|allChannels|primaryChannel)$", "channels",
     "Channel.ReadBasic.All", 60, 0),
    (r"^/teams/(?P<team>[^/]+)/channels/getAllMessages$", "all_messages", "ChannelMessage.Read.All",
     200, 0),
    (r"^/teams/(?P<team>[^/]+)/channels/(?P<channel>[^/]+)$", "channel", "Channel.ReadBasic.All", 30, 1),
    (r"^/teams/(?P<team>[^/]+)/channels/(?P<channel>[^/]+)/(members|allMembers)$", "channel_members",
     "ChannelMember.Read.All", 60, 1),
    (r"^/teams/(?P<team>[^/]+)/channels/(?P<channel>[^/]+)/messages$", "channel_messages",
     "ChannelMessage.Read.All", 20, 1),
    (r"^/teams/(?P<team>[^/]+)/channels/(?P<channel>[^/]+)/messages/[^/]+(/replies/[^/]+)?$",
     "message", "ChannelMessage.Read.All", 20, 1),
    (r"^/teams/(?P<team>[^/]+)/channels/(?P<channel>[^/]+)/messages/[^/]+/replies$", "replies",
     "ChannelMessage.Read.All", 20, 1),
    (r"^/teams/(?P<team>[^/]+)/channels/(?P<channel>[^/]+)/messages/[^/]+(/replies/[^/]+)?"
     r"/hostedContents(/[^/]+(/\$value)?)?$", "hosted_content", "ChannelMessage.Read.All", 20, 1),
    (r"^/teams/(?P<team>[^/]+)/channels/(?P<channel>[^/]+)/filesFolder$", "files_folder",
     "Files.Read.All", 30, 1),
    (r"^/shares/[^/]+/driveItem(/content)?$", "shares", "Files.ReadWrite.All", 30, 0),
    (r"^/drives/[^/]+/(items/[^/]+|root:.*:)(/content)?$", "drive_items", "Files.Read.All", 30, 0),
    (r"^/\$batch$", "batch", "", 0, 0),
]
# Graph's segments are case-insensitive (its own nextLinks say `getallMessages`).
_COMPILED = [(re.compile(p, re.IGNORECASE), kind, perm, rate, ch) for p, kind, perm, rate, ch in _TABLE]
# OData key syntax, as Graph writes it in nextLinks: /teams('id') is /teams/id.
_KEY_SEGMENT = re.compile(r"\('([^']*)'\)")


def _path_after_version(url: str) -> str:
    path = _KEY_SEGMENT.sub(r"/\1", unquote(urlsplit(url).path))
    # Drop everything up to the version segment: /v1.0/..., /beta/..., or a proxy prefix.
    match = re.search(r"/(v1\.0|beta)(/.*)$", path, re.IGNORECASE)
    return match.group(2) if match else path


def classify(url: str) -> Route:
    path = _path_after_version(url).rstrip("/") or "/"
    for pattern, kind, permission, rate, channel_rate in _COMPILED:
        match = pattern.match(path)
        if match:
            groups = match.groupdict()
            return Route(kind, groups.get("team"), groups.get("channel"), permission, rate,
                         channel_rate)
    # Any other Teams GET: "Other GET Teams calls" 30 rps per tenant
    # (https://learn.microsoft.com/graph/throttling-limits).
    return Route("other", None, None, "", 30, 0)
