"""HTTP side of the Graph emulator: routing, auth, throttling, faults, $batch, downloads, control.

Every Graph call — received over HTTP or as an item of a $batch — goes through `execute`,
so inner batch requests are throttled and counted exactly like direct ones: Graph throttles each
request of a batch individually (https://learn.microsoft.com/graph/json-batching).
"""

from __future__ import annotations

import base64
import json
import math
import re
import time
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit

from migrate.sandbox import graph_delta as delta
from migrate.sandbox import graph_resources as res
from migrate.sandbox.faults import FaultPlan
from migrate.sandbox.graph_chat_resources import CHAT_PERMISSIONS, CHAT_ROUTES, chat_control
from migrate.sandbox.graph_odata import GraphError, bad_request, error_body, parse_query
from migrate.sandbox.graph_resources import Call, Reply
from migrate.sandbox.ratelimit import format_retry_after
from migrate.sandbox.server import JsonHandler

if TYPE_CHECKING:
    from migrate.sandbox.graph_emulator import GraphEmulator

Json = dict[str, Any]
JSON_TYPE = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
BATCH_MAX = 20  # requests per $batch at most (https://learn.microsoft.com/graph/json-batching)

_T, _C, _M = "teams/{team}", "channels/{channel}", "messages/{message}"
# (path pattern, route name, throttle class of graph_emulator.LIMITS or None, handler)
ROUTES: list[tuple[tuple[str, ...], str, str | None, Any]] = [
    (p.split("/"), name, cls, fn) for p, name, cls, fn in [
        ("users", "users", "users", res.list_users),
        # before users/{user}: delta is a function, not a user id
        # (https://learn.microsoft.com/graph/api/user-delta)
        ("users/delta", "usersDelta", "users", delta.users_delta),
        ("users/{user}", "user", "users", res.get_user),
        ("groups", "groups", "teams", res.list_groups),
        ("groups/delta", "groupsDelta", "teams", delta.groups_delta),
        ("teams", "teams", "teams", res.list_teams),
        (_T, "team", "team", res.get_team),
        (f"{_T}/members", "teamMembers", "members", res.list_team_members),
        (f"{_T}/channels", "channels", "channels", res.list_channels),
        # allChannels adds the channels shared into a team; none is here, so allChannels =
        # channels (https://learn.microsoft.com/graph/api/channel-list)
        (f"{_T}/allChannels", "allChannels", "channels", res.list_channels),
        (f"{_T}/channels/getAllMessages", "getAllMessages", "getAllMessages", res.get_all_messages),
        (f"{_T}/primaryChannel", "primaryChannel", "channel", res.get_channel),
        (f"{_T}/{_C}", "channel", "channel", res.get_channel),
        (f"{_T}/{_C}/members", "channelMembers", "channelMembers", res.list_channel_members),
        # allMembers adds the members of teams a shared channel is shared with; no channel is
        # shared here, so allMembers = members
        # (https://learn.microsoft.com/graph/api/channel-list-members)
        (f"{_T}/{_C}/allMembers", "channelAllMembers", "channelMembers", res.list_channel_members),
        (f"{_T}/{_C}/messages", "messages", "messages", res.list_messages),
        (f"{_T}/{_C}/{_M}", "message", "messages", res.get_message),
        (f"{_T}/{_C}/{_M}/replies", "replies", "messages", res.list_replies),
        (f"{_T}/{_C}/{_M}/replies/{{reply}}", "reply", "messages", res.get_message),
        (f"{_T}/{_C}/{_M}/hostedContents", "hostedContents", "messages", res.list_hosted_contents),
        (f"{_T}/{_C}/{_M}/hostedContents/{{hosted}}", "hostedContent", "messages", res.get_hosted_content),
        (f"{_T}/{_C}/{_M}/hostedContents/{{hosted}}/$value", "hostedContentValue", "messages", res.get_hosted_content),
        (f"{_T}/{_C}/{_M}/replies/{{reply}}/hostedContents", "hostedContents", "messages", res.list_hosted_contents),
        (f"{_T}/{_C}/{_M}/replies/{{reply}}/hostedContents/{{hosted}}", "hostedContent", "messages", res.get_hosted_content),
        (f"{_T}/{_C}/{_M}/replies/{{reply}}/hostedContents/{{hosted}}/$value", "hostedContentValue", "messages", res.get_hosted_content),
        ("shares/{share}/driveItem", "shareDriveItem", None, res.get_drive_item),
        ("shares/{share}/driveItem/content", "shareContent", None, res.get_drive_item_content),
        ("drives/{drive}/items/{item}", "driveItem", None, res.get_drive_item),
        ("drives/{drive}/items/{item}/content", "driveItemContent", None, res.get_drive_item_content),
        # 1:1, group and meeting chats (graph_chat_resources.py)
        *CHAT_ROUTES,
    ]
]


