"""Graph resources the emulator serves: one function per route, each `(app, call) -> Reply` —
users, teams, groups, members, channels and messages (files are graph_files.py, chats
graph_chat_resources.py).

Routing and throttling are in graph_routes.py, $batch in graph_batch.py, HTTP and auth in
graph_http.py; query-option rules in graph_odata.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from migrate.sandbox.graph_keys import modified_page, newest_first
from migrate.sandbox.graph_odata import (
    USER_DEFAULT_PROPERTIES,
    USER_PROPERTIES,
    GraphError,
    apply_select,
    bad_request,
    check_options,
    directory_top,
    message_top,
    not_found,
    parse_modified_filter,
    parse_select,
)
from migrate.sandbox.graph_store import ChannelState, TeamState

if TYPE_CHECKING:
    from migrate.sandbox.graph_emulator import GraphEmulator

Json = dict[str, Any]
UNKNOWN_ENUMS = "include-unknown-enum-members"
# replies embedded per root under $expand=replies, at most
# (https://learn.microsoft.com/graph/api/channel-list-messages)
EXPAND_REPLIES_MAX = 1000
# team properties that GET /teams returns as null: it populates only id, displayName, description
# and visibility (https://learn.microsoft.com/graph/api/teams-list)
TEAM_LIST_NULLS = ("internalId", "classification", "specialization", "webUrl", "isArchived",
                   "tenantId", "createdDateTime", "memberSettings", "guestSettings",
                   "messagingSettings", "funSettings", "summary")
TEAM_FILTER = re.compile(r"resourceprovisioningoptions/any\((\w+):\1eq'team'\)")


@dataclass
class Call:
    """One Graph request, received over HTTP or as an item of a $batch."""

    method: str
    path: str                      # as sent, after /v1.0 (kept for nextLinks)
    segments: list[str]            # percent-decoded path segments after /v1.0
    query: dict[str, str]
    headers: dict[str, str]        # lower-case names
    base: str                      # the emulator's /v1.0 URL
    request_id: str
    client_request_id: str
    params: dict[str, str] = field(default_factory=dict)

    def prefers_unknown_enums(self) -> bool:
        prefer = self.headers.get("prefer", "")
        return any(p.strip().lower() == UNKNOWN_ENUMS for p in prefer.split(","))


@dataclass
class Reply:
    status: int = 200
    body: Any = None               # JSON-able, or None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None       # bytes answers (hosted contents, 302s)
    content_type: str | None = None


# ---- paging ------------------------------------------------------------------------------

def _scope(call: Call) -> str:
    """What a skiptoken is bound to: the resource and every other query option."""
    opts = sorted((k, v) for k, v in call.query.items() if k != "$skiptoken")
    return "/".join(s.lower() for s in call.segments) + "?" + repr(opts)


def _cursor(app: GraphEmulator, call: Call) -> Any:
    token = call.query.get("$skiptoken")
    if token is None:
        return None
    payload = app.signer.unsign(token)
    if payload is None or payload.get("s") != _scope(call):
        raise bad_request("Invalid continuation token.")
    return payload["c"]


def _next_link(app: GraphEmulator, call: Call, cursor: Any) -> str:
    token = app.signer.sign({"s": _scope(call), "c": cursor})
    parts = [f"{k}={quote(v, safe=',()$')}" for k, v in call.query.items() if k != "$skiptoken"]
    parts.append(f"$skiptoken={token}")
    return f"{call.base}{call.path}?{'&'.join(parts)}"


def _collection(call: Call, context: str, items: list[Json], next_link: str | None) -> Reply:
    body: Json = {"@odata.context": f"{call.base}/$metadata#{context}"}
    if next_link:
        body["@odata.nextLink"] = next_link
    body["value"] = items
    return Reply(200, body)


def _entity(call: Call, context: str, item: Json) -> Reply:
    return Reply(200, {"@odata.context": f"{call.base}/$metadata#{context}/$entity", **item})


def _offset_page(app: GraphEmulator, call: Call, items: list[Json], top: int
                 ) -> tuple[list[Json], str | None]:
    offset = _cursor(app, call) or 0
    page = items[offset:offset + top]
    more = offset + top < len(items)
    return page, (_next_link(app, call, offset + top) if more else None)


# ---- lookups that 404 like Graph -------------------------------------------------------------

def _team(app: GraphEmulator, call: Call) -> TeamState:
    team = app.store.team(call.params["team"])
    if team is None:
        raise not_found(f"No team found with Group Id {call.params['team']}")
    return team


def _channel(app: GraphEmulator, call: Call) -> ChannelState:
    _team(app, call)
    ch = app.store.channel(call.params["team"], call.params["channel"])
    if ch is None:
        raise not_found(f"Channel {call.params['channel']} not found in team {call.params['team']}")
    return ch


def _root(ch: ChannelState, message_id: str) -> Json:
    msg = ch.messages.get(message_id)
    if msg is None or msg["replyToId"]:
        raise not_found(f"Message {message_id} not found")
    return msg


def _reply(ch: ChannelState, root_id: str, reply_id: str) -> Json:
    _root(ch, root_id)
    msg = ch.messages.get(reply_id)
    if msg is None or msg["replyToId"] != root_id:
        raise not_found(f"Reply {reply_id} of message {root_id} not found")
    return msg


def _message_of(ch: ChannelState, call: Call) -> Json:
    if "reply" in call.params:
        return _reply(ch, call.params["message"], call.params["reply"])
    return _root(ch, call.params["message"])


# ---- evolvable enums -------------------------------------------------------------------------
# Values added to an enum after it shipped (systemEventMessage, a channel's `shared`) read as
# unknownFutureValue unless the request sends `Prefer: include-unknown-enum-members`
# (https://learn.microsoft.com/graph/api/channel-list-messages).

def _message_out(msg: Json, prefer: bool) -> Json:
    if not prefer and msg["messageType"] == "systemEventMessage":
        return {**msg, "messageType": "unknownFutureValue"}
    return msg


def _channel_out(channel: Json, prefer: bool) -> Json:
    if not prefer and channel.get("membershipType") == "shared":
        return {**channel, "membershipType": "unknownFutureValue"}
    return channel


# ---- users, teams, groups, members, channels ----------------------------------------------

def list_users(app: GraphEmulator, call: Call) -> Reply:
    check_options(call.query, {"$top", "$select", "$skiptoken"})
    top = directory_top(call.query)
    select = parse_select(call.query, "user", USER_PROPERTIES) or USER_DEFAULT_PROPERTIES
    with app.store.lock:
        page, link = _offset_page(app, call, app.store.users, top)
    return _collection(call, "users", [apply_select(u, select) for u in page], link)


def get_user(app: GraphEmulator, call: Call) -> Reply:
    check_options(call.query, {"$select"})
    select = parse_select(call.query, "user", USER_PROPERTIES) or USER_DEFAULT_PROPERTIES
    user = app.store.user(call.params["user"])
    if user is None:
        raise GraphError(404, "Request_ResourceNotFound",
                         f"Resource '{call.params['user']}' does not exist or one of its queried "
                         "reference-property objects are not present.")
    return _entity(call, "users", apply_select(user, select))


def list_teams(app: GraphEmulator, call: Call) -> Reply:
    check_options(call.query, {"$top", "$select", "$skiptoken"})
    top = directory_top(call.query)
    select = parse_select(call.query, "team")
    with app.store.lock:
        page, link = _offset_page(app, call, app.store.teams, top)
    items = [apply_select({"id": t.team["id"], "displayName": t.team.get("displayName"),
                           "description": t.team.get("description"),
                           "visibility": t.team.get("visibility"),
                           **dict.fromkeys(TEAM_LIST_NULLS)}, select) for t in page]
    return _collection(call, "teams", items, link)


def list_groups(app: GraphEmulator, call: Call) -> Reply:
    check_options(call.query, {"$top", "$select", "$skiptoken", "$filter"})
    flt = call.query.get("$filter")
    if flt is not None and not TEAM_FILTER.fullmatch(re.sub(r"\s+", "", flt).lower()):
        raise bad_request("Unsupported Query.")  # the emulator only knows team groups
    top = directory_top(call.query)
    select = parse_select(call.query, "group")
    with app.store.lock:
        groups = [app.store.group_json(t) for t in app.store.teams]
        if flt is not None:
            # Older teams' groups may lack "Team" here and so escape the filter (Graph known
            # issue 13633); GET /teams lists them
            # (https://learn.microsoft.com/graph/api/teams-list).
            groups = [g for g in groups if "Team" in (g["resourceProvisioningOptions"] or [])]
        page, link = _offset_page(app, call, groups, top)
    return _collection(call, "groups", [apply_select(g, select) for g in page], link)


def get_team(app: GraphEmulator, call: Call) -> Reply:
    check_options(call.query, {"$select"})
    return _entity(call, "teams", apply_select(_team(app, call).team,
                                               parse_select(call.query, "team")))


def list_team_members(app: GraphEmulator, call: Call) -> Reply:
    check_options(call.query, {"$top", "$select", "$skiptoken"})
    top = directory_top(call.query)
    select = parse_select(call.query, "conversationMember")
    with app.store.lock:
        page, link = _offset_page(app, call, _team(app, call).members, top)
    return _collection(call, f"teams('{call.params['team']}')/members",
                       [apply_select(m, select) for m in page], link)


def list_channels(app: GraphEmulator, call: Call) -> Reply:
    check_options(call.query, {"$select", "$filter"})
    select = parse_select(call.query, "channel")
    flt = call.query.get("$filter")
    wanted = None
    if flt is not None:
        m = re.fullmatch(r"\s*membershipType\s+eq\s+'(\w+)'\s*", flt)
        if not m:
            raise bad_request("Invalid $filter query.")
        wanted = m.group(1)
    prefer = call.prefers_unknown_enums()
    with app.store.lock:
        channels = [c.channel for c in _team(app, call).channels]
    items = [apply_select(_channel_out(c, prefer), select) for c in channels
             if wanted is None or c.get("membershipType") == wanted]
    return _collection(call, f"teams('{call.params['team']}')/channels", items, None)


def get_channel(app: GraphEmulator, call: Call) -> Reply:
    check_options(call.query, {"$select"})
    if "channel" in call.params:
        ch = _channel(app, call)
    else:
        ch = app.store.primary_channel(_team(app, call))
        if ch is None:
            raise not_found(f"Team {call.params['team']} has no channel")
    item = apply_select(_channel_out(ch.channel, call.prefers_unknown_enums()),
                        parse_select(call.query, "channel"))
    return _entity(call, f"teams('{call.params['team']}')/channels", item)


def list_channel_members(app: GraphEmulator, call: Call) -> Reply:
    check_options(call.query, {"$top", "$select", "$skiptoken"})
    top = directory_top(call.query)
    select = parse_select(call.query, "conversationMember")
    with app.store.lock:
        ch = _channel(app, call)
        page, link = _offset_page(app, call, app.store.channel_members(ch), top)
    return _collection(call, f"teams('{call.params['team']}')/channels('{ch.channel['id']}')/members",
                       [apply_select(m, select) for m in page], link)


# ---- messages ----------------------------------------------------------------------------------

def _thread_cursor(app: GraphEmulator, call: Call) -> tuple[int, str] | None:
    cursor = _cursor(app, call)
    return (int(cursor[0]), str(cursor[1])) if cursor is not None else None


def list_messages(app: GraphEmulator, call: Call) -> Reply:
    check_options(call.query, {"$top", "$expand", "$skiptoken"} if app.expand_replies
                  else {"$top", "$skiptoken"})
    top = message_top(call.query)
    expand = call.query.get("$expand")
    if expand is not None and expand.strip().lower() != "replies":
        raise bad_request(f"Could not find a property named '{expand}' on type "
                          "'microsoft.graph.chatMessage'.")
    prefer = call.prefers_unknown_enums()
    with app.store.lock:
        ch = _channel(app, call)
        keys, after = newest_first(ch.roots, top, _thread_cursor(app, call))
        roots = [ch.messages[k[1]] for k in keys]
        items = []
        for root in roots:
            item = _message_out(root, prefer)
            if expand is not None:
                item = {**item, **_expanded_replies(app, call, ch, root, prefer)}
            items.append(item)
    link = _next_link(app, call, list(after)) if after else None
    return _collection(call, "teams('{}')/channels('{}')/messages".format(
        call.params["team"], ch.channel["id"]), items, link)


def _expanded_replies(app: GraphEmulator, call: Call, ch: ChannelState, root: Json,
                      prefer: bool) -> Json:
    keys = ch.replies.get(root["id"], [])
    page, after = newest_first(keys, EXPAND_REPLIES_MAX, None)
    out: Json = {"replies@odata.count": len(keys)}
    # The nextLink of the inline replies has been seen missing beyond 1000
    # (microsoft-graph-docs-contrib issue 8819): GraphEmulator(replies_next_link=False).
    if after and app.replies_next_link:
        # continues under /replies, a request of its own with its own $top limit
        path = f"{call.path.rsplit('/messages', 1)[0]}/messages/{quote(root['id'])}/replies"
        sub = Call("GET", path, [*call.segments, root["id"], "replies"], {"$top": "50"},
                   call.headers, call.base, call.request_id, call.client_request_id)
        out["replies@odata.nextLink"] = _next_link(app, sub, list(after))
    out["replies"] = [_message_out(ch.messages[k[1]], prefer) for k in page]
    return out


def get_message(app: GraphEmulator, call: Call) -> Reply:
    check_options(call.query, set())
    with app.store.lock:
        ch = _channel(app, call)
        msg = _message_of(ch, call)
    return _entity(call, "teams('{}')/channels('{}')/messages".format(
        call.params["team"], ch.channel["id"]), _message_out(msg, call.prefers_unknown_enums()))


def list_replies(app: GraphEmulator, call: Call) -> Reply:
    check_options(call.query, {"$top", "$skiptoken"})
    top = message_top(call.query)
    prefer = call.prefers_unknown_enums()
    with app.store.lock:
        ch = _channel(app, call)
        root = _root(ch, call.params["message"])
        keys, after = newest_first(ch.replies.get(root["id"], []), top,
                                              _thread_cursor(app, call))
        items = [_message_out(ch.messages[k[1]], prefer) for k in keys]
    link = _next_link(app, call, list(after)) if after else None
    return _collection(call, "teams('{}')/channels('{}')/messages('{}')/replies".format(
        call.params["team"], ch.channel["id"], root["id"]), items, link)


def get_all_messages(app: GraphEmulator, call: Call) -> Reply:
    # `model` (a custom option, ignored since 2025-08-25:
    # https://learn.microsoft.com/graph/teams-licenses) is not a system option.
    check_options(call.query, {"$top", "$filter", "$skiptoken"} if app.all_messages_filter
                  else {"$top", "$skiptoken"})
    # The docs give no maximum for this $top; the emulator assumes the 50 of the other
    # message endpoints.
    top = message_top(call.query)
    lo, hi = (parse_modified_filter(call.query["$filter"]) if "$filter" in call.query
              else (None, None))
    cursor = _cursor(app, call)
    after = (int(cursor[0]), str(cursor[1]), str(cursor[2])) if cursor is not None else None
    prefer = call.prefers_unknown_enums()
    with app.store.lock:
        team = _team(app, call)
        keys = team.all_keys
        if app.all_messages_channels != {"standard", "private", "shared"}:
            keys = [k for k in keys if (team.by_channel[k[1]].channel.get("membershipType")
                                        or "standard") in app.all_messages_channels]
        keys, nxt = modified_page(keys, top, lo, hi, after)
        items = [_message_out(team.by_channel[k[1]].messages[k[2]], prefer) for k in keys]
    link = _next_link(app, call, list(nxt)) if nxt else None
    return _collection(call, "Collection(chatMessage)", items, link)


def list_hosted_contents(app: GraphEmulator, call: Call) -> Reply:
    check_options(call.query, set())
    with app.store.lock:
        msg = _message_of(_channel(app, call), call)
        hosted = list(app.store.hosted_by_message.get(msg["id"], []))
    # The metadata answer carries neither bytes nor type
    # (https://learn.microsoft.com/graph/api/chatmessagehostedcontent-get).
    items = [{"id": h.id, "contentBytes": None, "contentType": None} for h in hosted]
    return _collection(call, "chatMessageHostedContents", items, None)


def get_hosted_content(app: GraphEmulator, call: Call) -> Reply:
    check_options(call.query, set())
    with app.store.lock:
        msg = _message_of(_channel(app, call), call)
        hosted = app.store.hosted.get((msg["id"], call.params["hosted"]))
    if hosted is None:
        raise not_found(f"Hosted content {call.params['hosted']} not found")
    if call.segments[-1] == "$value":
        return Reply(200, raw=hosted.data, content_type=hosted.content_type)
    return _entity(call, "chatMessageHostedContents",
                   {"id": hosted.id, "contentBytes": None, "contentType": None})
