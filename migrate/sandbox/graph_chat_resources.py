"""Graph routes of 1:1, group and meeting chats: one function per route, `(app, call) -> Reply`.

State is in graph_chats.py; these handlers share the paging, enum and error helpers of
graph_resources.py, and graph_routes.py splices CHAT_ROUTES and CHAT_PERMISSIONS into its
tables (so $batch, throttling, counting and 403s work as for every other route). Pages
referred to below are under https://learn.microsoft.com/graph/ (api/chat-list is
https://learn.microsoft.com/graph/api/chat-list, and so on):

* `GET /users/{id | upn}/chats` (api/chat-list): the user's current chats; `$top` ≤ 50,
  `$filter=chatType eq '…'`, `$expand=members` (at most 25 members: the page's known issue) or
  `lastMessagePreview`. Order: chat creation (undocumented, emulator choice).
* `GET /chats/{id}` (api/chat-get), `/chats/{id}/members` (api/chat-list-members): no query
  options, as both pages say.
* `GET /chats/{id}/messages` (api/chat-list-messages): `$top` ≤ 50, newest first by
  lastModifiedDateTime (the default `$orderby`) or `$orderby=createdDateTime desc`; `$filter` on
  the same property (lastModifiedDateTime gt/lt, createdDateTime lt) is honoured only with that
  `$orderby`, otherwise ignored, as the page says. One message, hosted contents and `$value`.
* `GET /users/{id | upn}/chats/getAllMessages` (api/chats-getallmessages): every message of
  every chat the user is a member of now, ordered like the channels' getAllMessages (oldest
  modification first, keyset pages). A group chat's message therefore comes back once per
  member asked about. `$filter`: a lastModifiedDateTime range, and/or sender terms
  (`from/user/id eq`, `from/user/userIdentityType eq`, `from/application/applicationIdentityType
  eq`, `messageType eq|ne`) joined by `or` inside `and (…)`.

Not emulated: `/me/chats`, `/users/{id}/chats/{id}/…` aliases, `$orderby` on chats, chat
message delta, `visibleHistoryStartDateTime` hiding older messages from a late joiner.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from migrate.sandbox.graph_chats import ChatState
from migrate.sandbox.graph_odata import (
    GraphError,
    bad_request,
    check_options,
    message_top,
    not_found,
    parse_modified_filter,
    to_micros,
)
from migrate.sandbox.graph_resources import (
    Call,
    Reply,
    _collection,
    _cursor,
    _entity,
    _message_out,
    _next_link,
    _offset_page,
)

if TYPE_CHECKING:
    from migrate.sandbox.graph_emulator import GraphEmulator

Json = dict[str, Any]
# `$expand=members` returns at most 25 members per chat, whatever $top says (known issue of
# https://learn.microsoft.com/graph/api/chat-list)
EXPAND_MEMBERS_MAX = 25


# ---- lookups that 404 like Graph -------------------------------------------------------------

def _user_id(app: GraphEmulator, call: Call) -> str:
    user = app.store.user(call.params["user"])
    if user is None:  # the answer of GET /users/{id} (graph_resources.get_user)
        raise GraphError(404, "Request_ResourceNotFound",
                         f"Resource '{call.params['user']}' does not exist or one of its queried "
                         "reference-property objects are not present.")
    return user["id"]


def _chat(app: GraphEmulator, call: Call) -> ChatState:
    state = app.chats.chat(call.params["chat"])
    if state is None:
        raise not_found(f"Chat {call.params['chat']} not found")
    return state


def _message(state: ChatState, message_id: str) -> Json:
    msg = state.messages.get(message_id)
    if msg is None:
        raise not_found(f"Message {message_id} not found")
    return msg


def _key_cursor(app: GraphEmulator, call: Call) -> tuple | None:
    cursor = _cursor(app, call)
    return tuple(cursor) if cursor is not None else None


# ---- chats and members -------------------------------------------------------------------------

_CHAT_TYPE_FILTER = re.compile(r"\s*chatType\s+eq\s+'(\w+)'\s*")


def list_user_chats(app: GraphEmulator, call: Call) -> Reply:
    check_options(call.query, {"$top", "$expand", "$filter", "$skiptoken"})
    top = message_top(call.query)   # "Maximum allowed $top value is 50" (api/chat-list)
    expand = {e.strip() for e in call.query.get("$expand", "").split(",") if e.strip()}
    unknown = expand - {"members", "lastMessagePreview"}
    if unknown:
        raise bad_request(f"Could not find a property named '{sorted(unknown)[0]}' on type "
                          "'microsoft.graph.chat'.")
    wanted = None
    if "$filter" in call.query:
        m = _CHAT_TYPE_FILTER.fullmatch(call.query["$filter"])
        if not m:
            raise bad_request("Invalid $filter query.")
        wanted = m.group(1)
    with app.store.lock:
        chats = [c for c in app.chats.user_chats(_user_id(app, call))
                 if wanted is None or c.chat["chatType"] == wanted]
        page, link = _offset_page(app, call, chats, top)
        items = [_chat_out(c, expand, call.prefers_unknown_enums()) for c in page]
    return _collection(call, "chats", items, link)


def _chat_out(state: ChatState, expand: set[str], prefer: bool) -> Json:
    out = dict(state.chat)
    if "members" in expand:
        out["members"] = state.members[:EXPAND_MEMBERS_MAX]
    if "lastMessagePreview" in expand:
        out["lastMessagePreview"] = _preview(state, prefer)
    return out


def _preview(state: ChatState, prefer: bool) -> Json | None:
    """chatMessageInfo of the newest message (api/resources/chatmessageinfo)."""
    if not state.created:
        return None
    msg = _message_out(state.messages[state.created[-1][1]], prefer)
    return {"id": msg["id"], "createdDateTime": msg["createdDateTime"],
            "isDeleted": msg["deletedDateTime"] is not None, "messageType": msg["messageType"],
            "eventDetail": msg["eventDetail"], "body": msg["body"], "from": msg["from"]}


def get_chat(app: GraphEmulator, call: Call) -> Reply:
    check_options(call.query, set())
    with app.store.lock:
        chat = _chat(app, call).chat
    return _entity(call, "chats", chat)


def list_chat_members(app: GraphEmulator, call: Call) -> Reply:
    check_options(call.query, set())
    with app.store.lock:
        members = list(_chat(app, call).members)
    return _collection(call, f"chats('{call.params['chat']}')/members", members, None)


# ---- chat messages -------------------------------------------------------------------------------

_ORDERS = {"lastmodifieddatetime desc": "lastModifiedDateTime",
           "createddatetime desc": "createdDateTime"}


def list_chat_messages(app: GraphEmulator, call: Call) -> Reply:
    check_options(call.query, {"$top", "$orderby", "$filter", "$skiptoken"})
    top = message_top(call.query)
    raw_order = re.sub(r"\s+", " ", call.query.get("$orderby", "lastModifiedDateTime desc"))
    order = _ORDERS.get(raw_order.strip().lower())
    if order is None:  # "Ascending order is currently not supported" (api/chat-list-messages)
        raise bad_request(f"The $orderby '{call.query['$orderby']}' is not supported.")
    lo, hi = _messages_filter(call.query, order)
    prefer = call.prefers_unknown_enums()
    with app.store.lock:
        state = _chat(app, call)
        keys = state.modified if order == "lastModifiedDateTime" else state.created
        page, before = _newest_page(keys, top, lo, hi, _key_cursor(app, call))
        items = [_message_out(state.messages[k[-1]], prefer) for k in page]
    link = _next_link(app, call, list(before)) if before else None
    return _collection(call, f"chats('{call.params['chat']}')/messages", items, link)


def _messages_filter(query: dict[str, str], order: str) -> tuple[int | None, int | None]:
    """The date range of `$filter`, which "only" applies when `$orderby` names the same
    property and is ignored otherwise (api/chat-list-messages); createdDateTime takes lt."""
    flt = query.get("$filter")
    if flt is None or "$orderby" not in query or order.lower() not in flt.lower():
        return None, None
    if order == "lastModifiedDateTime":
        return parse_modified_filter(flt)
    m = re.fullmatch(r"\s*createdDateTime\s+lt\s+(\S+)\s*", flt, flags=re.IGNORECASE)
    if not m:
        raise bad_request("Invalid $filter query.")
    try:
        return None, to_micros(m.group(1)) - 1
    except ValueError:
        raise bad_request(f"The DateTimeOffset text '{m.group(1)}' is not valid.") from None


def _newest_page(keys: list, top: int, lo: int | None, hi: int | None, before: tuple | None
                 ) -> tuple[list, tuple | None]:
    """Keys lo <= time <= hi, newest first, strictly older than `before`; and the next cursor
    (graph_keys.newest_first with a time window)."""
    start = bisect_left(keys, (lo,)) if lo is not None else 0
    end = bisect_left(keys, (hi + 1,)) if hi is not None else len(keys)
    if before is not None:
        end = min(end, bisect_left(keys, before))
    first = max(start, end - top)
    page = keys[first:end][::-1]
    return page, (page[-1] if first > start else None)


def get_chat_message(app: GraphEmulator, call: Call) -> Reply:
    check_options(call.query, set())
    with app.store.lock:
        msg = _message(_chat(app, call), call.params["message"])
    return _entity(call, f"chats('{call.params['chat']}')/messages",
                   _message_out(msg, call.prefers_unknown_enums()))


def list_chat_hosted_contents(app: GraphEmulator, call: Call) -> Reply:
    check_options(call.query, set())
    with app.store.lock:
        msg = _message(_chat(app, call), call.params["message"])
        hosted = list(app.chats.hosted_by_message.get((call.params["chat"], msg["id"]), []))
    # metadata only: no bytes, no type (https://learn.microsoft.com/graph/api/chatmessagehostedcontent-get)
    items = [{"id": h.id, "contentBytes": None, "contentType": None} for h in hosted]
    return _collection(call, "chatMessageHostedContents", items, None)


def get_chat_hosted_content(app: GraphEmulator, call: Call) -> Reply:
    check_options(call.query, set())
    with app.store.lock:
        msg = _message(_chat(app, call), call.params["message"])
        hosted = app.chats.hosted.get((call.params["chat"], msg["id"], call.params["hosted"]))
    if hosted is None:
        raise not_found(f"Hosted content {call.params['hosted']} not found")
    if call.segments[-1] == "$value":
        return Reply(200, raw=hosted.data, content_type=hosted.content_type)
    return _entity(call, "chatMessageHostedContents",
                   {"id": hosted.id, "contentBytes": None, "contentType": None})


# ---- getAllMessages ------------------------------------------------------------------------------

def get_all_chat_messages(app: GraphEmulator, call: Call) -> Reply:
    # `model` is a custom option, ignored since 2025-08-25
    # (https://learn.microsoft.com/graph/teams-licenses), not a system option.
    check_options(call.query, {"$top", "$filter", "$skiptoken"} if app.all_messages_filter
                  else {"$top", "$skiptoken"})
    # No maximum is documented for this $top; 50 as on the channels' getAllMessages.
    top = message_top(call.query)
    lo, hi, keep = (parse_chat_filter(call.query["$filter"]) if "$filter" in call.query
                    else (None, None, None))
    after = _key_cursor(app, call)
    prefer = call.prefers_unknown_enums()
    with app.store.lock:
        keys, nxt = app.chats.all_messages_page(_user_id(app, call), top, lo, hi, after, keep)
        items = [_message_out(app.chats.by_id[k[1]].messages[k[2]], prefer) for k in keys]
    link = _next_link(app, call, list(nxt)) if nxt else None
    return _collection(call, "Collection(chatMessage)", items, link)


# Sender terms of https://learn.microsoft.com/graph/api/chats-getallmessages: property path →
# operators it takes.
_SENDER_TERMS: dict[str, tuple[str, ...]] = {
    "from/user/id": ("eq",), "from/user/useridentitytype": ("eq",),
    "from/application/applicationidentitytype": ("eq",), "messagetype": ("eq", "ne"),
}
_TERM = re.compile(r"\s*([A-Za-z][\w/]*)\s+(eq|ne)\s+'([^']*)'\s*", flags=re.IGNORECASE)
_MODIFIED = re.compile(r"\s*\(*\s*lastModifiedDateTime\s", flags=re.IGNORECASE)

Predicate = Callable[[Json], bool]


def parse_chat_filter(expr: str) -> tuple[int | None, int | None, Predicate | None]:
    """`$filter` of chats/getAllMessages → (lo, hi, keep): conjuncts joined by `and` are either
    lastModifiedDateTime bounds (graph_odata.parse_modified_filter) or a sender term, alone or
    `or`-joined in parentheses. Anything else is a 400 like the other message routes."""
    ranges: list[str] = []
    groups: list[list[Predicate]] = []
    for part in _split(expr, "and"):
        inner = _unwrap(part)
        alternatives = _split(inner, "or")
        if len(alternatives) == 1 and _MODIFIED.match(inner):
            ranges.append(inner)
        else:
            groups.append([_term(_unwrap(a), expr) for a in alternatives])
    lo, hi = parse_modified_filter(" and ".join(ranges)) if ranges else (None, None)
    if not groups:
        return lo, hi, None
    return lo, hi, lambda msg: all(any(t(msg) for t in group) for group in groups)


def _term(text: str, expr: str) -> Predicate:
    m = _TERM.fullmatch(text)
    ops = _SENDER_TERMS.get(m.group(1).lower(), ()) if m else ()
    if not m or m.group(2).lower() not in ops:
        raise bad_request(f"Invalid $filter query: '{expr}' is not supported.")
    path, negate, value = m.group(1).lower().split("/"), m.group(2).lower() == "ne", m.group(3)

    def keep(msg: Json) -> bool:
        got: Any = msg
        for step in path:
            got = next((v for k, v in (got or {}).items() if k.lower() == step), None)
        same = isinstance(got, str) and got.lower() == value.lower()
        return same != negate
    return keep


def _split(expr: str, word: str) -> list[str]:
    """`expr` cut at `word` (and / or) outside parentheses and quotes."""
    parts, depth, quoted, start = [], 0, False, 0
    sep = re.compile(rf"\s+{word}\s+", flags=re.IGNORECASE)
    i = 0
    while i < len(expr):
        c = expr[i]
        if c == "'":
            quoted = not quoted
        elif not quoted and c in "()":
            depth += 1 if c == "(" else -1
        elif not quoted and depth == 0 and (m := sep.match(expr, i)):
            parts.append(expr[start:i])
            i = start = m.end()
            continue
        i += 1
    if depth != 0 or quoted:
        raise bad_request("Invalid $filter query: unbalanced parentheses or quotes.")
    return [*parts, expr[start:]]


def _unwrap(text: str) -> str:
    """Drop parentheses around the whole of `text` ("(a or b)" → "a or b", not "(a) or (b)")."""
    text = text.strip()
    while text.startswith("(") and _closing(text) == len(text) - 1:
        text = text[1:-1].strip()
    return text


def _closing(text: str) -> int:
    """Index of the parenthesis closing text[0] (quotes skipped), -1 if none."""
    depth, quoted = 0, False
    for i, c in enumerate(text):
        if c == "'":
            quoted = not quoted
        elif not quoted and c in "()":
            depth += 1 if c == "(" else -1
            if depth == 0:
                return i
    return -1


# ---- route and permission tables (spliced into graph_routes) -----------------------------------

_U, _CH, _CM = "users/{user}", "chats/{chat}", "chats/{chat}/messages/{message}"
# (path pattern, route name, throttle class of graph_emulator.LIMITS, handler)
CHAT_ROUTES: list[tuple[str, str, str, Any]] = [
    (f"{_U}/chats", "userChats", "chats", list_user_chats),
    # the tenant-wide export class: 200 rps per app per tenant
    # (https://learn.microsoft.com/graph/throttling-limits)
    (f"{_U}/chats/getAllMessages", "chatsGetAllMessages", "getAllMessages", get_all_chat_messages),
    (_CH, "chat", "chats", get_chat),
    (f"{_CH}/members", "chatMembers", "chats", list_chat_members),
    (f"{_CH}/messages", "chatMessages", "chatMessages", list_chat_messages),
    (_CM, "chatMessage", "chatMessages", get_chat_message),
    (f"{_CM}/hostedContents", "chatHostedContents", "chatMessages", list_chat_hosted_contents),
    (f"{_CM}/hostedContents/{{hosted}}", "chatHostedContent", "chatMessages", get_chat_hosted_content),
    (f"{_CM}/hostedContents/{{hosted}}/$value", "chatHostedContentValue", "chatMessages",
     get_chat_hosted_content),
]

# Application permissions of each route's page (tenant-wide ones; resource-specific consent such
# as ChatMessage.Read.Chat or Chat.ReadBasic.WhereInstalled is not emulated).
_CHAT_READ = ("Chat.Read.All", "Chat.ReadWrite.All")
_CHAT_BASIC = ("Chat.ReadBasic.All", *_CHAT_READ)
CHAT_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "chatsGetAllMessages": _CHAT_READ,            # api/chats-getallmessages
    "userChats": _CHAT_BASIC,                      # api/chat-list
    "chat": _CHAT_BASIC,                           # api/chat-get
    "chatMembers": ("ChatMember.Read.All", "ChatMember.ReadWrite.All", *_CHAT_BASIC),
    "chatMessages": _CHAT_READ,                    # api/chat-list-messages
    "chatMessage": _CHAT_READ,                     # api/chatmessage-get
    "chatHostedContents": _CHAT_READ,              # api/chatmessage-list-hostedcontents
    "chatHostedContent": _CHAT_READ,               # api/chatmessagehostedcontent-get
    "chatHostedContentValue": _CHAT_READ,
}


# ---- control API -------------------------------------------------------------------------------

def chat_control(app: GraphEmulator, parts: list[str], method: str, data: Any
                 ) -> tuple[int, Any] | None:
    """POST /_control/chats {"chat", "members"?, "messages"?}; POST /_control/chatMessages
    {"chatId", "message"}; PATCH|DELETE /_control/chatMessages/{chatId}/{messageId} (PATCH body
    = changes); POST /_control/chatMembers {"chatId", "member", "event"?}; DELETE
    /_control/chatMembers/{chatId}/{userId} (optional body {"event": false}: no system message)."""
    body = data if isinstance(data, dict) else {}
    if parts == ["chats"] and method == "POST":
        return 201, app.add_chat(_need(body, "chat"), body.get("members") or [],
                                 body.get("messages") or [])
    if parts == ["chatMessages"] and method == "POST":
        return 201, app.add_chat_message(_need(body, "chatId"), _need(body, "message"))
    if len(parts) == 3 and parts[0] == "chatMessages" and method == "PATCH":
        return 200, app.edit_chat_message(parts[1], parts[2], body)
    if len(parts) == 3 and parts[0] == "chatMessages" and method == "DELETE":
        return 200, app.delete_chat_message(parts[1], parts[2])
    if parts == ["chatMembers"] and method == "POST":
        return 201, app.add_chat_member(_need(body, "chatId"), _need(body, "member"),
                                        event=bool(body.get("event", True)))
    if len(parts) == 3 and parts[0] == "chatMembers" and method == "DELETE":
        return 200, app.remove_chat_member(parts[1], parts[2], event=bool(body.get("event", True)))
    return None


def _need(data: Json, key: str) -> Any:
    if data.get(key) is None:
        raise ValueError(f"the request body needs {key!r}")
    return data[key]
