"""A local Microsoft Graph v1.0 for the Teams side of `migrate`: real HTTP on 127.0.0.1.

What it emulates, with the Graph documentation page of each behaviour in parentheses (page
`api/user-list` is https://learn.microsoft.com/graph/api/user-list, and so on):

* Auth: `Authorization: Bearer <token>` from a fixed set; otherwise 401
  `InvalidAuthenticationToken` (errors). Every answer has `request-id` and
  `client-request-id` headers (the client's value echoed when it sent one).
* Users (api/user-list): `/users` with `$select`, the default property set without it, `$top`
  1..999 (default 100); `/users/{id | userPrincipalName}`.
* Teams (api/teams-list, teams-list-all-teams): `/teams` (only id, displayName, description,
  visibility set, the rest null),
  `/groups?$filter=resourceProvisioningOptions/Any(x:x eq 'Team')` (groups derived from teams),
  `/teams/{id}` (full team with isArchived), `/teams/{id}/members` (api/team-list-members),
  channels and `primaryChannel` (api/channel-list), channel members (api/channel-list-members).
* Evolvable enums (api/channel-list-messages, example 2): without `Prefer:
  include-unknown-enum-members` a shared channel's `membershipType` and a system event's
  `messageType` read `unknownFutureValue`.
* Messages (api/channel-list-messages, api/chatmessage-list-replies): roots (`$top` ≤ 50,
  default 20, `$expand=replies` with ≤ 1000 replies inline then `replies@odata.nextLink`), one
  message, replies, one reply; hosted contents metadata (contentBytes null) and `$value` bytes
  (api/chatmessagehostedcontent-get).
* `channels/getAllMessages` (api/channel-getallmessages): roots and replies of every channel of
  the team, with the `lastModifiedDateTime` gt/ge/lt/le filter.
* Chats (api/chat-list, chat-get, chat-list-members, chat-list-messages,
  chats-getallmessages): `/users/{id}/chats`, `/users/{id}/chats/getAllMessages` (a group chat's
  message once per current member asked about), `/chats/{id}`, members, messages, hosted
  contents; see graph_chat_resources.py.
* Files (api/shares-get, api/driveitem-get-content): `/shares/{u!…}/driveItem[/content]`,
  `/drives/{d}/items/{i}[/content]`; content answers 302 to an unauthenticated short-lived
  `/_download/…` URL that honours `Range` (206).
* Throttling (throttling-limits, throttling), see graph_routes.py, and `$batch` (json-batching),
  see graph_batch.py;
  seeded faults (errors).
* Errors (errors): unknown ids → 404 `NotFound` (users `Request_ResourceNotFound`, files
  `itemNotFound`); an unknown path segment → 400 "Resource not found for the segment '…'"
  (Graph's own wording for that case); bad query options → 400 `BadRequest`; a
  `$skiptoken` not issued for that same request → 400.
* Soft deletion (resources/chatmessage; reports such as
  github.com/microsoftgraph/microsoft-graph-docs/issues/7094): a deleted message stays listed
  with an empty body and `deletedDateTime` set.

What it simplifies (choices where Graph's documentation leaves things open are marked so):

* Read-only Graph: only GET (plus POST /$batch). Changes come from the control operations
  below (Python methods, or HTTP under /_control/), which stand in for users posting in Teams.
* Order: roots and replies newest first by createdDateTime (chat messages are documented as
  "latest first", github.com/microsoftgraph/microsoft-graph-docs/issues/12646; channel order is
  undocumented, api/channel-list-messages); getAllMessages oldest modification first
  (undocumented, emulator choice). Pages are keyset cursors signed into
  an opaque `$skiptoken`, so new or edited messages never shift or repeat an unchanged one.
* `GET …/messages/{id}` finds roots only; replies are read under `/replies/{id}`.
* No `$filter`/`$orderby`/`$search`/`$count` on users, teams or members; message endpoints
  refuse every option except `$top`/`$expand` as the docs say they are unsupported
  (api/channel-list-messages).
* Directory throttling uses a flat 30 rps instead of resource units (throttling-limits); files
  are not throttled (SharePoint's limits are separate from Teams' and not quantified here).
* No channel is shared into another team: `allChannels` = `channels`, `allMembers` = `members`.
* Delta queries only for the directory (`/users/delta`, `/groups/delta`: graph_delta.py);
  no channel-message or chat-message delta, incomingChannels, filesFolder, `root:/path:` drive
  addressing, or `/teamwork/deletedTeams`.
* Faults (FaultInjector kinds http_500/503/504, reset, 429_no_retry_after,
  drop_after_processing) hit whole HTTP requests (a $batch envelope, not its items).

Control API (no auth): GET /_control/counters, POST /_control/counters/reset,
POST /_control/faults {"seed", "rates", "only"}, POST /_control/messages {"teamId", "channelId",
"message"}, PATCH|DELETE /_control/messages/{teamId}/{channelId}/{messageId} (PATCH body =
changes), POST /_control/channels {"teamId", "channel", "members"}, POST /_control/members
{"teamId", "channelId"?, "member"}; chats: POST /_control/chats, /_control/chatMessages,
/_control/chatMembers, PATCH|DELETE /_control/chatMessages/{chatId}/{messageId}, DELETE
/_control/chatMembers/{chatId}/{userId} (graph_chat_resources.chat_control). Unknown ids → 404,
bad bodies → 400.

Counters (`counters()`): "requests" = HTTP requests received on /v1.0 and /_download;
"byRoute" = Graph calls by route name, inner $batch items included (the envelope counts as
"batch"); "batchItems"; "throttled" = 429s from rate limits (inner items included);
"byStatus"; "faults" = injected faults by kind; "bytesDownloaded".
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from migrate.sandbox.faults import FaultInjector, FaultPlan
from migrate.sandbox.graph_chats import ChatStore
from migrate.sandbox.graph_http import GraphHandler
from migrate.sandbox.graph_odata import Signer
from migrate.sandbox.graph_store import GraphStore
from migrate.sandbox.ratelimit import RateLimiter
from migrate.sandbox.server import EmulatorServer
from migrate.sandbox.tenant import SANDBOX_GRAPH_TOKEN, GraphTenant

Json = dict[str, Any]

# Requests per second per app per tenant by route class (the Microsoft Teams service limits of
# https://learn.microsoft.com/graph/throttling-limits), and whether the
# class is also capped per channel (1 rps) and per team (4 rps). The 4 rps cap is the
# emulator's reading of "≤4 rps per app on a given team": every request scoped to one team
# (getAllMessages included) counts against it. All channel-scoped classes share one 1 rps
# bucket per channel ("≤1 rps per app per tenant on a given channel").
LIMITS: dict[str, tuple[float, bool, bool]] = {
    "users": (30, False, False),          # directory: resource units in reality, see above
    "teams": (30, False, False),          # GET /teams, /groups ("GET team")
    "team": (30, False, True),            # GET /teams/{id}
    "members": (60, False, True),         # GET /teams/{id}/members
    "channels": (60, False, True),        # GET /teams/{id}/channels (+1 rps on the list)
    "channel": (30, True, True),          # GET channel, primaryChannel
    "channelMembers": (60, True, True),   # GET /teams/{id}/channels/{id}/members
    "messages": (20, True, True),         # list/get messages, replies, hosted contents
    "getAllMessages": (200, False, True),  # channels' and users' chats' alike
    # Chats: per-channel column = per chat, sharing the chat's one 1 rps bucket. List/get chat
    # and members are "Other GET Teams calls"; chat message reads "GET 1:1/group chat message".
    "chats": (30, True, False),
    "chatMessages": (20, True, False),
}
TEAM_RPS = 4.0
CHANNEL_RPS = 1.0
# "≤5 rps per user for List/Get chat" (https://learn.microsoft.com/graph/throttling-limits)
USER_RPS = {"chats": 5.0}


class GraphEmulator:
    def __init__(
        self,
        tenant: GraphTenant,
        *,
        rate_scale: float = 1.0,
        tokens: Iterable[str] = (SANDBOX_GRAPH_TOKEN,),
        seed: int = 0,
        faults: FaultPlan | None = None,
        port: int = 0,
        throttle: bool = True,
        permissions: Iterable[str] | None = None,
        latency: float = 0.0,
        all_messages_channels: Iterable[str] = ("standard", "private", "shared"),
        replies_next_link: bool = True,
        json_batching: bool = True,
        all_messages_filter: bool = True,
        expand_replies: bool = True,
    ) -> None:
        if rate_scale <= 0:
            raise ValueError("rate_scale must be positive")
        # Seconds each Graph answer takes (0: at once). Real Graph answers a page of messages in
        # a few hundred ms, and an export that reads one page after another is bound by that,
        # not by the limits: measured from outside, one team read page after page came in at
        # ≈180 messages/s (≈0.28 s a page of 50), whatever the rate scale. Not scaled.
        self.latency = latency
        # The membership types of the channels a team's getAllMessages returns. Its page names
        # "standard and private" channels only (https://learn.microsoft.com/graph/api/
        # channel-getallmessages); whether shared ones come too is unconfirmed, so a test can
        # have them left out, as a Graph that keeps to the letter of the page would.
        self.all_messages_channels = frozenset(all_messages_channels)
        # $expand=replies inlines at most 1000 replies; False leaves out the nextLink to the
        # rest, as Graph has been seen to (graph_resources._expanded_replies).
        self.replies_next_link = replies_next_link
        # False: POST /$batch is a path the service does not know (404), as a Graph-like
        # service or a proxy without JSON batching would answer.
        self.json_batching = json_batching
        # False: getAllMessages refuses $filter (400), as a service without that option would.
        self.all_messages_filter = all_messages_filter
        # False: a channel's messages refuse $expand=replies (400), as a service without it.
        self.expand_replies = expand_replies
        self.store, self.chats = self._stores(tenant)   # chats guarded by self.store.lock
        self.rate_scale = rate_scale
        self.tokens = frozenset(tokens)
        # Application permissions granted to the app; None grants everything. With a set,
        # routes needing none of them answer 403 like Graph (graph_routes.ROUTE_PERMISSIONS).
        self.permissions = None if permissions is None else frozenset(permissions)
        self.throttle = throttle
        self.limiter = RateLimiter()
        self.injector = FaultInjector(seed, faults)
        self.signer = Signer(tenant.tenant_id)
        self._counter_lock = threading.Lock()
        self.reset_counters()
        # Bound here, not in start(): a busy port fails at construction (OSError), and
        # origin/url are known before the server runs.
        self._server = EmulatorServer(GraphHandler, self, port=port)
        self._running = False
        self._stopped = False

    # A subclass serving a generated tenant (lazy_routes.LazyGraphEmulator) brings its own
    # stores and swaps some handlers of graph_routes.ROUTES.
    routes: list | None = None

    def _stores(self, tenant: GraphTenant) -> tuple[GraphStore, ChatStore]:
        store = GraphStore(tenant)
        return store, ChatStore(store, tenant)

    # ---- lifecycle ------------------------------------------------------------------------

    def start(self) -> GraphEmulator:
        if self._stopped:
            raise RuntimeError("a stopped Graph emulator cannot be started again")
        if not self._running:
            self._server.start()
            self._running = True
        return self

    def stop(self) -> None:
        """Stop serving and release the port (an emulator is not restarted after this)."""
        if self._stopped:
            return
        if not self._running:
            self._server.start()  # EmulatorServer.stop() waits for a running serve loop
        self._running, self._stopped = False, True
        self._server.stop()

    def __enter__(self) -> GraphEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def origin(self) -> str:
        return self._server.origin

    @property
    def url(self) -> str:
        """The MIGRATE_GRAPH_URL of this emulator."""
        return self.origin + "/v1.0"

    # ---- counters -------------------------------------------------------------------------

    def counters(self) -> Json:
        with self._counter_lock:
            return {
                "requests": self._counts["requests"],
                "throttled": self._counts["throttled"],
                "batchItems": self._counts["batchItems"],
                "bytesDownloaded": self._counts["bytesDownloaded"],
                "byRoute": dict(self._by_route),
                "byStatus": dict(self._by_status),
                "faults": dict(self._faults),
            }

    def reset_counters(self) -> None:
        with self._counter_lock:
            self._counts = {"requests": 0, "throttled": 0, "batchItems": 0, "bytesDownloaded": 0}
            self._by_route: dict[str, int] = {}
            self._by_status: dict[str, int] = {}
            self._faults: dict[str, int] = {}

    def count(self, name: str, amount: int = 1) -> None:
        with self._counter_lock:
            self._counts[name] += amount

    def count_route(self, route: str) -> None:
        with self._counter_lock:
            self._by_route[route] = self._by_route.get(route, 0) + 1

    def count_status(self, status: int) -> None:
        with self._counter_lock:
            key = str(status)
            self._by_status[key] = self._by_status.get(key, 0) + 1

    # ---- faults and throttling ----------------------------------------------------------------

    def configure_faults(self, seed: int, plan: FaultPlan) -> None:
        self.injector.configure(seed, plan)

    def draw_fault(self, target: str) -> str | None:
        kind = self.injector.draw(target)
        if kind is not None:
            with self._counter_lock:
                self._faults[kind] = self._faults.get(kind, 0) + 1
        return kind

    def throttle_wait(self, route_class: str, team_id: str | None = None,
                      channel_id: str | None = None, *, chat_id: str | None = None,
                      user_id: str | None = None) -> float:
        """0 when the request is admitted, else the seconds before a retry can succeed."""
        if not self.throttle or route_class not in LIMITS:
            return 0.0
        rate, per_channel, per_team = LIMITS[route_class]
        scopes = [self._scope(("tenant", route_class), rate)]
        if per_team and team_id is not None:
            scopes.append(self._scope(("team", team_id), TEAM_RPS))
        if per_channel and team_id is not None and channel_id is not None:
            scopes.append(self._scope(("channel", team_id, channel_id), CHANNEL_RPS))
        if route_class == "channels" and team_id is not None:
            # the table's per-channel column for listing channels: 1 rps on the team's list
            scopes.append(self._scope(("channel-list", team_id), CHANNEL_RPS))
        if per_channel and chat_id is not None:
            scopes.append(self._scope(("chat", chat_id), CHANNEL_RPS))
        if route_class in USER_RPS and user_id is not None:
            scopes.append(self._scope(("user", route_class, user_id.lower()), USER_RPS[route_class]))
        wait = self.limiter.check(scopes)
        if wait > 0:
            self.count("throttled")
        return wait

    def _scope(self, key: tuple, rate: float) -> tuple[tuple, float, float]:
        scaled = rate * self.rate_scale
        return key, scaled, max(1.0, scaled)  # burst: one second's worth

    # ---- control operations (stand-ins for people using Teams) ------------------------------

    def add_message(self, team_id: str, channel_id: str, message: Json) -> Json:
        """Post a message (a reply when it has replyToId); id, dates, etag and defaults filled."""
        return dict(self.store.add_message(team_id, channel_id, message))

    def edit_message(self, team_id: str, channel_id: str, message_id: str, changes: Json) -> Json:
        """Merge `changes`; lastModifiedDateTime and etag move, lastEditedDateTime if body did."""
        return dict(self.store.edit_message(team_id, channel_id, message_id, changes))

    def delete_message(self, team_id: str, channel_id: str, message_id: str) -> Json:
        """Soft delete: deletedDateTime set, body emptied, still listed."""
        return dict(self.store.delete_message(team_id, channel_id, message_id))

    def add_channel(self, team_id: str, channel: Json, members: Iterable[Json] = ()) -> Json:
        return dict(self.store.add_channel(team_id, channel, list(members)))

    def add_member(self, team_id: str, member: Json, channel_id: str | None = None) -> Json:
        return dict(self.store.add_member(team_id, member, channel_id))

    def update_channel(self, team_id: str, channel_id: str, changes: Json) -> Json:
        """Rename a channel or change its description, as PATCH /teams/{id}/channels/{id}."""
        return dict(self.store.update_channel(team_id, channel_id, changes))

    # ---- chats (graph_chats.py) ---------------------------------------------------------------

    def add_chat(self, chat: Json, members: Iterable[Json], messages: Iterable[Json] = ()) -> Json:
        """Create a chat (id, createdDateTime, webUrl… filled) with its members and messages."""
        return dict(self.chats.add_chat(chat, list(members), list(messages)))

    def add_chat_message(self, chat_id: str, message: Json) -> Json:
        """Post in a chat; id, dates, etag, chatId and defaults filled."""
        return dict(self.chats.add_message(chat_id, message))

    def edit_chat_message(self, chat_id: str, message_id: str, changes: Json) -> Json:
        """Merge `changes`; lastModifiedDateTime and etag move, lastEditedDateTime if body did."""
        return dict(self.chats.edit_message(chat_id, message_id, changes))

    def delete_chat_message(self, chat_id: str, message_id: str) -> Json:
        """Soft delete: deletedDateTime set, body emptied, still listed."""
        return dict(self.chats.delete_message(chat_id, message_id))

    def add_chat_member(self, chat_id: str, member: Json, *, event: bool = True) -> Json:
        """Add a member; with `event` the chat also gets Teams' membersAdded system message."""
        return dict(self.chats.add_member(chat_id, member, event=event))

    def remove_chat_member(self, chat_id: str, user_id: str, *, event: bool = True) -> list[Json]:
        """The user leaves: the chat drops out of their chats and getAllMessages, their messages
        stay; with `event` the chat gets a membersDeleted system message."""
        return [dict(m) for m in self.chats.remove_member(chat_id, user_id, event=event)]
