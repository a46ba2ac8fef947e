"""The Graph emulator's routes: the route table, the permissions each route needs, and
`execute`, which routes, checks, throttles and answers one Graph call.

Every Graph call — received over HTTP (graph_http.py) or as an item of a $batch (graph_batch.py)
— goes through `execute`, so inner batch requests are throttled and counted exactly like direct
ones: Graph throttles each request of a batch individually
(https://learn.microsoft.com/graph/json-batching).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from migrate.sandbox import graph_delta as delta
from migrate.sandbox import graph_files as files
from migrate.sandbox import graph_resources as res
from migrate.sandbox.graph_chat_resources import CHAT_PERMISSIONS, CHAT_ROUTES
from migrate.sandbox.graph_odata import GraphError, bad_request, error_body, parse_query
from migrate.sandbox.graph_resources import Call, Reply
from migrate.sandbox.ratelimit import format_retry_after

if TYPE_CHECKING:
    from migrate.sandbox.graph_emulator import GraphEmulator


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
        ("shares/{share}/driveItem", "shareDriveItem", None, files.get_drive_item),
        ("shares/{share}/driveItem/content", "shareContent", None, files.get_drive_item_content),
        ("drives/{drive}/items/{item}", "driveItem", None, files.get_drive_item),
        ("drives/{drive}/items/{item}/content", "driveItemContent", None, files.get_drive_item_content),
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


def _without_nonce(query: dict[str, str]) -> dict[str, str]:
    """The query without the nonce an `empty_page` fault puts on its nextLink (graph_http)."""
    query.pop("emptyPage", None)
    return query


def make_call(app: GraphEmulator, method: str, target: str, headers: dict[str, str],
              request_id: str, client_request_id: str) -> Call:
    """A Call for `target` = path after /v1.0 (with its query string)."""
    split = urlsplit(target)
    path = split.path
    segments = [unquote(s) for s in path.strip("/").split("/")] if path.strip("/") else []
    return Call(method, path, segments, _without_nonce(parse_query(split.query)), headers, app.url,
                request_id, client_request_id)
