"""`GET /users/delta` and `GET /groups/delta`: change tracking of directory objects.

Sources, quoted below by their file names in microsoftgraph/microsoft-graph-docs-contrib
(user-delta.md and so on): https://learn.microsoft.com/graph/api/user-delta,
https://learn.microsoft.com/graph/api/group-delta,
https://learn.microsoft.com/graph/delta-query-overview and
https://learn.microsoft.com/graph/delta-query-groups; for the expiry error, the Microsoft 365
Developer blog "Duration of change tracking tokens for identity and education resources"
(2020-07-03).

* The first call (no token) returns every object over pages of `@odata.nextLink` (a
  `$skiptoken`), the last page ending in an `@odata.deltaLink` (a `$deltatoken`). Calling the
  deltaLink returns the objects changed since it was issued, again paged and again ending in a
  new deltaLink; with no change, an empty `value` and a deltaLink (delta-query-groups.md).
* Query options go on the first call only and are encoded into the tokens ("Microsoft Graph
  automatically encodes any specified parameters into the token portion", user-delta.md):
  `$select` (only selected properties are tracked and returned; `id` always is) and
  `$filter=id eq '…'` (or-ed, at most 50 objects). `$select` with a `$skiptoken` is refused
  ("Delta queries with both $select and $skipToken will not be supported"); sent with a
  deltaLink it replaces the tracked properties (the overview's note that it will be supported).
* `$top`, `$orderby` and `$expand` are refused like any option the route does not allow: "For
  the user and group resources ... `$expand` is not supported. `$top` is not supported.
  `$orderby` is not supported." (delta-query-overview.md).
* Changed objects carry every tracked property at its current value; with `Prefer:
  return=minimal`, only the properties that changed (new objects: all). A change to a property
  the round does not track does not bring the object back ("If a change occurs to a property
  that is not selected, the resource ... does not appear", overview). Removed objects are
  `{"id", "@removed": {"reason": "changed" | "deleted"}}` — `changed` = restorable.
* Groups: `$select=…,members` (or no `$select`, where `members@delta` is included by default)
  tracks membership; `owners` likewise. `members@delta` lists `{"@odata.type":
  "#microsoft.graph.user", "id"}` for each member added and the same with `"@removed":
  {"reason": "deleted"}` for each removed; the first round lists every member, and a group
  without members has no `members@delta` (delta-query-groups.md). Channels and channel members
  are Teams objects, not directory ones: they never make a group appear.
* `$deltatoken=latest` answers no data and a deltaLink from now ("sync from now", overview).
* A token that is expired (older than 7 days: "Token duration"), unreadable, or issued by an
  earlier emulator process answers 400 `syncStateNotFound` ("The sync state generation is not
  found. The delta token is expired and data must be synchronized again.", the blog above; the
  overview says "a 40X-series error with error codes such as syncStateNotFound"). After a
  synchronization reset (control API) a token answers 410 Gone with a `Location` header holding
  the initial query ("Synchronization reset", overview).

Simplifications: pages hold 200 objects (users: observed, Microsoft Q&A 5875141; groups: the
same, undocumented); a large group's members come in one object rather than over several pages;
objects come in id order (the docs promise none); no replays.
"""

from __future__ import annotations

import re
import time
from bisect import bisect_right
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from migrate.sandbox.graph_changes import GROUPS, USERS, Net
from migrate.sandbox.graph_odata import (
    USER_DEFAULT_PROPERTIES,
    USER_PROPERTIES,
    GraphError,
    apply_select,
    bad_request,
    check_options,
    parse_select,
)
from migrate.sandbox.graph_resources import Call, Reply

if TYPE_CHECKING:
    from migrate.sandbox.graph_emulator import GraphEmulator
    from migrate.sandbox.graph_store import GraphStore

Json = dict[str, Any]
PAGE = 200
FILTER_MAX = 50
LINK_TYPE = "#microsoft.graph.user"
GROUP_LINKS = ("members", "owners")
# group properties (v1.0 CSDL) that $select accepts; the emulator fills the ones a team's group has
_GROUP_PROPERTY_NAMES = """
id deletedDateTime classification createdDateTime description displayName expirationDateTime
groupTypes isAssignableToRole mail mailEnabled mailNickname membershipRule
membershipRuleProcessingState onPremisesSyncEnabled preferredDataLocation preferredLanguage
proxyAddresses renewedDateTime resourceProvisioningOptions securityEnabled securityIdentifier
theme visibility members owners
"""
GROUP_PROPERTIES = frozenset(_GROUP_PROPERTY_NAMES.split())
_ID_CLAUSE = re.compile(r"\s*id\s+eq\s+'([^']+)'\s*", re.IGNORECASE)


