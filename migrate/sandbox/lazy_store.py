"""The Graph emulator's view of a `LazyTenant` (lazy_tenant.py): stores shaped like GraphStore
and ChatStore whose big parts are computed on access, so the existing route handlers
(graph_resources.py, graph_chat_resources.py) serve them as they are.

* Users, team and channel members: sequences that build the requested slice only.
* Teams and channels: real `TeamState`/`ChannelState` objects (a few thousand at N = 10M),
  with lazy member lists; a channel's `messages` is a mapping that finds a message by id
  (its createdDateTime ms) by binary search over the team's sequence.
* Chats: `ChatState`s built per request (a small cache), whose `messages`, `modified` and
  `created` are lazy over the chat's sequence (created order = modified order there), so the
  chats' list, get, members, messages and getAllMessages handlers work unchanged.
* Hosted contents and drive items: mappings that parse the id and check the message has it.

The routes the stores cannot answer through the existing handlers are replaced in lazy_routes.py
(the team's getAllMessages, the directory delta rounds, per-channel message lists).

Read-only: the control operations that change the tenant (messages, channels, members, users,
teams, chats) answer 400 in lazy mode.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

from migrate.sandbox.graph_changes import DirectoryLog
from migrate.sandbox.graph_chats import ChatState, ChatStore
from migrate.sandbox.graph_directory import GraphDirectory
from migrate.sandbox.graph_odata import iso_from_millis
from migrate.sandbox.graph_store import ChannelState, GraphStore, TeamState
from migrate.sandbox.lazy_tenant import TINY_PNG, LazyChannel, LazyTeam, LazyTenant
from migrate.sandbox.tenant import DriveItem, HostedContent

Json = dict[str, Any]
READ_ONLY = "the generated (lazy) tenant is read-only: changes are not supported in --synthetic mode"


class LazySeq(Sequence):
    """A sequence of `length` items, item i = make(i); slices are built item by item."""

    def __init__(self, length: int, make: Any) -> None:
        self._length = length
        self._make = make

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self._make(i) for i in range(*index.indices(self._length))]
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError(index)
        return self._make(index)

    def __bool__(self) -> bool:
        return self._length > 0


class _Lookup(Mapping):
    """A read-only mapping backed by a function (None = absent); not iterable (too big)."""

    def __init__(self, find: Any) -> None:
        self._find = find

    def __getitem__(self, key: Any) -> Any:
        value = self._find(key)
        if value is None:
            raise KeyError(key)
        return value

    def get(self, key: Any, default: Any = None) -> Any:
        value = self._find(key)
        return default if value is None else value

    def __contains__(self, key: object) -> bool:
        return self._find(key) is not None

    def __iter__(self) -> Iterator[Any]:
        raise TypeError("a lazily generated collection cannot be iterated")

    def __len__(self) -> int:
        raise TypeError("a lazily generated collection has no cheap length")


class LazyStore:
    """What the Graph handlers read from `app.store`, computed from a LazyTenant."""

    def __init__(self, tenant: LazyTenant) -> None:
        self.gen = tenant
        self.tenant_id = tenant.tenant_id
        self.lock = threading.RLock()
        self.changes = DirectoryLog()        # no change is ever logged: delta rounds are empty
        self.domain = "example.test"
        self.users = LazySeq(tenant.users_count, tenant.user)
        self.teams: list[TeamState] = []
        self.teams_by_id: dict[str, TeamState] = {}
        self.lazy_team: dict[str, LazyTeam] = {}
        for team in tenant.teams:
            state = TeamState(self._team_json(team), self._team_members(team))
            for lc in team.channels:
                ch = ChannelState(team.id, self._channel_json(team, lc), self._channel_members(lc))
                ch.messages = _Lookup(lambda mid, t=team, c=lc: self._channel_message(t, c, mid))
                state.channels.append(ch)
                state.by_channel[lc.id] = ch
            self.teams.append(state)
            self.teams_by_id[team.id] = state
            self.lazy_team[team.id] = team
        self.hosted = _Lookup(self._hosted)
        self.hosted_by_message = _Lookup(lambda mid: None)
        self.drive_items = _Lookup(self._drive_item_by_id)
        self.items_by_url = _Lookup(self._drive_item_by_url)

    # ---- objects --------------------------------------------------------------------------

    def _team_json(self, team: LazyTeam) -> Json:
        internal = f"19:{team.id.replace('-', '')}@thread.tacv2"
        return {"id": team.id, "displayName": team.name, "description": f"{team.name} (generated)",
                "visibility": "private" if team.index % 5 == 4 else "public", "isArchived": False,
                "createdDateTime": _iso(team.created_ms), "internalId": internal,
                "webUrl": f"https://teams.microsoft.com/l/team/{internal}/conversations"
                          f"?groupId={team.id}&tenantId={self.tenant_id}",
                "tenantId": self.tenant_id, "specialization": "none", "classification": None,
                "summary": None}

    def _channel_json(self, team: LazyTeam, ch: LazyChannel) -> Json:
        return {"id": ch.id, "displayName": ch.name, "description": None,
                "membershipType": ch.membership, "createdDateTime": _iso(team.created_ms),
                "email": None, "webUrl": None, "isFavoriteByDefault": None, "isArchived": False,
                "tenantId": self.tenant_id, "layoutType": "post"}

    def _team_members(self, team: LazyTeam) -> LazySeq:
        return LazySeq(len(team.members), lambda j: self.gen.member(
            team.members[j], f"{team.id}#", j < team.owners))

    def _channel_members(self, ch: LazyChannel) -> LazySeq | list:
        if ch.membership == "standard":
            return []       # the team's members apply (GraphStore.channel_members)
        team = self.gen.teams[ch.team]
        return LazySeq(ch.member_count, lambda j: self.gen.member(
            team.members[(ch.member_start + j) % len(team.members)], f"{team.id}#{ch.id}", j == 0))

    def _channel_message(self, team: LazyTeam, ch: LazyChannel, mid: Any) -> Json | None:
        i = self.gen.team_message_index(team, str(mid))
        if i is None:
            return None
        found, msg = self.gen.message_at(team, i)
        return msg if found is ch else None

    def _hosted(self, key: Any) -> HostedContent | None:
        message_id, hosted_id = key
        parsed = self.gen.parse_hosted_id(str(hosted_id))
        if parsed is None or not 0 <= parsed[0] < len(self.gen.teams):
            return None
        team = self.gen.teams[parsed[0]]
        i = parsed[1]
        if not (0 <= i < team.count and self.gen.has_image(team, i)
                and str(self.gen._team_dates(team, i)[0]) == str(message_id)):
            return None
        return HostedContent(str(message_id), str(hosted_id), "image/png", TINY_PNG)

    def _drive_item(self, t: int, i: int) -> DriveItem | None:
        if not 0 <= t < len(self.gen.teams):
            return None
        team = self.gen.teams[t]
        if not (0 <= i < team.count and self.gen.has_file(team, i)):
            return None
        return DriveItem(f"b!synthetic-{t}", f"item-{i}", f"report-{t}-{i}.docx",
                         self.gen.file_url(t, i), "application/vnd.openxmlformats-"
                         "officedocument.wordprocessingml.document", self.gen.file_bytes(t, i))

    def _drive_item_by_id(self, key: Any) -> DriveItem | None:
        drive, item = key
        try:
            return self._drive_item(int(str(drive).removeprefix("b!synthetic-")),
                                    int(str(item).removeprefix("item-")))
        except ValueError:
            return None

    def _drive_item_by_url(self, url: Any) -> DriveItem | None:
        name = unquote(str(url)).rsplit("/", 1)[-1]
        if not (name.startswith("report-") and name.endswith(".docx")):
            return None
        try:
            t, i = (int(x) for x in name[len("report-"):-len(".docx")].split("-"))
        except ValueError:
            return None
        item = self._drive_item(t, i)
        return item if item is not None and unquote(item.web_url) == unquote(str(url)) else None

    # ---- lookups (as GraphStore) ------------------------------------------------------------

    def team(self, team_id: str) -> TeamState | None:
        return self.teams_by_id.get(team_id)

    def channel(self, team_id: str, channel_id: str) -> ChannelState | None:
        team = self.teams_by_id.get(team_id)
        return team.by_channel.get(channel_id) if team else None

    primary_channel = GraphStore.primary_channel
    channel_members = GraphStore.channel_members
    group_json = GraphDirectory.group_json
    group_links = staticmethod(GraphDirectory.group_links)

    def user(self, key: str) -> Json | None:
        i = self.gen.user_index(key)
        return self.gen.user(i) if i is not None else None

    # ---- no changes --------------------------------------------------------------------------

    def __getattr__(self, name: str) -> Any:
        if name.startswith(("add_", "edit_", "delete_", "update_", "remove_")):
            def refuse(*args: Any, **kwargs: Any) -> Any:
                raise ValueError(READ_ONLY)
            return refuse
        raise AttributeError(name)


class LazyChatStore:
    """What the chat handlers read from `app.chats`: ChatStates built on demand."""

    def __init__(self, store: LazyStore) -> None:
        self.store = store
        self.gen = store.gen
        self.lock = store.lock
        self.tenant_id = store.tenant_id
        self.by_id = _Lookup(self.chat)
        self.hosted: dict = {}               # no inline images in generated chats
        self.hosted_by_message: dict = {}
        self._state = lru_cache(maxsize=2048)(self._make_state)

    def chat(self, chat_id: Any) -> ChatState | None:
        k = self.gen.chat_index(str(chat_id))
        return self._state(k) if k is not None else None

    def user_chats(self, user_id: str) -> list[ChatState]:
        u = self.gen.user_index(user_id)
        return [self._state(k) for k in self.gen.user_chat_list(u)] if u is not None else []

    all_messages_page = ChatStore.all_messages_page

    def _make_state(self, k: int) -> ChatState:
        gen = self.gen
        chat = gen.chat_json(k)
        cid = chat["id"]
        n = gen.chat_count[k]
        state = ChatState(chat, gen.chat_member_list(k))
        # modified and created orders are the same in a generated chat: index order
        state.modified = LazySeq(n, lambda j: (gen.chat_dates(k, j)[1] * 1000, cid,
                                               str(gen.chat_dates(k, j)[0])))
        state.created = LazySeq(n, lambda j: (gen.chat_dates(k, j)[0] * 1000,
                                              str(gen.chat_dates(k, j)[0])))
        state.messages = _Lookup(lambda mid: self._message(k, cid, mid))
        return state

    def _message(self, k: int, cid: str, mid: Any) -> Json | None:
        if not str(mid).isdigit():
            return None
        n = self.gen.chat_count[k]
        want = int(mid)
        j = _bisect(n, want, lambda x: self.gen.chat_dates(k, x)[0])
        if j < n and self.gen.chat_dates(k, j)[0] == want:
            return self.gen.chat_message(k, j, cid)
        return None

    def __getattr__(self, name: str) -> Any:
        if name.startswith(("add_", "edit_", "delete_", "remove_")):
            def refuse(*args: Any, **kwargs: Any) -> Any:
                raise ValueError(READ_ONLY)
            return refuse
        raise AttributeError(name)


def _bisect(n: int, want: int, key: Any) -> int:
    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi) // 2
        if key(mid) < want:
            lo = mid + 1
        else:
            hi = mid
    return lo


_iso = iso_from_millis
