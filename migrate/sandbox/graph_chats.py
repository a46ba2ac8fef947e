"""The Graph emulator's 1:1, group and meeting chats: state, keyset pages and mutations.

Kept beside graph_store.py and guarded by the same lock (`GraphStore.lock`). Like channel
messages, a stored chat, member or message dict is never changed in place (an edit stores a new
dict), so a reader may serialise what it took under the lock after releasing it.

Membership is the chat's CURRENT members (https://learn.microsoft.com/graph/api/chat-list-members):
`GET /users/{id}/chats` and `…/chats/getAllMessages` follow it, so someone who left a chat no
longer sees it, while the messages they wrote stay in the chat for the others. Routes and query
options are in graph_chat_resources.py.
"""

from __future__ import annotations

import base64
import heapq
import uuid
from bisect import bisect_left, insort
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from migrate.sandbox.graph_keys import ModKey, ThreadKey, modified_span
from migrate.sandbox.graph_odata import iso_from_millis, to_micros
from migrate.sandbox.graph_store import ALL_HISTORY, MEMBER_TYPE, GraphStore
from migrate.sandbox.tenant import GraphTenant, HostedContent, TeamsChatData

Json = dict[str, Any]
CHAT_TYPES = ("oneOnOne", "group", "meeting")


@dataclass
class ChatState:
    chat: Json
    members: list[Json]
    messages: dict[str, Json] = field(default_factory=dict)
    # (lastModifiedDateTime µs, chat id, message id), ascending: getAllMessages and the default
    # order of /chats/{id}/messages; (createdDateTime µs, id), ascending: `$orderby=createdDateTime`
    modified: list[ModKey] = field(default_factory=list)
    created: list[ThreadKey] = field(default_factory=list)


def _mod_key(msg: Json) -> ModKey:
    return (to_micros(msg["lastModifiedDateTime"]), msg["chatId"], msg["id"])


def _created_key(msg: Json) -> ThreadKey:
    return (to_micros(msg["createdDateTime"]), msg["id"])


def _identity(user_id: str | None, tenant_id: str, name: str | None = None) -> Json:
    return {"@odata.type": "#microsoft.graph.teamworkUserIdentity", "id": user_id,
            "displayName": name, "userIdentityType": "aadUser", "tenantId": tenant_id}