def sync_state_not_found() -> GraphError:
    return GraphError(400, "syncStateNotFound", "The sync state generation is not found. The delta "
                      "token is expired and data must be synchronized again.")


def users_delta(app: GraphEmulator, call: Call) -> Reply:
    return _delta(app, call, USERS)


def groups_delta(app: GraphEmulator, call: Call) -> Reply:
    return _delta(app, call, GROUPS)


# ---- query options and tokens -------------------------------------------------------------

def _select(query: dict[str, str], kind: str) -> list[str] | None:
    if kind == USERS:
        return parse_select(query, "user", USER_PROPERTIES)
    return parse_select(query, "group", GROUP_PROPERTIES)


def _id_filter(query: dict[str, str]) -> list[str] | None:
    """`id eq '…' or id eq '…'`: the only filter delta takes, for at most 50 objects."""
    raw = query.get("$filter")
    if raw is None:
        return None
    ids = []
    for clause in re.split(r"\s+or\s+", raw.strip(), flags=re.IGNORECASE):
        match = _ID_CLAUSE.fullmatch(clause)
        if match is None:
            raise bad_request("Unsupported Query.")
        ids.append(match.group(1))
    if len(ids) > FILTER_MAX:
        raise bad_request(f"Too many objects in the filter: at most {FILTER_MAX} can be tracked.")
    return ids


def _sign(app: GraphEmulator, kind: str, link: str, state: Json) -> str:
    log = app.store.changes
    return app.signer.sign({"k": link, "r": kind, "i": log.instance, "t": int(time.time()),
                            **state})


def _open(app: GraphEmulator, call: Call, kind: str, token: str, link: str) -> Json:
    """A token's state, or the error Graph answers for it."""
    log = app.store.changes
    payload = app.signer.unsign(token)
    if (payload is None or payload.get("k") != link or payload.get("r") != kind
            or payload.get("i") != log.instance or time.time() - payload["t"] > log.token_seconds):
        raise sync_state_not_found()
    issued_at = payload["s"] if link == "delta" else payload["to"]
    if issued_at < log.reset_before:
        raise GraphError(410, "resyncRequired", "The delta token is no longer valid: a full "
                         "synchronization is required.",
                         headers={"Location": _initial_url(call, kind, payload)})
    return payload


def _initial_url(call: Call, kind: str, state: Json) -> str:
    """The first query of a round with the options a token carries (its `$deltatoken` empty)."""
    parts = []
    if state.get("sel"):
        parts.append("$select=" + quote(",".join(state["sel"]), safe=","))
    if state.get("ids"):
        parts.append("$filter=" + quote(" or ".join(f"id eq '{i}'" for i in state["ids"]), safe="'"))
    parts.append("$deltatoken=")
    return f"{call.base}/{kind}/delta?" + "&".join(parts)


# ---- the route ------------------------------------------------------------------------------

def _delta(app: GraphEmulator, call: Call, kind: str) -> Reply:
    query = call.query
    check_options(query, {"$select", "$filter", "$skiptoken", "$deltatoken"})
    log = app.store.changes
    token = query.get("$deltatoken") or ""
    if "$skiptoken" in query:
        if {"$select", "$filter", "$deltatoken"} & query.keys():
            raise bad_request("Query options cannot be combined with a $skiptoken: they are "
                              "encoded in it.")
        state = _open(app, call, kind, query["$skiptoken"], "skip")
    elif token and token.lower() != "latest":
        if "$filter" in query:
            raise bad_request("$filter cannot be changed with a $deltatoken.")
        saved = _open(app, call, kind, token, "delta")
        select = _select(query, kind) if "$select" in query else saved.get("sel")
        with app.store.lock:
            state = {"sel": select, "ids": saved.get("ids"), "from": saved["s"], "to": log.seq}
    else:
        select, ids = _select(query, kind), _id_filter(query)
        with app.store.lock:
            state = {"sel": select, "ids": ids, "from": None, "to": log.seq}
        if token:  # latest: "the response will contain a @odata.deltaLink and no resource data"
            return _reply(app, call, kind, [], None, state)
    minimal = any(p.strip().lower() == "return=minimal"
                  for p in call.headers.get("prefer", "").split(","))
    with app.store.lock:
        items, cursor = _page(app.store, kind, state, minimal)
    return _reply(app, call, kind, items, cursor, state)


