"""The Graph emulator serving a generated tenant (`LazyTenant`) without materialising it.

`LazyGraphEmulator(LazyTenant(messages=N, seed=S))` is a GraphEmulator: the same HTTP server,
auth, throttling, faults, `$batch`, counters, paging tokens and error answers. Its stores are
lazy_store.py's; most handlers are graph_resources.py's and graph_chat_resources.py's as they
are. This module replaces the handlers whose in-memory version walks whole collections:

* `/teams/{id}/channels/getAllMessages`: the team's sequence is indexed by position, so a
  lastModifiedDateTime window is a binary search and a page generates `$top` messages; the
  nextLink carries the next position.
* `/users/delta`, `/groups/delta`: a first round pages every object (200 a page, `$select`
  honoured, groups' members@delta/owners@delta when selected); a deltaLink then reports no
  change (the generated tenant never changes). `$deltatoken=latest` gives a deltaLink at once.
  `$filter=id eq …` is not supported here (400).
* `/teams/{id}/channels/{id}/messages` (`$expand=replies`) and `…/messages/{id}/replies`: a
  channel's roots newest first, each root's replies (every reply answers one of the three
  roots before it, so a root's replies are found by a short scan).

Everything is read-only: control operations that would change the tenant answer 400.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from migrate.sandbox import graph_delta as delta
from migrate.sandbox.graph_changes import GROUPS, USERS
from migrate.sandbox.graph_emulator import GraphEmulator
from migrate.sandbox.graph_odata import (
    apply_select,
    bad_request,
    check_options,
    message_top,
    parse_modified_filter,
)
from migrate.sandbox.graph_resources import (
    Call,
    Reply,
    _channel,
    _collection,
    _cursor,
    _message_out,
    _next_link,
    _root,
    _team,
)
from migrate.sandbox.graph_routes import ROUTES
from migrate.sandbox.lazy_store import LazyChatStore, LazyStore
from migrate.sandbox.lazy_tenant import LazyChannel, LazyTeam, LazyTenant

if TYPE_CHECKING:
    from migrate.sandbox.graph_chats import ChatStore
    from migrate.sandbox.graph_store import ChannelState, GraphStore

Json = dict[str, Any]


# ---- getAllMessages ------------------------------------------------------------------------

def get_all_messages(app: GraphEmulator, call: Call) -> Reply:
    check_options(call.query, {"$top", "$filter", "$skiptoken"})
    top = message_top(call.query)
    lo, hi = (parse_modified_filter(call.query["$filter"]) if "$filter" in call.query
              else (None, None))
    cursor = _cursor(app, call)
    prefer = call.prefers_unknown_enums()
    store: LazyStore = app.store  # type: ignore[assignment]
    team = store.lazy_team[_team(app, call).team["id"]]
    start, end = store.gen.modified_span(team, lo, hi)
    if cursor is not None:
        start = max(start, int(cursor))
    stop = min(end, start + top)
    items = [_message_out(m, prefer) for m in store.gen.team_messages(team, start, stop)]
    link = _next_link(app, call, stop) if stop < end else None
    return _collection(call, "Collection(chatMessage)", items, link)


# ---- per-channel lists -----------------------------------------------------------------------

def _lazy(app: GraphEmulator, ch: ChannelState) -> tuple[LazyTenant, LazyTeam, LazyChannel]:
    store: LazyStore = app.store  # type: ignore[assignment]
    gen = store.gen
    lc = gen.channels_by_id[ch.channel["id"]]
    return gen, gen.teams[lc.team], lc


def _at(gen: LazyTenant, team: LazyTeam, lc: LazyChannel, k: int) -> Json:
    return gen.team_message(team, lc, k, gen.team_index(lc, k))


def _replies_of(gen: LazyTenant, lc: LazyChannel, root: int) -> list[int]:
    """Channel indexes of the replies to the root at `root`, oldest first."""
    out, roots_after, k = [], 0, root + 1
    while k < lc.count and roots_after < 3:
        if gen._root_of(lc, k) == root:
            out.append(k)
        elif not gen._is_reply(lc, k):
            roots_after += 1
        k += 1
    return out


def list_messages(app: GraphEmulator, call: Call) -> Reply:
    check_options(call.query, {"$top", "$expand", "$skiptoken"})
    top = message_top(call.query)
    expand = call.query.get("$expand")
    if expand is not None and expand.strip().lower() != "replies":
        raise bad_request(f"Could not find a property named '{expand}' on type "
                          "'microsoft.graph.chatMessage'.")
    prefer = call.prefers_unknown_enums()
    ch = _channel(app, call)
    gen, team, lc = _lazy(app, ch)
    cursor = _cursor(app, call)
    k = (lc.count if cursor is None else int(cursor)) - 1
    items: list[Json] = []
    while k >= 0 and len(items) < top:
        if not gen._is_reply(lc, k):
            item = _message_out(_at(gen, team, lc, k), prefer)
            if expand is not None:
                replies = [_message_out(_at(gen, team, lc, r), prefer)
                           for r in reversed(_replies_of(gen, lc, k))]
                item = {**item, "replies@odata.count": len(replies), "replies": replies}
            items.append(item)
        k -= 1
    # position 0 is always a root: anything left below k holds one more root
    link = _next_link(app, call, k + 1) if k >= 0 else None
    return _collection(call, "teams('{}')/channels('{}')/messages".format(
        call.params["team"], lc.id), items, link)


def list_replies(app: GraphEmulator, call: Call) -> Reply:
    check_options(call.query, {"$top", "$skiptoken"})
    top = message_top(call.query)
    prefer = call.prefers_unknown_enums()
    ch = _channel(app, call)
    root = _root(ch, call.params["message"])
    gen, team, lc = _lazy(app, ch)
    root_k = _channel_position(gen, team, lc, root["id"])
    replies = list(reversed(_replies_of(gen, lc, root_k)))      # newest first
    offset = int(_cursor(app, call) or 0)
    page = replies[offset:offset + top]
    items = [_message_out(_at(gen, team, lc, r), prefer) for r in page]
    link = _next_link(app, call, offset + top) if offset + top < len(replies) else None
    return _collection(call, "teams('{}')/channels('{}')/messages('{}')/replies".format(
        call.params["team"], lc.id, root["id"]), items, link)


def _channel_position(gen: LazyTenant, team: LazyTeam, lc: LazyChannel, message_id: str) -> int:
    i = gen.team_message_index(team, message_id)
    assert i is not None
    _, ch, k = next(gen.team_walk(team, i, i + 1))
    assert ch is lc
    return k


# ---- directory delta -------------------------------------------------------------------------

def users_delta(app: GraphEmulator, call: Call) -> Reply:
    return _delta(app, call, USERS)


def groups_delta(app: GraphEmulator, call: Call) -> Reply:
    return _delta(app, call, GROUPS)


def _delta(app: GraphEmulator, call: Call, kind: str) -> Reply:
    query = call.query
    check_options(query, {"$select", "$filter", "$skiptoken", "$deltatoken"})
    if "$filter" in query:
        raise bad_request("Unsupported Query: $filter is not served by the generated tenant.")
    if "$skiptoken" in query:
        if {"$select", "$deltatoken"} & query.keys():
            raise bad_request("Query options cannot be combined with a $skiptoken: they are "
                              "encoded in it.")
        state = _open(app, kind, query["$skiptoken"], "skip")
    elif "$deltatoken" in query:
        token = query["$deltatoken"]
        select = delta._select(query, kind) if "$select" in query else None
        if token and token.lower() != "latest":
            select = select or _open(app, kind, token, "delta").get("sel")
        # nothing ever changes in a generated tenant: an empty round and a new deltaLink
        return _reply(app, call, kind, [], None, select)
    else:
        state = {"sel": delta._select(query, kind), "c": 0}
    store: LazyStore = app.store  # type: ignore[assignment]
    start = int(state["c"])
    objects: Any = store.users if kind == USERS else store.teams
    chunk = objects[start:start + delta.PAGE]
    items = [_object(store, kind, obj, state["sel"]) for obj in chunk]
    more = start + delta.PAGE < len(objects)
    return _reply(app, call, kind, items, start + delta.PAGE if more else None, state["sel"])


def _object(store: LazyStore, kind: str, obj: Any, select: list[str] | None) -> Json:
    if kind == USERS:
        return apply_select(obj, delta._properties(kind, select, obj))
    group = store.group_json(obj)
    out = apply_select(group, delta._properties(kind, select, group))
    links = store.group_links(obj)
    for rel in delta._tracked_links(kind, select):
        if links[rel]:
            out[f"{rel}@delta"] = [{"@odata.type": delta.LINK_TYPE, "id": u} for u in links[rel]]
    return out


def _open(app: GraphEmulator, kind: str, token: str, link: str) -> Json:
    payload = app.signer.unsign(token)
    if payload is None or payload.get("k") != f"lazy-{link}" or payload.get("r") != kind:
        raise delta.sync_state_not_found()
    return payload


def _reply(app: GraphEmulator, call: Call, kind: str, items: list[Json], cursor: int | None,
           select: list[str] | None) -> Reply:
    body: Json = {"@odata.context": f"{call.base}/$metadata#{kind}"}
    if cursor is not None:
        token = app.signer.sign({"k": "lazy-skip", "r": kind, "sel": select, "c": cursor})
        body["@odata.nextLink"] = f"{call.base}/{kind}/delta?$skiptoken={token}"
    else:
        token = app.signer.sign({"k": "lazy-delta", "r": kind, "sel": select})
        body["@odata.deltaLink"] = f"{call.base}/{kind}/delta?$deltatoken={token}"
    body["value"] = items
    return Reply(200, body)


# ---- the emulator ------------------------------------------------------------------------------

LAZY_HANDLERS = {
    "getAllMessages": get_all_messages,
    "usersDelta": users_delta,
    "groupsDelta": groups_delta,
    "messages": list_messages,
    "replies": list_replies,
}


class LazyGraphEmulator(GraphEmulator):
    """A GraphEmulator over a LazyTenant (read-only: control changes answer 400)."""

    routes = [(p, name, cls, LAZY_HANDLERS.get(name, fn)) for p, name, cls, fn in ROUTES]

    def __init__(self, tenant: LazyTenant, **kwargs: Any) -> None:
        super().__init__(tenant, **kwargs)  # type: ignore[arg-type]

    def _stores(self, tenant: Any) -> tuple[GraphStore, ChatStore]:
        store = LazyStore(tenant)
        return store, LazyChatStore(store)  # type: ignore[return-value]