# Application permissions that open each route: any one of them, least privileged first (as in
# the permissions table of each route's page under https://learn.microsoft.com/graph/api/).
# An emulator built with `permissions=` answers 403 where none is granted.
_FILES = ("Files.Read.All", "Files.ReadWrite.All", "Sites.Read.All", "Sites.ReadWrite.All")
_MESSAGES = ("ChannelMessage.Read.All",)
ROUTE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "users": ("User.Read.All", "User.ReadWrite.All", "Directory.Read.All"),
    "user": ("User.Read.All", "User.ReadWrite.All", "Directory.Read.All"),
    # delta needs what reading the collection needs (the permissions of
    # https://learn.microsoft.com/graph/api/user-delta and …/group-delta)
    "usersDelta": ("User.Read.All", "User.ReadWrite.All", "Directory.Read.All"),
    "groups": ("GroupMember.Read.All", "Group.Read.All", "Directory.Read.All"),
    "groupsDelta": ("GroupMember.Read.All", "Group.Read.All", "Directory.Read.All"),
    "teams": ("Team.ReadBasic.All", "TeamSettings.Read.All"),
    "team": ("Team.ReadBasic.All", "TeamSettings.Read.All", "Group.Read.All"),
    "teamMembers": ("TeamMember.Read.All", "TeamMember.ReadWrite.All"),
    "channels": ("Channel.ReadBasic.All", "ChannelSettings.Read.All"),
    "allChannels": ("Channel.ReadBasic.All", "ChannelSettings.Read.All"),
    "primaryChannel": ("Channel.ReadBasic.All", "ChannelSettings.Read.All"),
    "channel": ("Channel.ReadBasic.All", "ChannelSettings.Read.All"),
    "channelMembers": ("ChannelMember.Read.All", "ChannelMember.ReadWrite.All"),
    "channelAllMembers": ("ChannelMember.Read.All", "ChannelMember.ReadWrite.All"),
    "getAllMessages": _MESSAGES,
    "messages": _MESSAGES, "message": _MESSAGES, "replies": _MESSAGES, "reply": _MESSAGES,
    "hostedContents": _MESSAGES, "hostedContent": _MESSAGES, "hostedContentValue": _MESSAGES,
    # /shares is documented with Files.ReadWrite.All as least privileged
    # (https://learn.microsoft.com/graph/api/shares-get)
    "shareDriveItem": ("Files.ReadWrite.All", "Sites.ReadWrite.All"),
    "shareContent": ("Files.ReadWrite.All", "Sites.ReadWrite.All"),
    "driveItem": _FILES, "driveItemContent": _FILES,
    **CHAT_PERMISSIONS,
}
_DIRECTORY_ROUTES = {"users", "user", "usersDelta", "groups", "groupsDelta"}


def permission_denied(name: str, granted: frozenset[str]) -> GraphError | None:
    """The 403 Graph answers when the app holds none of the route's permissions: directory
    reads say Authorization_RequestDenied, Teams APIs name the roles they require."""
    needed = ROUTE_PERMISSIONS.get(name, ())
    if not needed or granted & set(needed):
        return None
    if name in _DIRECTORY_ROUTES:
        return GraphError(403, "Authorization_RequestDenied",
                          "Insufficient privileges to complete the operation.")
    roles = ", ".join(sorted(granted))
    return GraphError(403, "Forbidden", "Missing role permissions on the request. API requires "
                      f"one of '{', '.join(needed)}'. Roles on the request '{roles}'.")


def _match(pattern: tuple[str, ...], segments: list[str]) -> dict[str, str] | None:
    if len(pattern) != len(segments):
        return None
    params: dict[str, str] = {}
    for want, got in zip(pattern, segments, strict=True):
        if want.startswith("{"):
            params[want[1:-1]] = got
        elif want.lower() != got.lower():
            return None
    return params


