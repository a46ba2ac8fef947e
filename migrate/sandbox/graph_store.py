"""The Graph emulator's tenant state: indexes built once at load, lookups, and the mutations
of teams' channels, members and messages.

Sized for benchmark tenants (60,000+ messages in 400 channels): every lookup is a dict access
and every page a bisect into a sorted key list (graph_keys.py), never a scan of the tenant.
Stored message dicts are never changed in place — an edit stores a new dict — so a reader may
serialise what it took under the lock after releasing it (users and teams likewise). Users and
the teams' groups are the directory side (graph_directory.py), whose mutations are logged in
`changes` for the delta routes; channel and message mutations are not directory changes.
"""

from __future__ import annotations

import base64
import threading
import time
import uuid
from bisect import bisect_left, insort
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from migrate.sandbox.graph_changes import DirectoryLog
from migrate.sandbox.graph_directory import GraphDirectory
from migrate.sandbox.graph_keys import ModKey, ThreadKey, mod_key, thread_key
from migrate.sandbox.graph_odata import iso_from_millis, to_micros
from migrate.sandbox.tenant import DriveItem, GraphTenant, HostedContent, TeamsTeamData

Json = dict[str, Any]
MEMBER_TYPE = "#microsoft.graph.aadUserConversationMember"
# conversationMember.visibleHistoryStartDateTime of members who see the whole history
ALL_HISTORY = "0001-01-01T00:00:00Z"


@dataclass
class ChannelState:
    team_id: str
    channel: Json
    members: list[Json]
    messages: dict[str, Json] = field(default_factory=dict)   # roots and replies by id
    roots: list[ThreadKey] = field(default_factory=list)        # ascending
    replies: dict[str, list[ThreadKey]] = field(default_factory=dict)  # root id → ascending


@dataclass
class TeamState:
    team: Json
    members: list[Json]
    group: Json = field(default_factory=dict)    # overrides of the team's group fields
    channels: list[ChannelState] = field(default_factory=list)
    by_channel: dict[str, ChannelState] = field(default_factory=dict)
    all_keys: list[ModKey] = field(default_factory=list)        # ascending


