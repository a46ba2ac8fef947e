"""Enterprise Grid for the Slack emulator: the workspaces of one org served at once.

What is emulated (Slack's pages named in parentheses):
- Tokens. Each workspace has its own bot token, which acts in that workspace only; a `team_id`
  it sends is ignored ("This field will be ignored if the API call is sent using a
  workspace-level token", https://api.slack.com/enterprise/apps/changes-apis). An org-level
  token (an app installed on the whole org) names the workspace with `team_id` on the methods
  that act in one (conversations.create/list, users.list: "required if org token is used",
  https://docs.slack.dev/reference/methods/conversations.create and …/users.list); without
  it Slack answers `missing_argument` (in those methods' error tables, and what org-wide apps
  met: github.com/lyft/omnibot/pull/44, github.com/sgratzl/slack-cleaner/issues/101). slack_sdk
  sends `team_id` on every call when the WebClient is given one (BaseClient.default_params).
- Calls on a channel (chat.*, conversations.history/replies/invite/setTopic…, reactions, pins,
  bookmarks, files.completeUploadExternal) go to the channel's workspace: channel ids are unique
  across the org. A workspace token sees only its own workspace's channels (channel_not_found).
- auth.test: a workspace token answers for its workspace plus `enterprise_id`; the org token
  answers `is_enterprise_install: true` and `enterprise_id` (both output fields of
  https://docs.slack.dev/reference/methods/auth.test). Its `team_id`/`team`/`url` name the org:
  an assumption, Slack's page shows no org-token example.
- Users: org users (W… ids, docs.slack.dev users.list example) may be members of several
  workspaces; each workspace's users.list lists its members; users.info / lookupByEmail with
  the org token and no team_id look across the org (user ids are org-wide in Grid).
- Rate limits are "per API method per workspace per app"
  (https://docs.slack.dev/apis/web-api/rate-limits): the emulator keys every bucket by the
  workspace the call acts in, so each workspace has its own budget.

Assumptions: a `team_id` the org token was not granted (not a workspace of the org) answers
`team_access_not_granted` (a common Slack error: "The token used is not granted the specific
workspace access required to complete this request"); team.info and files.getUploadURLExternal
want `team_id` from the org token like users.list does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from migrate.sandbox.slack_state import IdPool, Json, SlackError, Store, arg_json, arg_str
from migrate.sandbox.tenant import SANDBOX_SLACK_TOKEN, SlackWorkspace

# Not secrets: they only open the local emulator.
SANDBOX_SLACK_ORG_TOKEN = "xoxb-sandbox-org-token"  # noqa: S105

# Methods that act in one workspace and name no channel: an org token must send team_id.
NEEDS_TEAM = frozenset({"conversations.create", "conversations.list", "users.list", "team.info",
                        "files.getUploadURLExternal"})
# Methods that find a user org-wide when the org token sends no team_id: the argument to look up.
USER_LOOKUPS = {"users.info": "user", "users.lookupByEmail": "email"}
# Codes answered here, before any method runs.
ORG_ERRORS = frozenset({"missing_argument", "team_access_not_granted", "channel_not_found"})


def workspace_token(team_id: str) -> str:
    """The default bot token of a workspace of an org."""
    return f"xoxb-sandbox-{team_id.lower()}"


@dataclass
class SlackOrg:
    """An Enterprise Grid org: its workspaces, one bot token each (`tokens`: token → team id,
    by default workspace_token(team id)), the org-level tokens, and the bot of the org-wide
    install (auth.test of an org token; by default the first workspace's bot)."""

    enterprise: Json  # {"id": "E…", "name": …, "domain": …}
    workspaces: list[SlackWorkspace]
    tokens: dict[str, str] = field(default_factory=dict)
    org_tokens: tuple[str, ...] = (SANDBOX_SLACK_ORG_TOKEN,)
    bot: Json | None = None

    def __post_init__(self) -> None:
        if not self.workspaces:
            raise ValueError("an org needs at least one workspace")
        if not self.tokens:
            self.tokens = {workspace_token(w.team["id"]): w.team["id"] for w in self.workspaces}


class Counters:
    """What counters() reports, for the whole emulator or one workspace."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}
        self.ratelimited: dict[str, int] = {}
        self.faults: dict[str, int] = {}
        self.writes = 0

    def add(self, kind: str, key: str) -> None:
        table = getattr(self, kind)
        table[key] = table.get(key, 0) + 1

    def snapshot(self) -> dict:
        return {"calls": dict(self.calls), "ratelimited": dict(self.ratelimited),
                "faults": dict(self.faults), "writes": self.writes}


class Grid:
    """The workspaces an emulator serves and who may act where. A standalone workspace is a
    Grid of one, without an enterprise and without org tokens."""

    def __init__(self, source: SlackWorkspace | SlackOrg, tokens: tuple[str, ...] | None,
                 seed: int) -> None:
        if isinstance(source, SlackWorkspace):
            store = Store(source, seed)
            self.enterprise: Json | None = None
            self.stores: dict[str, Store] = {store.team["id"]: store}
            team = store.team["id"]
            self.token_team = {t: team for t in (tokens or (SANDBOX_SLACK_TOKEN,))}
            self.org_tokens: frozenset[str] = frozenset()
            self.bot = store.bot
            return
        if tokens is not None:
            raise ValueError("an org's tokens are SlackOrg.tokens and SlackOrg.org_tokens")
        self.enterprise = dict(source.enterprise)
        pool = IdPool(seed)
        self.stores = {}
        channels: set[str] = set()
        for workspace in source.workspaces:
            team = workspace.team["id"]
            if team in self.stores:
                raise ValueError(f"workspace {team} appears twice in the org")
            twice = channels & {c["id"] for c in workspace.channels}
            if twice:
                raise ValueError(f"channel ids must be unique across the org: {sorted(twice)}")
            channels |= {c["id"] for c in workspace.channels}
            self.stores[team] = Store(workspace, seed, pool, self.enterprise)
        for store in self.stores.values():
            store.in_org = self._in_org
        unknown = set(source.tokens.values()) - set(self.stores)
        if unknown:
            raise ValueError(f"tokens name workspaces not in the org: {sorted(unknown)}")
        self.token_team = dict(source.tokens)
        self.org_tokens = frozenset(source.org_tokens)
        self.bot = dict(source.bot) if source.bot else next(iter(self.stores.values())).bot

    @property
    def primary(self) -> Store:
        return next(iter(self.stores.values()))

    @property
    def tokens(self) -> frozenset[str]:
        return frozenset(self.token_team) | self.org_tokens

    def _in_org(self, uid: str) -> bool:
        return any(uid in s.users for s in self.stores.values())

    def store(self, team_id: str | None) -> Store:
        """A workspace's store (the only one when team_id is None and there is one)."""
        if team_id is None:
            if len(self.stores) > 1:
                raise ValueError("several workspaces: name one by team id")
            return self.primary
        try:
            return self.stores[team_id]
        except KeyError:
            raise KeyError(f"no workspace {team_id!r} (known: {sorted(self.stores)})") from None

    # ------------------------------------------------------------ routing

    def may_use(self, token: str | None, store: Store) -> bool:
        """Whether the token reaches this workspace (its own bot token, or an org token)."""
        return token in self.org_tokens or self.token_team.get(token or "") == store.team["id"]

    def route(self, name: str, args: Json, token: str) -> Store | Json | None:
        """The workspace a call acts in; None for the org itself (auth.test of an org token);
        or the error payload Slack answers."""
        team = self.token_team.get(token)
        if team is not None:
            return self.stores[team]
        if name == "auth.test":
            return None
        team_id = arg_str(args, "team_id")
        if team_id and team_id not in self.stores:
            return {"ok": False, "error": "team_access_not_granted"}
        found = self._by_channel(args) or self._by_file(args)
        if found is not None:
            return found
        if team_id:
            return self.stores[team_id]
        lookup = USER_LOOKUPS.get(name)
        if lookup is not None:
            value = (arg_str(args, lookup) or "").strip()
            return next((s for s in self.stores.values()
                         if value in s.users or value.lower() in s.by_email), self.primary)
        if name in NEEDS_TEAM:
            return {"ok": False, "error": "missing_argument"}
        # A channel name, or an id no workspace has: nowhere to look it up.
        return {"ok": False, "error": "channel_not_found"}

    def _by_channel(self, args: Json) -> Store | None:
        names = [arg_str(args, "channel"), arg_str(args, "channel_id"),
                 *(arg_str(args, "channels") or "").split(",")]
        for name in names:
            name = (name or "").strip()
            for store in self.stores.values() if name else ():
                if name in store.channels:
                    return store
        return None

    def _by_file(self, args: Json) -> Store | None:
        try:
            items = arg_json(args, "files", "invalid_arguments")
        except SlackError:
            return None
        for item in items if isinstance(items, list) else ():
            fid = item.get("id") if isinstance(item, dict) else None
            store = self.store_of_file(fid) if isinstance(fid, str) else None
            if store is not None:
                return store
        return None

    def store_of_file(self, file_id: str) -> Store | None:
        return next((s for s in self.stores.values() if file_id in s.files), None)

    def store_of_upload(self, upload_token: str) -> Store | None:
        return next((s for s in self.stores.values() if upload_token in s.uploads), None)

    def org_auth_test(self) -> Json:
        """auth.test of an org-level token (the org's own answer; see the module docstring)."""
        e = self.enterprise or {}
        bot = self.bot
        return {"url": f"https://{e.get('domain', 'sandbox-org')}.enterprise.slack.com/",
                "team": e.get("name", ""), "user": bot.get("name", "migrate"),
                "team_id": e.get("id", ""), "user_id": bot["user_id"], "bot_id": bot["bot_id"],
                "enterprise_id": e.get("id", ""), "is_enterprise_install": True}

    # ------------------------------------------------------------ state

    def state(self, team_id: str | None = None) -> dict:
        """One workspace's state(); without team_id, the only workspace's, or for several the
        org: "enterprise", "workspaces" (team id → state) and every list merged (channel,
        file and message ids are unique across the org; users once each)."""
        if team_id is not None or len(self.stores) == 1:
            return workspace_state(self.store(team_id))
        per = {tid: workspace_state(s) for tid, s in self.stores.items()}
        merged: dict[str, Any] = {"enterprise": dict(self.enterprise or {}), "workspaces": per}
        users: dict[str, Json] = {}
        for key in ("channels", "files", "reactions", "pins", "bookmarks"):
            merged[key] = [item for s in per.values() for item in s[key]]
        merged["messages"] = {cid: m for s in per.values() for cid, m in s["messages"].items()}
        for s in per.values():
            for user in s["users"]:
                users.setdefault(user["id"], user)
        merged["users"] = list(users.values())
        return merged


def workspace_state(s: Store) -> dict:
    """A JSON-able snapshot of one workspace. Messages per channel id include thread replies and
    system messages, in ts order, with metadata and the options the poster sent."""
    with s.lock:
        channels, messages, reactions, pins, bookmarks = [], {}, [], [], []
        for c in s.channels.values():
            d = c.data
            channels.append({
                "id": d["id"], "name": d["name"], "is_private": c.private,
                "is_im": c.kind == "im", "is_mpim": c.kind == "mpim",
                "is_archived": c.archived, "is_general": bool(d.get("is_general")),
                "topic": dict(d["topic"]), "purpose": dict(d["purpose"]),
                "members": list(c.members), "created": d["created"], "creator": d["creator"],
            })
            rendered = []
            for m in c.by_key.values():
                out = m.render(True)
                out.update(m.extra)
                rendered.append(out)
                for r in out.get("reactions", ()):
                    reactions.append({"channel": c.id, "ts": out["ts"], **r})
            messages[c.id] = rendered
            pins += [{"channel": c.id, "ts": c.by_key[k].data["ts"]} for k in c.pins]
            bookmarks += [dict(b) for b in c.bookmarks]
        files = [
            {**json.loads(json.dumps(f.data)), "uploaded": f.content is not None}
            for f in s.files.values()
        ]
        return {"team": dict(s.team), "bot": dict(s.bot),
                "users": [dict(u) for u in s.users.values()], "channels": channels,
                "messages": messages, "files": files, "reactions": reactions, "pins": pins,
                "bookmarks": bookmarks}