def _unknown_segment(segments: list[str]) -> str:
    for i in range(len(segments)):
        if not any(_match(p[:i + 1], segments[:i + 1]) is not None for p, *_ in ROUTES):
            return segments[i]
    return segments[-1] if segments else ""


def execute(app: GraphEmulator, call: Call) -> Reply:
    """Route, throttle and answer one Graph call; errors become Graph error replies."""
    try:
        for pattern, name, cls, handler in getattr(app, "routes", None) or ROUTES:
            params = _match(pattern, call.segments)
            if params is None:
                continue
            app.count_route(name)
            if call.method not in ("GET", "HEAD"):
                raise GraphError(405, "Request_BadRequest",
                                 f"The HTTP method '{call.method}' is not supported for this resource.")
            call.params = params
            if app.permissions is not None:
                denied = permission_denied(name, app.permissions)
                if denied is not None:
                    raise denied
            if cls is not None:
                wait = app.throttle_wait(cls, params.get("team"), params.get("channel"),
                                         chat_id=params.get("chat"), user_id=params.get("user"))
                if wait > 0:
                    # rounded up to the ms: a client waiting exactly Retry-After then succeeds
                    reply = throttled_reply(call, format_retry_after(math.ceil(wait * 1000) / 1000))
                    break
            reply = handler(app, call)
            break
        else:
            # what Graph answers for a path it does not know
            app.count_route("unknown")
            raise bad_request(f"Resource not found for the segment '{_unknown_segment(call.segments)}'.")
    except GraphError as exc:
        reply = Reply(exc.status, error_body(exc.code, exc.message, call.request_id,
                                             call.client_request_id, exc.inner), dict(exc.headers))
    except Exception as exc:  # an emulator bug: answer it visibly instead of hanging up
        reply = Reply(500, error_body("generalException", f"emulator error: {type(exc).__name__}: {exc}",
                                      call.request_id, call.client_request_id))
    app.count_status(reply.status)
    return reply


def throttled_reply(call: Call, retry_after: str | None) -> Reply:
    """429 with the body Graph documents (https://learn.microsoft.com/graph/throttling);
    `retry_after` None for the header-less variant."""
    inner = {"code": "429", "message": "Please retry after", "status": "429"}
    body = error_body("TooManyRequests", "Please retry again later.", call.request_id,
                      call.client_request_id, inner)
    return Reply(429, body, {"Retry-After": retry_after} if retry_after else {})


def make_call(app: GraphEmulator, method: str, target: str, headers: dict[str, str],
              request_id: str, client_request_id: str) -> Call:
    """A Call for `target` = path after /v1.0 (with its query string)."""
    split = urlsplit(target)
    path = split.path
    segments = [unquote(s) for s in path.strip("/").split("/")] if path.strip("/") else []
    return Call(method, path, segments, parse_query(split.query), headers, app.url,
                request_id, client_request_id)


# ---- $batch (https://learn.microsoft.com/graph/json-batching) ------------------------------

def run_batch(app: GraphEmulator, payload: Any, client_request_id: str) -> Json:
    requests = payload.get("requests") if isinstance(payload, dict) else None
    if not isinstance(requests, list) or not requests:
        raise bad_request("Invalid batch payload format.")
    if len(requests) > BATCH_MAX:
        raise bad_request(f"The number of batch requests ({len(requests)}) exceeds the maximum of {BATCH_MAX}.")
    ids = []
    for item in requests:
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in ("id", "method", "url")):
            raise bad_request("Each batch request must have string 'id', 'method' and 'url' properties.")
        ids.append(item["id"])
    if len(set(ids)) != len(ids):
        raise bad_request("Batch request ids must be unique.")
    for item in requests:
        deps = item.get("dependsOn") or []
        if not isinstance(deps, list) or any(d not in ids or d == item["id"] for d in deps):
            raise bad_request(f"Request '{item['id']}' has an invalid dependsOn.")
    statuses: dict[str, int] = {}
    responses: list[Json] = []
    pending = list(requests)
    while pending:  # dependencies first; a cycle never becomes ready
        ready = [r for r in pending if all(d in statuses for d in r.get("dependsOn") or [])]
        if not ready:
            raise bad_request("The dependsOn of the batch requests form a cycle.")
        for item in ready:
            pending.remove(item)
            app.count("batchItems")
            statuses[item["id"]], response = _batch_item(app, item, client_request_id, statuses)
            responses.append(response)
    order = {rid: i for i, rid in enumerate(ids)}
    responses.sort(key=lambda r: order[r["id"]])
    return {"responses": responses}