class ChatStore:
    def __init__(self, store: GraphStore, tenant: GraphTenant) -> None:
        self.store = store
        self.lock = store.lock
        self.tenant_id = tenant.tenant_id
        self.chats: list[ChatState] = []
        self.by_id: dict[str, ChatState] = {}
        self.by_user: dict[str, dict[str, None]] = {}   # user id → chat ids (ordered set)
        self.hosted: dict[tuple[str, str, str], HostedContent] = {}
        self.hosted_by_message: dict[tuple[str, str], list[HostedContent]] = {}
        for data in tenant.chats:
            self._load_chat(data)
        for h in tenant.hosted_contents:
            if h.chat_id is not None:
                self.hosted[(h.chat_id, h.message_id, h.id)] = h
                self.hosted_by_message.setdefault((h.chat_id, h.message_id), []).append(h)

    # ---- loading and defaults ---------------------------------------------------------------

    def _load_chat(self, data: TeamsChatData) -> ChatState:
        chat = self._chat_defaults(data.chat, data.members)
        if chat["id"] in self.by_id:
            raise ValueError(f"chat {chat['id']} already exists")
        state = ChatState(chat, [self._member_defaults(chat["id"], m) for m in data.members])
        self.chats.append(state)
        self.by_id[chat["id"]] = state
        for m in state.members:
            if m.get("userId"):
                self.by_user.setdefault(m["userId"], {})[chat["id"]] = None
        for raw in data.messages:
            msg = self._message_defaults(chat["id"], raw)
            if msg["id"] in state.messages:
                raise ValueError(f"message {msg['id']} twice in chat {chat['id']}")
            state.messages[msg["id"]] = msg
            state.modified.append(_mod_key(msg))
            state.created.append(_created_key(msg))
        state.modified.sort()
        state.created.sort()
        return state

    def _chat_defaults(self, chat: Json, members: list[Json]) -> Json:
        out = {"topic": None, "chatType": "group", "createdDateTime": None,
               "lastUpdatedDateTime": None, "webUrl": None, "tenantId": self.tenant_id,
               "onlineMeetingInfo": None, "isHiddenForAllMembers": False, **chat}
        if out["chatType"] not in CHAT_TYPES:
            raise ValueError(f"chatType {out['chatType']!r} is not one of {', '.join(CHAT_TYPES)}")
        if not out.get("id"):
            users = sorted(m["userId"] for m in members if m.get("userId"))
            # 1:1 chat ids join the two user ids; others are thread ids
            # (https://learn.microsoft.com/graph/api/resources/chat)
            out["id"] = (f"19:{users[0]}_{users[1]}@unq.gbl.spaces"
                         if out["chatType"] == "oneOnOne" and len(users) == 2
                         else f"19:{uuid.uuid4().hex}@thread.v2")
        if out["lastUpdatedDateTime"] is None:
            out["lastUpdatedDateTime"] = out["createdDateTime"]
        if out["webUrl"] is None:
            out["webUrl"] = (f"https://teams.microsoft.com/l/chat/{out['id']}/0"
                             f"?tenantId={self.tenant_id}")
        return out

    def _member_defaults(self, chat_id: str, member: Json) -> Json:
        # chat members read roles ["owner"] (guests ["guest"]) in the examples of
        # https://learn.microsoft.com/graph/api/chat-list-members
        out = {"@odata.type": MEMBER_TYPE, "roles": ["owner"], "displayName": None,
               "visibleHistoryStartDateTime": ALL_HISTORY, "userId": None, "email": None,
               "tenantId": self.tenant_id, **member}
        if not out.get("id"):
            # opaque, as membership ids are (https://learn.microsoft.com/graph/api/chat-list-members)
            raw = f"{out.get('userId') or uuid.uuid4()}##{chat_id}"
            out["id"] = base64.b64encode(raw.encode()).decode()
        return out

    def _message_defaults(self, chat_id: str, raw: Json) -> Json:
        # The channel defaults, then what a chat message differs in: chatId set, no channel, no
        # thread (https://learn.microsoft.com/graph/api/resources/chatmessage).
        msg = self.store._message_defaults("", "", raw)
        msg.update(chatId=chat_id, channelIdentity=None, replyToId=None)
        return msg

    # ---- lookups ------------------------------------------------------------------------

    def chat(self, chat_id: str) -> ChatState | None:
        return self.by_id.get(chat_id)

    def user_chats(self, user_id: str) -> list[ChatState]:
        """The chats `user_id` is a current member of, in the order they were loaded or made."""
        return [self.by_id[c] for c in self.by_user.get(user_id, {})]

    def all_messages_page(self, user_id: str, top: int, lo: int | None, hi: int | None,
                          after: ModKey | None, keep: Callable[[Json], bool] | None
                          ) -> tuple[list[ModKey], ModKey | None]:
        """One page of the user's getAllMessages: every chat's keys in the window, merged in
        (lastModified, chat, id) order; `keep` filters before paging, so pages stay full."""
        streams: list[Iterator[ModKey]] = []
        for state in self.user_chats(user_id):
            start, end = modified_span(state.modified, lo, hi, after)
            streams.append(_slice(state.modified, start, end))
        merged: Iterable[ModKey] = heapq.merge(*streams)
        if keep is not None:
            merged = (k for k in merged if keep(self.by_id[k[1]].messages[k[2]]))
        page = []
        for key in merged:
            if len(page) == top:
                return page, page[-1]   # one more exists: the page ends here
            page.append(key)
        return page, None

    # ---- mutations (control operations) ---------------------------------------------------

    def add_chat(self, chat: Json, members: list[Json], messages: list[Json]) -> Json:
        with self.lock:
            stamp = iso_from_millis(self.store._now_ms())
            data = {"createdDateTime": stamp, **chat}
            return self._load_chat(TeamsChatData(data, list(members), list(messages))).chat

    def add_message(self, chat_id: str, message: Json) -> Json:
        with self.lock:
            state = self._require(chat_id)
            now = self.store._now_ms()
            raw = dict(message)
            if raw.get("id") is None:
                mid = now
                while str(mid) in state.messages:   # tenant data may already hold that instant
                    mid += 1
                raw["id"] = str(mid)
            elif str(raw["id"]) in state.messages:
                raise ValueError(f"message {raw['id']} already exists in chat {chat_id}")
            raw["id"] = str(raw["id"])
            stamp = iso_from_millis(now)
            raw.setdefault("createdDateTime", stamp)
            raw["lastModifiedDateTime"] = stamp
            raw["etag"] = str(now)
            msg = self._message_defaults(chat_id, raw)
            state.messages[msg["id"]] = msg
            insort(state.modified, _mod_key(msg))
            insort(state.created, _created_key(msg))
            return msg

    def edit_message(self, chat_id: str, message_id: str, changes: Json) -> Json:
        with self.lock:
            state = self._require(chat_id)
            old = self._require_message(state, message_id)
            fixed = {"id", "chatId", "replyToId", "channelIdentity", "createdDateTime"} & changes.keys()
            if fixed:
                raise ValueError(f"cannot change {', '.join(sorted(fixed))}")
            now = self.store._now_ms()
            new = {**old, **changes, "lastModifiedDateTime": iso_from_millis(now), "etag": str(now)}
            # Reactions alone move lastModified/etag but not lastEdited
            # (https://learn.microsoft.com/graph/api/resources/chatmessagereaction).
            if "body" in changes and changes["body"] != old.get("body"):
                new["lastEditedDateTime"] = new["lastModifiedDateTime"]
            return self._replace(state, old, new)

    def delete_message(self, chat_id: str, message_id: str) -> Json:
        with self.lock:
            state = self._require(chat_id)
            old = self._require_message(state, message_id)
            now = self.store._now_ms()
            stamp = iso_from_millis(now)
            # Soft delete as in channels: still listed, body emptied, deletedDateTime set
            # (https://learn.microsoft.com/graph/api/resources/chatmessage).
            body = {**(old.get("body") or {"contentType": "text"}), "content": ""}
            new = {**old, "deletedDateTime": stamp, "lastModifiedDateTime": stamp,
                   "etag": str(now), "body": body}
            return self._replace(state, old, new)

    def _replace(self, state: ChatState, old: Json, new: Json) -> Json:
        old_key = _mod_key(old)
        idx = bisect_left(state.modified, old_key)
        if idx < len(state.modified) and state.modified[idx] == old_key:
            del state.modified[idx]
        insort(state.modified, _mod_key(new))
        state.messages[new["id"]] = new
        return new

    def add_member(self, chat_id: str, member: Json, *, event: bool = True) -> Json:
        """Add someone to a chat; with `event`, the chat gets the system message Teams posts
        (https://learn.microsoft.com/graph/api/resources/eventmessagedetail)."""
        with self.lock:
            state = self._require(chat_id)
            new = self._member_defaults(chat_id, member)
            user_id = new.get("userId")
            if user_id and any(m.get("userId") == user_id for m in state.members):
                raise ValueError(f"user {user_id} is already a member of chat {chat_id}")
            state.members = [*state.members, new]
            if user_id:
                self.by_user.setdefault(user_id, {})[chat_id] = None
            self._members_changed(state, "membersAddedEventMessageDetail", [new], event)
            return new

    def remove_member(self, chat_id: str, user_id: str, *, event: bool = True) -> list[Json]:
        """Take someone out of a chat: they stop seeing it; their messages stay. With `event`,
        the chat gets a membersDeletedEventMessageDetail system message."""
        with self.lock:
            state = self._require(chat_id)
            gone = [m for m in state.members if m.get("userId") == user_id]
            if not gone:
                raise KeyError(f"no member {user_id} in chat {chat_id}")
            state.members = [m for m in state.members if m.get("userId") != user_id]
            self.by_user.get(user_id, {}).pop(chat_id, None)
            self._members_changed(state, "membersDeletedEventMessageDetail", gone, event)
            return gone

    def _members_changed(self, state: ChatState, detail: str, members: list[Json],
                         event: bool) -> None:
        # lastUpdatedDateTime moves when the chat is renamed or its members change
        # (https://learn.microsoft.com/graph/api/resources/chat)
        stamp = iso_from_millis(self.store._now_ms())
        state.chat = {**state.chat, "lastUpdatedDateTime": stamp}
        if not event:
            return
        identities = [_identity(m.get("userId"), m.get("tenantId") or self.tenant_id)
                      for m in members]
        details: Json = {"@odata.type": f"#microsoft.graph.{detail}", "members": identities,
                         "initiator": None}
        if detail == "membersAddedEventMessageDetail":
            details["visibleHistoryStartDateTime"] = members[0].get("visibleHistoryStartDateTime")
        self.add_message(state.chat["id"], {
            "messageType": "systemEventMessage", "from": None, "eventDetail": details,
            "body": {"contentType": "html", "content": "<systemEventMessage/>"}})

    def _require(self, chat_id: str) -> ChatState:
        state = self.by_id.get(chat_id)
        if state is None:
            raise KeyError(f"no chat {chat_id}")
        return state

    @staticmethod
    def _require_message(state: ChatState, message_id: str) -> Json:
        msg = state.messages.get(message_id)
        if msg is None:
            raise KeyError(f"no message {message_id} in chat {state.chat['id']}")
        return msg


def _slice(keys: list[ModKey], start: int, end: int) -> Iterator[ModKey]:
    # by index, not itertools.islice: a deep start must not walk the keys before it
    return (keys[i] for i in range(start, end))