class GraphStore(GraphDirectory):
    """The tenant's teams, channels, members and messages (and, from GraphDirectory, its users
    and groups), with their control operations."""

    def __init__(self, tenant: GraphTenant) -> None:
        self.tenant_id = tenant.tenant_id
        self.lock = threading.RLock()
        self._last_ms = 0
        # non-null collections of the user type read [] when the data lacks them
        self.users = [{"businessPhones": [], "otherMails": [], "proxyAddresses": [],
                       "imAddresses": [], **u} for u in tenant.users]
        self.users_by_id = {u["id"]: u for u in self.users}
        self.users_by_upn = {u["userPrincipalName"].lower(): u for u in self.users
                             if u.get("userPrincipalName")}
        # Changes to users and to the teams' groups, replayed by the delta routes (graph_delta.py).
        self.changes = DirectoryLog()
        self.domain = next((u["userPrincipalName"].split("@", 1)[1] for u in self.users
                            if "@" in (u.get("userPrincipalName") or "")),
                           "sandbox.onmicrosoft.com")
        self.teams: list[TeamState] = []
        self.teams_by_id: dict[str, TeamState] = {}
        for data in tenant.teams:
            self._load_team(data)
        self.hosted: dict[tuple[str, str], HostedContent] = {}
        self.hosted_by_message: dict[str, list[HostedContent]] = {}
        for h in tenant.hosted_contents:
            if h.chat_id is not None:   # a chat message's: served by graph_chats.ChatStore
                continue
            self.hosted[(h.message_id, h.id)] = h
            self.hosted_by_message.setdefault(h.message_id, []).append(h)
        self.drive_items: dict[tuple[str, str], DriveItem] = {}
        self.items_by_url: dict[str, DriveItem] = {}
        for item in tenant.drive_items:
            self.drive_items[(item.drive_id, item.id)] = item
            self.items_by_url[item.web_url] = item
            self.items_by_url.setdefault(unquote(item.web_url), item)

    def _load_team(self, data: TeamsTeamData) -> TeamState:
        team = {"isArchived": False, **data.team}
        if team["id"] in self.teams_by_id:
            raise ValueError(f"team {team['id']} already exists")
        state = TeamState(team, [self._member_defaults(team["id"], None, m) for m in data.members],
                          dict(data.group))
        self.teams.append(state)
        self.teams_by_id[team["id"]] = state
        for cdata in data.channels:
            ch = self._new_channel(state, cdata.channel, cdata.members)
            for raw in cdata.messages:
                msg = self._message_defaults(state.team["id"], ch.channel["id"], raw)
                ch.messages[msg["id"]] = msg
                if msg["replyToId"]:
                    ch.replies.setdefault(msg["replyToId"], []).append(thread_key(msg))
                else:
                    ch.roots.append(thread_key(msg))
                state.all_keys.append(mod_key(msg))
            ch.roots.sort()
            for keys in ch.replies.values():
                keys.sort()
        state.all_keys.sort()
        return state

    # ---- defaults ---------------------------------------------------------------------

    def _member_defaults(self, team_id: str, channel_id: str | None, member: Json) -> Json:
        out = {"@odata.type": MEMBER_TYPE, "roles": [], "displayName": None,
               "visibleHistoryStartDateTime": ALL_HISTORY, "userId": None, "email": None,
               "tenantId": self.tenant_id, **member}
        if not out.get("id"):
            # Opaque like Graph's membership ids, which clients must not parse
            # (https://learn.microsoft.com/graph/api/resources/conversationmember).
            raw = f"0#{team_id}#{channel_id or ''}#{out.get('userId') or uuid.uuid4()}"
            out["id"] = base64.b64encode(raw.encode()).decode()
        return out

    def _message_defaults(self, team_id: str, channel_id: str, raw: Json) -> Json:
        msg: Json = {
            "replyToId": None, "etag": None, "messageType": "message", "createdDateTime": None,
            "lastModifiedDateTime": None, "lastEditedDateTime": None, "deletedDateTime": None,
            "subject": None, "summary": None, "chatId": None, "importance": "normal",
            "locale": "en-us", "webUrl": None, "policyViolation": None, "eventDetail": None,
            "from": None, "body": {"contentType": "text", "content": ""}, "attachments": [],
            "mentions": [], "reactions": [], "messageHistory": [], **raw,
        }
        msg["channelIdentity"] = {"teamId": team_id, "channelId": channel_id}
        if msg["createdDateTime"] is None:
            # Message ids are creation instants in epoch ms in every observed payload (not a
            # contract: https://learn.microsoft.com/graph/api/resources/chatmessage).
            if not str(msg.get("id", "")).isdigit():
                raise ValueError(f"message {msg.get('id')!r} has no createdDateTime")
            msg["createdDateTime"] = iso_from_millis(int(msg["id"]))
        msg["id"] = str(msg["id"])
        if msg["lastModifiedDateTime"] is None:
            msg["lastModifiedDateTime"] = msg["createdDateTime"]
        if msg["etag"] is None and msg["lastModifiedDateTime"]:
            msg["etag"] = str(to_micros(msg["lastModifiedDateTime"]) // 1000)
        return msg

    def _new_channel(self, team: TeamState, channel: Json, members: list[Json]) -> ChannelState:
        cid = channel.get("id") or f"19:{uuid.uuid4().hex}@thread.tacv2"
        data = {"membershipType": "standard", "description": None, "isArchived": False,
                "tenantId": self.tenant_id, **channel, "id": cid}
        if data["id"] in team.by_channel:
            raise ValueError(f"channel {cid} already exists in team {team.team['id']}")
        ch = ChannelState(team.team["id"], data,
                          [self._member_defaults(team.team["id"], cid, m) for m in members])
        team.channels.append(ch)
        team.by_channel[cid] = ch
        return ch

    def _now_ms(self) -> int:
        """Strictly increasing wall-clock milliseconds: each change gets its own instant, so
        ids stay unique and a lastModifiedDateTime window never misses a change."""
        self._last_ms = max(int(time.time() * 1000), self._last_ms + 1)
        return self._last_ms

    # ---- lookups ------------------------------------------------------------------------

    def team(self, team_id: str) -> TeamState | None:
        return self.teams_by_id.get(team_id)

    def channel(self, team_id: str, channel_id: str) -> ChannelState | None:
        team = self.teams_by_id.get(team_id)
        return team.by_channel.get(channel_id) if team else None

    def primary_channel(self, team: TeamState) -> ChannelState | None:
        for ch in team.channels:
            if ch.channel.get("displayName") == "General":
                return ch
        return team.channels[0] if team.channels else None

    def channel_members(self, ch: ChannelState) -> list[Json]:
        """A standard channel without its own list has the team's members: a standard channel's
        membership is the team's (https://learn.microsoft.com/graph/api/channel-list-members)."""
        if ch.members or ch.channel.get("membershipType") != "standard":
            return ch.members
        return self.teams_by_id[ch.team_id].members

    # ---- mutations (control operations) ---------------------------------------------------

    def add_message(self, team_id: str, channel_id: str, message: Json) -> Json:
        with self.lock:
            team, ch = self._require(team_id, channel_id)
            now = self._now_ms()
            raw = dict(message)
            if raw.get("id") is None:
                mid = now
                while str(mid) in ch.messages:  # tenant data may already hold that instant
                    mid += 1
                raw["id"] = str(mid)
            elif str(raw["id"]) in ch.messages:
                raise ValueError(f"message {raw['id']} already exists in channel {channel_id}")
            raw["id"] = str(raw["id"])
            stamp = iso_from_millis(now)
            raw.setdefault("createdDateTime", stamp)
            raw["lastModifiedDateTime"] = stamp
            raw["etag"] = str(now)
            root = raw.get("replyToId")
            if root is not None and (root not in ch.messages or ch.messages[root]["replyToId"]):
                raise KeyError(f"no root message {root} in channel {channel_id}")
            msg = self._message_defaults(team_id, channel_id, raw)
            ch.messages[msg["id"]] = msg
            insort(ch.replies.setdefault(root, []) if root else ch.roots, thread_key(msg))
            insort(team.all_keys, mod_key(msg))
            return msg

    def edit_message(self, team_id: str, channel_id: str, message_id: str, changes: Json) -> Json:
        with self.lock:
            team, ch = self._require(team_id, channel_id)
            old = self._require_message(ch, message_id)
            fixed = {"id", "replyToId", "channelIdentity", "createdDateTime"} & changes.keys()
            if fixed:
                raise ValueError(f"cannot change {', '.join(sorted(fixed))}")
            now = self._now_ms()
            new = {**old, **changes, "lastModifiedDateTime": iso_from_millis(now), "etag": str(now)}
            # Reactions alone change lastModified/etag but not lastEdited
            # (https://learn.microsoft.com/graph/api/resources/chatmessagereaction).
            if "body" in changes and changes["body"] != old.get("body"):
                new["lastEditedDateTime"] = new["lastModifiedDateTime"]
            return self._replace(team, ch, old, new)

    def delete_message(self, team_id: str, channel_id: str, message_id: str) -> Json:
        with self.lock:
            team, ch = self._require(team_id, channel_id)
            old = self._require_message(ch, message_id)
            now = self._now_ms()
            stamp = iso_from_millis(now)
            # Teams soft-deletes: a deleted message stays listed with its body emptied
            # (https://learn.microsoft.com/graph/api/resources/chatmessage;
            # https://github.com/microsoftgraph/microsoft-graph-docs/issues/7094).
            body = {**(old.get("body") or {"contentType": "text"}), "content": ""}
            new = {**old, "deletedDateTime": stamp, "lastModifiedDateTime": stamp,
                   "etag": str(now), "body": body}
            return self._replace(team, ch, old, new)

    def _replace(self, team: TeamState, ch: ChannelState, old: Json, new: Json) -> Json:
        old_key = mod_key(old)
        idx = bisect_left(team.all_keys, old_key)
        if idx < len(team.all_keys) and team.all_keys[idx] == old_key:
            del team.all_keys[idx]
        insort(team.all_keys, mod_key(new))
        ch.messages[new["id"]] = new
        return new

    def add_channel(self, team_id: str, channel: Json, members: list[Json]) -> Json:
        with self.lock:
            team = self._require(team_id, None)[0]
            if not channel.get("displayName"):
                raise ValueError("a channel needs a displayName")
            data = {"createdDateTime": iso_from_millis(self._now_ms()), **channel}
            return self._new_channel(team, data, list(members)).channel

    def update_channel(self, team_id: str, channel_id: str, changes: Json) -> Json:
        """PATCH a channel (displayName, description): Graph allows it on non-general channels."""
        with self.lock:
            ch = self._require(team_id, channel_id)[1]
            fixed = {"id", "membershipType", "createdDateTime"} & changes.keys()
            if fixed:
                raise ValueError(f"cannot change {', '.join(sorted(fixed))}")
            ch.channel.update(changes)
            return ch.channel

    def add_member(self, team_id: str, member: Json, channel_id: str | None) -> Json:
        with self.lock:
            team, ch = self._require(team_id, channel_id)
            new = self._member_defaults(team_id, channel_id, member)
            if ch is not None:
                if not ch.members and ch.channel.get("membershipType") == "standard":
                    # The channel now has its own list: start it from the inherited one.
                    ch.members = list(team.members)
                ch.members.append(new)
            else:
                team.members.append(new)
                self._log_links(team_id, [new], added=True)
            return new

    def remove_member(self, team_id: str, user_id: str, channel_id: str | None = None) -> list[Json]:
        """Take a person out of a team (and so its group) or out of a channel's own list."""
        with self.lock:
            team, ch = self._require(team_id, channel_id)
            current = team.members if ch is None else ch.members
            gone = [m for m in current if m.get("userId") == user_id]
            if not gone:
                raise KeyError(f"no member {user_id} in {channel_id or team_id}")
            kept = [m for m in current if m.get("userId") != user_id]
            if ch is None:
                team.members = kept
                self._log_links(team_id, gone, added=False)
            else:
                ch.members = kept
            return gone


    def _require(self, team_id: str, channel_id: str | None
                 ) -> tuple[TeamState, ChannelState | None]:
        team = self.teams_by_id.get(team_id)
        if team is None:
            raise KeyError(f"no team {team_id}")
        if channel_id is None:
            return team, None
        ch = team.by_channel.get(channel_id)
        if ch is None:
            raise KeyError(f"no channel {channel_id} in team {team_id}")
        return team, ch

    @staticmethod
    def _require_message(ch: ChannelState | None, message_id: str) -> Json:
        msg = ch.messages.get(message_id) if ch else None
        if msg is None:
            raise KeyError(f"no message {message_id}")
        return msg