def _batch_item(app: GraphEmulator, item: Json, client_request_id: str,
                statuses: dict[str, int]) -> tuple[int, Json]:
    request_id = str(uuid.uuid4())
    failed = [d for d in item.get("dependsOn") or [] if not 200 <= statuses[d] < 300]
    if failed:
        body = error_body("FailedDependency", f"Dependency {failed[0]} failed.", request_id, client_request_id)
        return 424, {"id": item["id"], "status": 424, "headers": {"Content-Type": "application/json"}, "body": body}
    url = item["url"]
    if url.lower().startswith("http"):  # absolute URLs are tolerated: keep what follows /v1.0
        url = url.split("/v1.0", 1)[-1]
    # only the item's own headers apply to it (Prefer, ConsistencyLevel…), not the envelope's
    inner_headers = {str(k).lower(): str(v) for k, v in (item.get("headers") or {}).items()}
    call = make_call(app, item["method"].upper(), "/" + url.lstrip("/"), inner_headers,
                     request_id, client_request_id)
    reply = execute(app, call)
    out_headers = dict(reply.headers)
    if reply.raw is not None:
        out_headers["Content-Type"] = reply.content_type or "application/octet-stream"
        # non-JSON bodies are base64-encoded inside a JSON batch answer
        body: Any = base64.b64encode(reply.raw).decode("ascii") if reply.raw else None
    else:
        out_headers["Content-Type"] = "application/json"
        body = reply.body
    return reply.status, {"id": item["id"], "status": reply.status, "headers": out_headers, "body": body}


# ---- HTTP handler ------------------------------------------------------------------------------

