"""A local emulator of the Slack Web API, for tests, `migrate demo` and benchmarks.

What it emulates (the Slack pages named in parentheses are
https://docs.slack.dev/reference/methods/<method name>, unless given in full):
- the methods the importer uses — auth.test, team.info, users.list/info/lookupByEmail,
  conversations.list/create/info/invite/join/setTopic/setPurpose/archive/members/history/
  replies, chat.postMessage/update/delete, files.getUploadURLExternal + the upload POST +
  files.completeUploadExternal, reactions.add, pins.add, bookmarks.add — with their arguments
  as slack_sdk sends them (form, JSON or multipart bodies; POST or GET), their error codes
  (from each method's page; per method in the tables that slack_methods.py merges,
  checked against ../shared/contracts/slack-web-methods.json; a missing required argument
  answers invalid_arguments with response_metadata.messages) and answer shapes;
- auth (Bearer header or `token` field: not_authed, invalid_auth) and bot scopes
  (missing_scope with `needed`/`provided`; a method passes with any one of its scopes);
- rate limits (https://docs.slack.dev/apis/web-api/rate-limits): a token bucket per method per
  workspace at its tier (Tier 1 1/min, 2 20/min, 3 50/min, 4 100/min, auth.test 600/min);
  chat.postMessage 1/s per channel
  plus a workspace cap (`post_cap_per_minute`, "several hundred per minute" is all Slack says);
  files.completeUploadExternal shares count against the same posting buckets. Everything is
  multiplied by `rate_scale`. A refused call gets HTTP 429 + Retry-After + `ratelimited`.
  Burst allowances are unpublished: each bucket holds one second's worth of tokens
  (at least one);
- channel rules: names (conversations.create), archived names stay taken, bots removed on
  archive (reported in github.com/elastic/connectors/issues/1972), private channels invisible
  unless the bot is a member, all-or-nothing invites (conversations.invite);
- messages: ts strictly increasing per channel ("%d.%06d"), threads with reply_count/
  latest_reply on roots, broadcasts, metadata returned only with include_all_metadata
  (conversations.history), text over 40,000 chars truncated (chat.postMessage), msg_too_long
  for chat.update over 4,000 (chat.update);
- seeded faults (faults.py): http_500 (JSON internal_error or an HTML page), reset (no answer,
  nothing done) and drop_after_processing (done and stored, then no answer: Slack has no
  idempotency key, so such a post is in doubt — github.com/slackapi/slack-api-specs/issues/10).

- Slack's import tool (slack_import.py): an export ZIP posted to /_control/import (or given to
  import_bundle) adds users, channels, DMs and group DMs and messages with their original ts.

- Enterprise Grid (slack_org.py): several workspaces of one org at once (a SlackOrg), a bot
  token per workspace and org-level tokens that name the workspace with team_id; every rate
  limit bucket is per workspace ("per API method per workspace per app"), so k workspaces have
  k posting budgets; state() and counters() per workspace (team id) or in total.

What it simplifies: one app; DMs/MPIMs exist only through imports; no user tokens, shared
(multi-workspace) channels or Events API; messages are never rendered (no mrkdwn parsing, no
auto-generated rich_text blocks, no unfurls — the unfurl/parse flags are only recorded for
state()); file processing is synchronous unless `file_share_delay_s` holds a completed
share's message back from history and replies for that long, as Slack's asynchronous
processing can; the 2025 history limits for distributed
non-Marketplace apps (conversations.history) are not applied (internal customer-built apps keep
Tier 3, and the project's Slack app is an internal one). Assumptions where Slack is silent are
commented where they are made.
"""

from __future__ import annotations

import json
import math
import random
import threading
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from migrate.sandbox import slack_files, slack_import
from migrate.sandbox.faults import FaultInjector, FaultPlan
from migrate.sandbox.ratelimit import RateLimiter, format_retry_after
from migrate.sandbox.server import EmulatorServer
from migrate.sandbox.slack_methods import GENERIC_ERRORS, METHODS
from migrate.sandbox.slack_org import Counters, Grid, SlackOrg
from migrate.sandbox.slack_routes import SlackHandler
from migrate.sandbox.slack_state import Ctx, Json, MethodSpec, SlackError, Store
from migrate.sandbox.tenant import SlackWorkspace