def _reply(app: GraphEmulator, call: Call, kind: str, items: list[Json], cursor: Any,
           state: Json) -> Reply:
    body: Json = {"@odata.context": f"{call.base}/$metadata#{kind}"}
    if cursor is not None:
        token = _sign(app, kind, "skip", {**state, "c": cursor})
        body["@odata.nextLink"] = f"{call.base}/{kind}/delta?$skiptoken={token}"
    else:
        token = _sign(app, kind, "delta", {"sel": state["sel"], "ids": state["ids"],
                                           "s": state["to"]})
        body["@odata.deltaLink"] = f"{call.base}/{kind}/delta?$deltatoken={token}"
    body["value"] = items
    return Reply(200, body)


# ---- pages ----------------------------------------------------------------------------------

def _sorted_ids(store: GraphStore, kind: str) -> list[str]:
    """Every current object id, sorted; cached until an object comes or goes."""
    objects = store.users_by_id if kind == USERS else store.teams_by_id
    log = store.changes
    key = (log.seq, len(objects))
    cached = log.sorted_ids.get(kind)
    if cached is None or cached[0] != key:
        cached = log.sorted_ids[kind] = (key, sorted(objects))
    return cached[1]


def _page(store: GraphStore, kind: str, state: Json, minimal: bool) -> tuple[list[Json], Any]:
    wanted = set(state["ids"]) if state.get("ids") else None
    cursor = state.get("c")
    if state["from"] is None:
        # First round: the objects as they are now, by id from the cursor on (keyset, so an
        # object created or deleted while paging never shifts another).
        ids = [i for i in _sorted_ids(store, kind) if wanted is None or i in wanted]
        start = 0 if cursor is None else bisect_right(ids, cursor)
        chunk = ids[start:start + PAGE]
        items = [_full(store, kind, i, state["sel"]) for i in chunk]
        return items, (chunk[-1] if start + PAGE < len(ids) else None)
    changes = store.changes.changes(kind, state["from"], state["to"])
    ids = sorted(i for i, net in changes.items() if (wanted is None or i in wanted)
                 and _tracked(store, kind, i, net, state["sel"]))
    start = cursor or 0
    chunk = ids[start:start + PAGE]
    items = [_changed(store, kind, i, changes[i], state["sel"], minimal) for i in chunk]
    return items, (start + PAGE if start + PAGE < len(ids) else None)


def _tracked(store: GraphStore, kind: str, object_id: str, net: Net,
             select: list[str] | None) -> bool:
    """Does this change concern what the round tracks? "If a change occurs to a property that
    is not selected, the resource ... does not appear in the delta response" (overview)."""
    if net.created or net.removed or _object(store, kind, object_id) is None:
        return True
    obj = _object(store, kind, object_id) or {}
    names = set(_properties(kind, select, obj))
    return bool(names & net.properties) or any(net.links.get(r) for r in _tracked_links(kind, select))


def _properties(kind: str, select: list[str] | None, sample: Json) -> list[str]:
    if select is None:
        return list(USER_DEFAULT_PROPERTIES) if kind == USERS else list(sample)
    names = [n for n in select if n not in GROUP_LINKS or kind == USERS]
    return names if "id" in names else ["id", *names]


def _tracked_links(kind: str, select: list[str] | None) -> list[str]:
    if kind == USERS:
        return []
    return ["members"] if select is None else [r for r in GROUP_LINKS if r in select]


def _object(store: GraphStore, kind: str, object_id: str) -> Json | None:
    if kind == USERS:
        return store.users_by_id.get(object_id)
    state = store.teams_by_id.get(object_id)
    return store.group_json(state) if state is not None else None


def _full(store: GraphStore, kind: str, object_id: str, select: list[str] | None) -> Json:
    obj = _object(store, kind, object_id) or {"id": object_id}
    out = apply_select(obj, _properties(kind, select, obj))
    if kind == GROUPS:
        links = store.group_links(store.teams_by_id[object_id])
        for rel in _tracked_links(kind, select):
            if links[rel]:
                out[f"{rel}@delta"] = [{"@odata.type": LINK_TYPE, "id": u} for u in links[rel]]
    return out


def _changed(store: GraphStore, kind: str, object_id: str, net: Net, select: list[str] | None,
             minimal: bool) -> Json:
    obj = _object(store, kind, object_id)
    if obj is None or net.removed:
        return {"id": object_id, "@removed": {"reason": net.removed or "deleted"}}
    names = _properties(kind, select, obj)
    if minimal and not net.created:
        names = [n for n in names if n == "id" or n in net.properties]
    out = apply_select(obj, names)
    for rel in _tracked_links(kind, select):
        changed = net.links.get(rel) or {}
        if changed:
            out[f"{rel}@delta"] = [
                {"@odata.type": LINK_TYPE, "id": u} if added else
                {"@odata.type": LINK_TYPE, "id": u, "@removed": {"reason": "deleted"}}
                for u, added in changed.items()]
    return out