class GraphHandler(JsonHandler):
    def do_GET(self) -> None:  # noqa: N802
        self._dispatch()

    do_POST = do_PATCH = do_DELETE = do_PUT = do_HEAD = do_GET  # noqa: N815

    @property
    def app(self) -> GraphEmulator:
        return self.server.app  # type: ignore[attr-defined]

    def _dispatch(self) -> None:
        path = urlsplit(self.path).path
        if path.startswith("/_control/"):
            self._control(path)
        elif path.startswith("/_download/"):
            self._graph_like(path, self._download)
        elif path == "/v1.0" or path.startswith("/v1.0/"):
            self._graph_like(path, self._graph)
        else:
            self.send_json(404, {"error": {"code": "NotFound", "message": f"No such path {path}"}})

    def _graph_like(self, path: str, serve: Any) -> None:
        """Count, draw a fault (before any routing: a 500, 503 or 504 can answer any Graph request,
        https://learn.microsoft.com/graph/errors) and serve."""
        app = self.app
        app.count("requests")
        if app.latency:
            time.sleep(app.latency)   # the service's round trip (GraphEmulator.latency)
        self._drop_answer = False
        self._request_id = str(uuid.uuid4())
        self._client_request_id = self.headers.get("client-request-id") or self._request_id
        fault = app.draw_fault(path)
        if fault == "reset":
            self.read_body()
            self.reset_connection()
            return
        if fault in ("http_500", "http_503", "http_504", "429_no_retry_after"):
            self.read_body()
            self._send(self._fault_reply(fault))
            return
        # drop_after_processing: the work (counting, throttling) is done, the answer is lost
        self._drop_answer = fault == "drop_after_processing"
        serve(path)

    def _fault_reply(self, fault: str) -> Reply:
        call = Call(self.command, "", [], {}, {}, "", self._request_id, self._client_request_id)
        # Older reports of Teams APIs answering 429 without Retry-After:
        # https://github.com/microsoftgraph/microsoft-graph-docs/issues/13054
        if fault == "429_no_retry_after":
            self.app.count_status(429)
            return throttled_reply(call, None)
        status, code, message = {
            "http_500": (500, "generalException", "An internal server error occurred."),
            "http_503": (503, "serviceNotAvailable", "The service is temporarily unavailable."),
            "http_504": (504, "gatewayTimeout", "The gateway did not receive a timely response."),
        }[fault]
        self.app.count_status(status)
        return Reply(status, error_body(code, message, self._request_id, self._client_request_id))

    def _send(self, reply: Reply) -> None:
        if self._drop_answer:
            self.reset_connection()
            return
        headers = {"request-id": self._request_id, "client-request-id": self._client_request_id,
                   **reply.headers}
        if reply.raw is not None:
            self.send_bytes(reply.status, reply.raw, reply.content_type or "application/octet-stream", headers)
        else:
            body = b"" if reply.body is None else json.dumps(reply.body, ensure_ascii=False).encode()
            self.send_bytes(reply.status, body, JSON_TYPE, headers)

    def _graph(self, path: str) -> None:
        app = self.app
        body = self.read_body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        target = self.path[len("/v1.0"):] or "/"
        call = make_call(app, self.command, target, headers, self._request_id, self._client_request_id)
        auth = headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or token.strip() not in app.tokens:
            message = "Access token is empty." if not auth else "Access token validation failure."
            app.count_status(401)
            self._send(Reply(401, error_body("InvalidAuthenticationToken", message, self._request_id,
                                             self._client_request_id),
                             {"WWW-Authenticate": 'Bearer realm="", error="invalid_token"'}))
            return
        if [s.lower() for s in call.segments] == ["$batch"]:
            self._send(self._batch(call, body))
            return
        self._send(execute(app, call))

    def _batch(self, call: Call, body: bytes) -> Reply:
        app = self.app
        app.count_route("batch")
        try:
            if call.method != "POST":
                raise GraphError(405, "Request_BadRequest", "The $batch endpoint only accepts POST.")
            try:
                payload = json.loads(body or b"null")
            except json.JSONDecodeError:
                raise bad_request("Invalid batch payload format.") from None
            reply = Reply(200, run_batch(app, payload, self._client_request_id))
        except GraphError as exc:
            reply = Reply(exc.status, error_body(exc.code, exc.message, self._request_id,
                                                 self._client_request_id))
        app.count_status(reply.status)
        return reply

    def _download(self, path: str) -> None:
        """The pre-authenticated URL a /content 302 points to: no Authorization, Range → 206."""
        app = self.app
        payload = app.signer.unsign(path.rsplit("/", 1)[-1])
        item = None
        if payload and payload.get("k") == "download" and payload.get("e", 0) >= time.time():
            item = app.store.drive_items.get((payload["d"], payload["i"]))
        if item is None:
            app.count_status(401)
            self._send(Reply(401, {"error": {"code": "unauthenticated",
                                             "message": "The download URL is invalid or expired."}}))
            return
        data, status, headers = item.data, 200, {"Accept-Ranges": "bytes",
                                                 "Content-Disposition": _content_disposition(item.name)}
        rng = self.headers.get("Range")
        if rng:
            span = _byte_range(rng, len(data))
            if span is None:
                app.count_status(416)
                self._send(Reply(416, raw=b"", headers={"Content-Range": f"bytes */{len(data)}"}))
                return
            start, end = span
            data, status = data[start:end + 1], 206
            headers["Content-Range"] = f"bytes {start}-{end}/{len(item.data)}"
        app.count_status(status)
        app.count("bytesDownloaded", len(data) if self.command != "HEAD" else 0)
        self._send(Reply(status, raw=data, content_type=item.mime_type, headers=headers))

    def _control(self, path: str) -> None:
        """Test hooks, no auth: counters, faults and changes standing in for Teams users."""
        app = self.app
        parts = [unquote(s) for s in path.strip("/").split("/")[1:]]
        method = self.command
        try:
            raw = self.read_body()
            data = json.loads(raw) if raw else {}
            if parts == ["counters"] and method == "GET":
                return self.send_json(200, app.counters())
            if parts == ["counters", "reset"] and method == "POST":
                app.reset_counters()
                return self.send_json(200, app.counters())
            if parts == ["faults"] and method == "POST":
                plan = FaultPlan(dict(data.get("rates") or {}), tuple(data.get("only") or ()))
                app.configure_faults(int(data.get("seed", 0)), plan)
                return self.send_json(200, {"seed": int(data.get("seed", 0)), "rates": plan.rates,
                                            "only": list(plan.only)})
            if parts == ["messages"] and method == "POST":
                msg = app.add_message(_need(data, "teamId"), _need(data, "channelId"),
                                      _need(data, "message"))
                return self.send_json(201, msg)
            if len(parts) == 4 and parts[0] == "messages" and method == "PATCH":
                return self.send_json(200, app.edit_message(*parts[1:], data))
            if len(parts) == 4 and parts[0] == "messages" and method == "DELETE":
                return self.send_json(200, app.delete_message(*parts[1:]))
            if parts == ["channels"] and method == "POST":
                channel = app.add_channel(_need(data, "teamId"), _need(data, "channel"),
                                          data.get("members") or [])
                return self.send_json(201, channel)
            if parts == ["members"] and method == "POST":
                member = app.add_member(_need(data, "teamId"), _need(data, "member"),
                                        data.get("channelId"))
                return self.send_json(201, member)
            reply = (self._directory_control(parts, method, data)
                     or chat_control(app, parts, method, data))
            if reply is not None:
                return self.send_json(*reply)
            return self.send_json(404, {"error": {"code": "NotFound",
                                                  "message": f"no control operation {method} {path}"}})
        except KeyError as exc:  # unknown team, channel or message
            return self.send_json(404, {"error": {"code": "NotFound", "message": str(exc.args[0])}})
        except (ValueError, TypeError, AttributeError) as exc:
            return self.send_json(400, {"error": {"code": "BadRequest", "message": str(exc)}})

    def _directory_control(self, parts: list[str], method: str, data: Any) -> tuple[int, Any] | None:
        """Changes to users, teams and team membership, which the delta routes report:
        POST /_control/users {"user"}, PATCH|DELETE /_control/users/{id}, POST /_control/teams
        {"team", "members"?, "channels"?: [{"channel", "members"?}]}, PATCH /_control/teams/{id},
        DELETE /_control/members/{teamId}[/{channelId}]/{userId}, POST /_control/delta
        {"tokenSeconds"?: lifetime of delta tokens, "resync"?: true = 410 for every token}."""
        store = self.app.store
        if parts == ["users"] and method == "POST":
            return 201, dict(store.add_user(_need(data, "user")))
        if len(parts) == 2 and parts[0] == "users" and method == "PATCH":
            return 200, dict(store.update_user(parts[1], data))
        if len(parts) == 2 and parts[0] == "users" and method == "DELETE":
            return 200, dict(store.delete_user(parts[1]))
        if parts == ["teams"] and method == "POST":
            return 201, dict(store.add_team(_need(data, "team"), data.get("members") or [],
                                            data.get("channels") or [], data.get("group")))
        if len(parts) == 2 and parts[0] == "teams" and method == "PATCH":
            return 200, dict(store.update_team(parts[1], data))
        if len(parts) in (3, 4) and parts[0] == "members" and method == "DELETE":
            channel = parts[2] if len(parts) == 4 else None
            return 200, store.remove_member(parts[1], parts[-1], channel)
        if parts == ["delta"] and method == "POST":
            with store.lock:
                if data.get("tokenSeconds") is not None:
                    store.changes.token_seconds = float(data["tokenSeconds"])
                if data.get("resync"):
                    store.changes.resync()
                return 200, {"tokenSeconds": store.changes.token_seconds,
                             "resetBefore": store.changes.reset_before}
        return None


def _need(data: Any, key: str) -> Any:
    if not isinstance(data, dict) or data.get(key) is None:
        raise ValueError(f"the request body needs {key!r}")
    return data[key]


def _content_disposition(name: str) -> str:
    """An attachment header any file name fits in: HTTP headers are Latin-1, so a name such as
    a Japanese chat file's goes in `filename*` as UTF-8 with an ASCII fallback beside it
    (https://www.rfc-editor.org/rfc/rfc6266#section-4.3)."""
    fallback = "".join(c if " " <= c < "\x7f" and c not in '"\\' else "_" for c in name)
    if fallback == name:
        return f'attachment; filename="{name}"'
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """One `bytes=a-b` / `a-` / `-n` range → inclusive (start, end), or None if unsatisfiable."""
    m = re.fullmatch(r"\s*bytes=(\d*)-(\d*)\s*", header)
    if not m or (not m.group(1) and not m.group(2)) or size == 0:
        return None
    if not m.group(1):
        n = int(m.group(2))
        return (max(0, size - n), size - 1) if n > 0 else None
    start = int(m.group(1))
    end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
    return (start, end) if start <= end and start < size else None