# Every bot scope the tool needs (`scopes=None`). chat:write.public is left out on purpose:
# the importer posts only where its bot is a member, so not_in_channel stays observable.
DEFAULT_SCOPES = frozenset({
    "chat:write", "chat:write.customize", "channels:read", "groups:read", "channels:manage",
    "groups:write", "channels:write.invites", "groups:write.invites", "channels:write.topic",
    "groups:write.topic", "channels:history", "groups:history", "channels:join", "users:read",
    "users:read.email", "team:read", "files:write", "reactions:write", "pins:write",
    "bookmarks:write",
})

TIER_PER_MINUTE = {"Tier 1": 1.0, "Tier 2": 20.0, "Tier 3": 50.0, "Tier 4": 100.0}
SPECIAL_PER_MINUTE = {"auth.test": 600.0}  # chat.postMessage is limited per channel instead
POST_PER_CHANNEL_PER_S = 1.0


@dataclass
class Reply:
    """What the HTTP handler sends. action: "answer", "reset" (no answer, nothing done) or
    "drop" (done, then the connection is closed without an answer)."""

    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    action: str = "answer"


def json_reply(status: int, payload: Any, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"),
                 headers=headers or {})


class SlackEmulator:
    """Serves one workspace (`SlackEmulator(workspace)`, its tokens `tokens`) or the workspaces
    of an Enterprise Grid org (`SlackEmulator(SlackOrg(...))`, or `workspaces=[...]` with
    the default enterprise and tokens of slack_org.py). `store` is the (first) workspace's
    state; `stores` maps every team id to its own. Imports (`importer`) go to `store`: an
    import lands in one workspace, never in the Grid org itself."""

    def __init__(
        self,
        workspace: SlackWorkspace | SlackOrg | None = None,
        *,
        workspaces: list[SlackWorkspace] | None = None,
        rate_scale: float = 1.0,
        tokens: Iterable[str] | None = None,
        scopes: Iterable[str] | None = None,
        seed: int = 0,
        faults: FaultPlan | None = None,
        port: int = 0,
        throttle: bool = True,
        post_cap_per_minute: float = 300.0,
        import_interval_s: float = 0.0,
        file_share_delay_s: float = 0.0,
    ) -> None:
        if rate_scale <= 0:
            raise ValueError(f"rate_scale must be positive, got {rate_scale}")
        if (workspace is None) == (workspaces is None):
            raise ValueError("give either a workspace (or SlackOrg) or workspaces=[...]")
        if workspaces is not None:
            workspace = SlackOrg({"id": "E0SANDBOX", "name": "Sandbox Org",
                                  "domain": "sandbox-org"}, list(workspaces))
        assert workspace is not None
        self.rate_scale = rate_scale
        self.grid = Grid(workspace, None if tokens is None else tuple(tokens), seed)
        self.stores: dict[str, Store] = self.grid.stores
        self.store = self.grid.primary
        self.tokens = self.grid.tokens
        self.scopes = DEFAULT_SCOPES if scopes is None else frozenset(scopes)
        self.throttle = throttle
        self.post_cap_per_minute = post_cap_per_minute
        # Slack starts at most one import per hour: import_interval_s=3600 emulates it.
        self.importer = slack_import.Importer(self.store, import_interval_s)
        for store in self.stores.values():   # file shares processed asynchronously (slack_state)
            store.share_delay_s = file_share_delay_s
        self.limiter = RateLimiter()
        self._faults = FaultInjector(seed, faults)
        self._fault_bodies = random.Random(seed)  # picks the http_500 body variant
        self._counter_lock = threading.Lock()
        self.reset_counters()
        self._port = port
        self._server: EmulatorServer | None = None

    # ------------------------------------------------------------ lifecycle

    def start(self) -> SlackEmulator:
        if self._server is not None:
            raise RuntimeError("the Slack emulator is already started")
        self._server = EmulatorServer(SlackHandler, self, port=self._port).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> SlackEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def origin(self) -> str:
        if self._server is None:
            raise RuntimeError("the Slack emulator is not started: call start() first")
        return self._server.origin

    @property
    def url(self) -> str:
        return self.origin + "/api/"

    # ------------------------------------------------------------ control

    def configure_faults(self, seed: int, plan: FaultPlan) -> None:
        self._faults.configure(seed, plan)
        self._fault_bodies = random.Random(seed)

    def counters(self, team_id: str | None = None) -> dict:
        """calls: requests per method name (refused ones too; "upload" = POSTs to upload URLs);
        ratelimited: 429s per method; faults: injected faults per kind; writes: calls of
        state-changing methods that reached the method (answered ok or not, 429s excluded).
        With team_id: the calls that acted in that workspace (refused before one was known —
        bad token, missing team_id — count only in the total)."""
        with self._counter_lock:
            if team_id is None:
                return self._totals.snapshot()
            self.grid.store(team_id)  # KeyError for a team the emulator does not serve
            return self._per_team.get(team_id, Counters()).snapshot()

    def reset_counters(self) -> None:
        with self._counter_lock:
            self._totals = Counters()
            self._per_team: dict[str, Counters] = {}

    def _count(self, kind: str, key: str, team: str | None = None, total: bool = True) -> None:
        with self._counter_lock:
            if total:
                self._totals.add(kind, key)
            if team is not None:
                self._per_team.setdefault(team, Counters()).add(kind, key)

    def state(self, team_id: str | None = None) -> dict:
        """A JSON-able snapshot of a workspace (team_id; the only one when omitted) or, with
        several workspaces and no team_id, of the org (slack_org.Grid.state). Messages per
        channel id include thread replies and system messages, in ts order, with metadata and
        the options the poster sent."""
        return self.grid.state(team_id)

    def import_bundle(self, data: bytes) -> dict:
        """Imports a Slack export ZIP (slack_import.py); the answer of POST /_control/import."""
        return self.importer.run(data).payload

    def import_reply(self, data: bytes) -> Reply:
        outcome = self.importer.run(data)
        return json_reply(outcome.status, outcome.payload, outcome.headers)

    def file_bytes(self, file_id: str) -> bytes | None:
        """The uploaded bytes of a file (None if unknown or not uploaded yet)."""
        store = self.grid.store_of_file(file_id)
        if store is None:
            return None
        with store.lock:
            rec = store.files.get(file_id)
            return rec.content if rec else None

    # ------------------------------------------------------------ requests

    def _retry_after(self, wait: float) -> str:
        # Real Slack sends whole seconds, and slack_sdk's RateLimitErrorRetryHandler int()s
        # the header; decimals only when a rate scale makes waits short (the project's clients
        # read Retry-After as integer or decimal seconds, or as an HTTP date).
        return str(max(1, math.ceil(wait))) if self.rate_scale <= 1 else format_retry_after(wait)

    def _limits(self, spec: MethodSpec, args: Json,
                store: Store | None) -> list[tuple[Any, float, float]]:
        scale = self.rate_scale
        # Every bucket belongs to the workspace the call acts in: Slack's limits are "per API
        # method per workspace per app" (https://docs.slack.dev/apis/web-api/rate-limits).
        # An org token's own auth.test spends the org's.
        team = store.team["id"] if store is not None else (self.grid.enterprise or {}).get("id")

        def bucket(key: tuple, per_second: float) -> tuple[Any, float, float]:
            rate = per_second * scale
            # burst: one second's worth (Slack's is unpublished)
            return (team, *key), rate, max(1.0, rate)

        scopes = []
        per_minute = SPECIAL_PER_MINUTE.get(spec.name) or TIER_PER_MINUTE.get(spec.tier)
        if per_minute:
            scopes.append(bucket(("method", spec.name), per_minute / 60))
        if store is None:
            channels = []
        elif spec.name == "chat.postMessage":
            raw = str(args.get("channel") or "")
            found = store.find(raw)
            channels = [found.id if found else raw]
        elif spec.name == "files.completeUploadExternal":
            # sharing an upload posts a message, so it spends the posting budget
            channels = slack_files.share_targets(store, args)
        else:
            channels = []
        for cid in channels:
            scopes.append(bucket(("post", cid), POST_PER_CHANNEL_PER_S))
        if channels:
            scopes.append(bucket(("post-workspace",), self.post_cap_per_minute / 60))
        return scopes

    def _fault_reply(self, kind: str) -> Reply:
        if kind == "reset":
            return Reply(0, b"", action="reset")
        if kind == "429_no_retry_after":
            return json_reply(429, {"ok": False, "error": "ratelimited"})
        status = int(kind.removeprefix("http_"))
        if self._fault_bodies.random() < 0.5:
            error = {500: "internal_error", 503: "service_unavailable"}.get(status, "request_timeout")
            return json_reply(status, {"ok": False, "error": error})
        page = f"<html><body><h1>{status}</h1>Slack is having trouble.</body></html>"
        return Reply(status, page.encode(), "text/html; charset=utf-8")

    def call(self, name: str, args: Json, token: str | None) -> Reply:
        """One Web API call: auth, scopes, rate limits, faults, then the method itself."""
        reply = self._call(name, args, token)
        if token in self.tokens:
            # Slack reports the token's scopes on every answer; `migrate doctor` reads them.
            reply.headers.setdefault("X-OAuth-Scopes", ",".join(sorted(self.scopes)))
        return reply

    def _call(self, name: str, args: Json, token: str | None) -> Reply:
        self._count("calls", name)
        spec = METHODS.get(name)
        if spec is None:
            return json_reply(404, {"ok": False, "error": "unknown_method"})
        if not token:
            return json_reply(200, {"ok": False, "error": "not_authed"})
        if token not in self.tokens:
            return json_reply(200, {"ok": False, "error": "invalid_auth"})
        if spec.scopes and self.scopes.isdisjoint(spec.scopes):
            return json_reply(200, {"ok": False, "error": "missing_scope",
                                    "needed": ",".join(spec.scopes),
                                    "provided": ",".join(sorted(self.scopes))})
        store = self.grid.route(name, args, token)  # the workspace the call acts in
        if isinstance(store, dict):
            return json_reply(200, store)  # an org token that named no (or no known) workspace
        team = store.team["id"] if store is not None else None
        self._count("calls", name, team, total=False)
        if self.throttle:
            wait = self.limiter.check(self._limits(spec, args, store))
            if wait > 0:
                self._count("ratelimited", name, team)
                return json_reply(429, {"ok": False, "error": "ratelimited"},
                                  {"Retry-After": self._retry_after(wait)})
        fault = self._faults.draw(name)
        if fault == "drop_after_processing" and not spec.writes:
            fault = None  # only writes leave the "did it land?" question
        if fault is not None:
            self._count("faults", fault, team)
            if fault != "drop_after_processing":
                return self._fault_reply(fault)
        if store is None:  # auth.test of an org-level token
            reply = json_reply(200, {"ok": True, **self.grid.org_auth_test()})
        else:
            reply = self._run(spec, args, store)
        if fault == "drop_after_processing":
            reply.action = "drop"
        return reply

    def _run(self, spec: MethodSpec, args: Json, store: Store) -> Reply:
        ctx = Ctx(store, self.scopes, self.origin)
        with store.lock:
            if spec.writes:
                with self._counter_lock:
                    self._totals.writes += 1
                    self._per_team.setdefault(store.team["id"], Counters()).writes += 1
            missing = [a for a in spec.required if args.get(a) in (None, "")]
            if missing:
                # Slack's answer to a missing required argument, with its explanation.
                messages = [f"[ERROR] missing required field: {a}" for a in missing]
                return json_reply(200, {"ok": False, "error": "invalid_arguments",
                                        "response_metadata": {"messages": messages}})
            try:
                payload = {"ok": True, **spec.fn(ctx, args)}
            except SlackError as exc:
                if exc.code not in spec.errors and exc.code not in GENERIC_ERRORS:
                    # The per-method tables are the contract; an undeclared code is our bug.
                    message = f"emulator bug: {spec.name} raised undeclared error {exc.code!r}"
                    return Reply(500, message.encode(), "text/plain; charset=utf-8")
                payload = {"ok": False, "error": exc.code, **exc.extra}
            except Exception:  # any other failure is an emulator bug: show it to the test
                return Reply(500, traceback.format_exc().encode(), "text/plain; charset=utf-8")
            # Encoded under the lock: later calls may change objects the answer shares.
            return json_reply(200, payload)

    def upload(self, token: str, body: bytes) -> Reply:
        """The POST of a file's bytes to its upload URL (no auth: the URL is the credential)."""
        store = self.grid.store_of_upload(token) or self.store
        team = store.team["id"]
        self._count("calls", "upload", team)
        fault = self._faults.draw("upload")
        if fault is not None:
            self._count("faults", fault, team)
            if fault != "drop_after_processing":
                return self._fault_reply(fault)
        with store.lock:
            status, text = slack_files.receive_upload(store, token, body)
        reply = Reply(status, text.encode(), "text/plain; charset=utf-8")
        if fault == "drop_after_processing":
            reply.action = "drop"
        return reply

    def download(self, file_id: str, token: str | None) -> Reply:
        """GET of a file's url_private (needs a token of its workspace, as Slack's does)."""
        if token not in self.tokens:
            return Reply(403, b"Forbidden", "text/plain")
        store = self.grid.store_of_file(file_id)
        content = self.file_bytes(file_id)
        if store is None or content is None:
            return Reply(404, b"Not Found", "text/plain")
        if not self.grid.may_use(token, store):
            return Reply(403, b"Forbidden", "text/plain")
        with store.lock:
            mimetype = store.files[file_id].data["mimetype"]
        return Reply(200, content, mimetype)
