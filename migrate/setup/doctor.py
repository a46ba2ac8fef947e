"""`migrate doctor`: can this configuration do the job? Sign in to Graph, probe every
application permission the export needs with one minimal call, check the Slack token and its
scopes. Each check says what is missing and exactly what to grant."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from migrate.config import Settings
from migrate.errors import (
    EXIT_AUTH,
    EXIT_OK,
    EXIT_USAGE,
    ConfigError,
    MigrateError,
    PermissionMissing,
    ServiceUnreachable,
)
from migrate.export.assets import share_token
from migrate.export.auth import build_auth
from migrate.export.client import GraphClient
from migrate.export.errors import GraphNotFound, GraphUnavailable

# Bot scopes the import uses (each method's page, https://docs.slack.dev/reference/methods/<name>,
# lists the scopes it needs); the optional ones only add extras.
SLACK_REQUIRED_SCOPES = (
    "chat:write", "chat:write.customize", "channels:read", "groups:read", "channels:manage",
    "groups:write", "channels:history", "groups:history", "channels:join", "users:read",
    "users:read.email", "files:write",
)
SLACK_OPTIONAL_SCOPES = ("reactions:write", "pins:write", "bookmarks:write")


@dataclass
class Check:
    area: str            # graph | slack
    name: str            # what is checked, e.g. the permission name
    status: str          # ok | missing | failed | skipped
    detail: str = ""
    fix: str = ""
    # What a failure means for the exit code (the project's exit codes): EXIT_USAGE (2) = not
    # configured or not reachable (fix the settings, URL or network), EXIT_AUTH (3) = set but
    # refused, or a grant missing.
    exit_code: int = EXIT_AUTH

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def _grant(permission: str) -> str:
    return (f"Entra admin center → App registrations → the app → API permissions → Add → "
            f"Microsoft Graph → Application permissions → {permission}, then Grant admin consent")


class _GraphProbe:
    def __init__(self, client: GraphClient) -> None:
        self.client = client
        self.checks: list[Check] = []

    def probe(self, permission: str, url: str, *, ok_on_404: bool = False,
              pick: Callable[[dict[str, Any]], Any] | None = None, fix: str = "") -> Any:
        try:
            answer = self.client.get_json(url)
        except PermissionMissing:
            self.checks.append(Check("graph", permission, "missing",
                                     "Graph answered 403 for " + url.split("?")[0],
                                     fix or _grant(permission)))
            return None
        except GraphNotFound:
            if ok_on_404:
                self.checks.append(Check("graph", permission, "ok", "granted (probe item absent)"))
                return None
            self.checks.append(Check("graph", permission, "failed", f"{url.split('?')[0]} not found"))
            return None
        except GraphUnavailable as exc:
            self.checks.append(Check("graph", permission, "failed",
                                     f"Graph unreachable or failing: {exc.one_line()}",
                                     "check MIGRATE_GRAPH_URL, the network and the proxy",
                                     exit_code=EXIT_USAGE))
            return None
        except MigrateError as exc:
            self.checks.append(Check("graph", permission, "failed", exc.one_line(),
                                     exit_code=exc.exit_code if exc.exit_code in (EXIT_USAGE, EXIT_AUTH)
                                     else EXIT_AUTH))
            return None
        self.checks.append(Check("graph", permission, "ok", "granted"))
        return pick(answer) if pick else answer

    def skip(self, permission: str, why: str) -> None:
        self.checks.append(Check("graph", permission, "skipped", why))


def _first(answer: dict[str, Any]) -> dict[str, Any] | None:
    items = answer.get("value") or []
    return items[0] if items else None


# Chats' export API is one of Teams' "protected APIs". Microsoft asked apps to fill an
# approval form for them until 18 May 2023; since then the application permission with admin
# consent is all it takes (https://learn.microsoft.com/graph/teams-protected-apis).
PROTECTED_API = ("chats are read through Teams' export API (a 'protected API'): grant the "
                 "application permission Chat.Read.All with admin consent — the approval form "
                 "Microsoft required until May 2023 is no longer needed. Without it chats are "
                 "skipped with a warning; set export.chats = false to leave them out")


def _probe_chats(probe: _GraphProbe, user: dict[str, Any] | None) -> None:
    if not user:
        probe.skip("Chat.Read.All", "no user could be read to probe with")
        return
    probe.probe("Chat.Read.All", f"/users/{user['id']}/chats/getAllMessages?$top=1",
                fix=f"{_grant('Chat.Read.All')}; {PROTECTED_API}")


def graph_checks(settings: Settings, *, http_client: Any = None) -> list[Check]:
    try:
        auth = build_auth(settings.graph, http_client=http_client)
        auth.token()
    except ServiceUnreachable as exc:
        return [Check("graph", "sign-in", "failed", f"unreachable: {exc.one_line()}",
                      "check the network, the proxy and graph.cloud / MIGRATE_AUTHORITY_URL",
                      exit_code=EXIT_USAGE)]
    except ConfigError as exc:   # a credential not set at all: configuration
        return [Check("graph", "sign-in", "failed", exc.one_line(),
                      "set MIGRATE_TENANT_ID, MIGRATE_CLIENT_ID and a credential (see README)",
                      exit_code=EXIT_USAGE)]
    except MigrateError as exc:  # set, but refused
        return [Check("graph", "sign-in", "failed", exc.one_line(),
                      "check the tenant id, client id and credential of the Entra app")]
    probe = _GraphProbe(GraphClient(settings.graph, auth, max_attempts=3))
    probe.checks.append(Check("graph", "sign-in", "ok", f"token acquired with {auth.description}"))
    user = probe.probe("User.Read.All", "/users?$top=1&$select=id", pick=_first)
    group = probe.probe("GroupMember.Read.All",
                        "/groups?$filter=resourceProvisioningOptions/Any(x:x eq 'Team')"
                        "&$select=id&$top=1", pick=_first)
    if group is None:
        team = probe.probe("Team.ReadBasic.All", "/teams?$top=1", pick=_first)
    else:
        team = probe.probe("Team.ReadBasic.All", f"/teams/{group['id']}")
    needs_team = ("TeamMember.Read.All", "Channel.ReadBasic.All", "ChannelMember.Read.All",
                  "ChannelMessage.Read.All")
    if not team:
        for permission in needs_team:
            probe.skip(permission, "no team could be read to probe with")
    else:
        team_id = team["id"]
        probe.probe("TeamMember.Read.All", f"/teams/{team_id}/members?$top=1")
        channel = probe.probe("Channel.ReadBasic.All", f"/teams/{team_id}/channels", pick=_first)
        if channel:
            probe.probe("ChannelMember.Read.All", f"/teams/{team_id}/channels/{channel['id']}/members?$top=1")
        else:
            probe.skip("ChannelMember.Read.All", "no channel could be read to probe with")
        probe.probe("ChannelMessage.Read.All", f"/teams/{team_id}/channels/getAllMessages?$top=1")
    if settings.export.chats:
        _probe_chats(probe, user)
    # A share that does not exist: Graph checks the permission before it looks the item up, so
    # 404 means granted and 403 means missing.
    probe_url = "https://contoso.sharepoint.com/sites/migrate-doctor/Shared%20Documents/probe.txt"
    probe.probe("Files.ReadWrite.All", f"/shares/{share_token(probe_url)}/driveItem", ok_on_404=True)
    return probe.checks


def slack_checks(settings: Settings) -> list[Check]:
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    if not settings.slack.token:
        return [Check("slack", "token", "failed", "MIGRATE_SLACK_TOKEN is not set",
                      "create a Slack app in the workspace, install it, and export its bot token",
                      exit_code=EXIT_USAGE)]
    client = WebClient(token=settings.slack.token, base_url=settings.slack.url,
                       timeout=int(settings.slack.timeout))
    try:
        answer = client.auth_test()
    except SlackApiError as exc:
        if exc.response.get("error") == "unknown_method":   # a service without auth.test
            return [Check("slack", "token", "skipped", "the service has no auth.test: the "
                          "token and its scopes are checked by the run's first calls")]
        return [Check("slack", "token", "failed", f"auth.test answered {exc.response.get('error')}",
                      "check MIGRATE_SLACK_TOKEN (a bot token xoxb-… of an installed app)")]
    except Exception as exc:  # network: one line, no secret
        return [Check("slack", "token", "failed", f"Slack is unreachable at {settings.slack.url} "
                      f"({type(exc).__name__})", "check MIGRATE_SLACK_URL, the network and the "
                      "proxy (the token was not checked)", exit_code=EXIT_USAGE)]
    checks = [Check("slack", "token", "ok", f"bot {answer.get('user')} in workspace {answer.get('team')}")]
    header = {k.lower(): v for k, v in answer.headers.items()}.get("x-oauth-scopes")
    if header is None:
        checks.append(Check("slack", "scopes", "skipped", "the server did not report the token's scopes"))
        return checks
    granted = {s.strip() for s in header.split(",") if s.strip()}
    for scope in SLACK_REQUIRED_SCOPES:
        if scope in granted:
            checks.append(Check("slack", scope, "ok", "granted"))
        else:
            checks.append(Check("slack", scope, "missing", "required",
                                f"add the bot scope {scope} under OAuth & Permissions, then reinstall the app"))
    for scope in SLACK_OPTIONAL_SCOPES:
        status = "ok" if scope in granted else "skipped"
        checks.append(Check("slack", scope, status, "granted" if status == "ok" else "optional, not granted"))
    return checks


def run_doctor(settings: Settings, *, graph_http_client: Any = None) -> list[Check]:
    return graph_checks(settings, http_client=graph_http_client) + slack_checks(settings)


def exit_code(checks: list[Check]) -> int:
    """0 all good; 3 when something set is refused or a grant is missing; else 2 (a
    credential not set, a host not reachable: configuration)."""
    bad = [c for c in checks if c.status in ("missing", "failed")]
    if not bad:
        return EXIT_OK
    return EXIT_AUTH if any(c.exit_code == EXIT_AUTH for c in bad) else EXIT_USAGE
