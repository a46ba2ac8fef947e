"""What can be set: every setting declared once, as a dataclass field whose metadata names its
environment variable and says what it is for (the sections GraphSettings, SlackSettings,
ExportSettings, PlanSettings, and Settings over them), and how one value of each kind is checked
or parsed. The loader (migrate/config.py), migrate.toml's reader (migrate/config_file.py),
`migrate init`'s commented file and the README's table all come from these declarations.
Import them from migrate.config."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CONFIG_FILENAME = "migrate.toml"

# Cloud → (Graph base URL, login host); a token from one cloud is not valid in another
# (https://learn.microsoft.com/graph/deployments).
CLOUDS: dict[str, tuple[str, str]] = {
    "global": ("https://graph.microsoft.com/v1.0", "https://login.microsoftonline.com"),
    "gcc-high": ("https://graph.microsoft.us/v1.0", "https://login.microsoftonline.us"),
    "dod": ("https://dod-graph.microsoft.us/v1.0", "https://login.microsoftonline.us"),
    "china": ("https://microsoftgraph.chinacloudapi.cn/v1.0", "https://login.chinacloudapi.cn"),
}


def setting(default: Any, help: str, env: str | None = None, *, choices: tuple[str, ...] = (),
            secret: bool = False, kind: str | None = None) -> Any:  # noqa: A002
    """Declare one setting. `kind` overrides the type inferred from the default."""
    meta = {"help": help, "env": env, "choices": choices, "secret": secret, "kind": kind}
    if isinstance(default, list | dict):
        return field(default_factory=lambda d=default: type(d)(d), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class GraphSettings:
    cloud: str = setting("global", "National cloud; sets the Graph and login hosts together.",
                         "MIGRATE_CLOUD", choices=tuple(CLOUDS))
    url: str = setting("", "Graph base URL; overrides the cloud's (emulators, proxies).",
                       "MIGRATE_GRAPH_URL", kind="str")
    authority_url: str = setting("", "Login host for tokens; overrides the cloud's.",
                                 "MIGRATE_AUTHORITY_URL", kind="str")
    tenant_id: str = setting("", "Entra tenant id (GUID) of the Teams tenant.",
                             "MIGRATE_TENANT_ID", kind="str")
    client_id: str = setting("", "Application (client) id of the Entra app registration.",
                             "MIGRATE_CLIENT_ID", kind="str")
    client_secret: str = setting("", "Client secret of the Entra app (environment only).",
                                 "MIGRATE_CLIENT_SECRET", secret=True, kind="str")
    client_cert: str = setting("", "Path to a PEM file holding the app's private key and certificate.",
                               "MIGRATE_CLIENT_CERT", kind="path")
    client_assertion: str = setting("", "A signed JWT client assertion, e.g. a CI job's OIDC token "
                                    "(environment only; GitHub Actions' is fetched automatically).",
                                    "MIGRATE_CLIENT_ASSERTION", secret=True, kind="str")
    client_assertion_file: str = setting("", "File holding a client assertion JWT, re-read at each "
                                         "token request (e.g. Kubernetes workload identity).",
                                         "MIGRATE_CLIENT_ASSERTION_FILE", kind="path")
    token: str = setting("", "A pre-acquired Graph access token; when set, MSAL is not used "
                         "(environment only).", "MIGRATE_GRAPH_TOKEN", secret=True, kind="str")
    rate_scale: float = setting(1.0, "Multiplies every Graph rate the tool assumes "
                                "(tests against emulators).", "MIGRATE_GRAPH_RATE_SCALE")
    timeout: float = setting(60.0, "Seconds to wait for one Graph response.", "MIGRATE_GRAPH_TIMEOUT")

    @property
    def base_url(self) -> str:
        return (self.url or CLOUDS[self.cloud][0]).rstrip("/")

    @property
    def authority_host(self) -> str:
        return (self.authority_url or CLOUDS[self.cloud][1]).rstrip("/")


@dataclass(frozen=True)
class SlackSettings:
    url: str = setting("https://slack.com/api/", "Slack Web API base URL.", "MIGRATE_SLACK_URL")
    token: str = setting("", "Slack bot token xoxb-… (environment only).", "MIGRATE_SLACK_TOKEN",
                         secret=True, kind="str")
    rate_scale: float = setting(1.0, "Multiplies every Slack rate the tool assumes (tests, or "
                                "workspaces with raised limits).", "MIGRATE_SLACK_RATE_SCALE")
    post_cap_per_minute: float = setting(300.0, "Workspace-wide cap on posted messages per minute "
                                         "(Slack publishes only 'several hundred').",
                                         "MIGRATE_SLACK_POST_CAP")
    team_id: str = setting("", "The workspace (T…) an org-level token acts in: sent with every "
                           "call (Enterprise Grid; set per workspace by [[workspaces]]).",
                           "MIGRATE_SLACK_TEAM_ID")
    timeout: float = setting(30.0, "Seconds to wait for one Slack response.", "MIGRATE_SLACK_TIMEOUT")
    cap_share: float = setting(0.0, "Share (0–1] of the workspace posting cap this runner takes; "
                               "0 means all of it, or 1/n with --shard i/n.",
                               "MIGRATE_SLACK_CAP_SHARE")
    method_rates: dict = setting({}, "Per-method rate overrides in calls per minute, for workspaces "
                                 "with raised limits, e.g. { \"conversations.create\" = 50 }.",
                                 kind="rates")


@dataclass(frozen=True)
class ExportSettings:
    method: str = setting("getAllMessages", "How messages are read: the team-wide export API, "
                          "or per channel where it is unavailable.", "MIGRATE_EXPORT_METHOD",
                          choices=("getAllMessages", "per-channel"))
    include_teams: list = setting([], "Only these teams (name globs or ids); empty means every team.",
                                  "MIGRATE_INCLUDE_TEAMS", kind="list")
    exclude_teams: list = setting([], "Skip these teams (name globs or ids).",
                                  "MIGRATE_EXCLUDE_TEAMS", kind="list")
    since: str = setting("", "Only messages created on or after this date (YYYY-MM-DD).",
                         "MIGRATE_SINCE", kind="date")
    chats: bool = setting(True, "Export 1:1, group and meeting chats too (needs the Chat.Read.All "
                          "application permission; without it chats are skipped with a warning).",
                          "MIGRATE_CHATS")
    meeting_chats: bool = setting(True, "Include the chats of Teams meetings (with `chats`).",
                                  "MIGRATE_MEETING_CHATS")
    chats_since: str = setting("", "Only chat messages created on or after this date (YYYY-MM-DD); "
                               "`since` applies too, whichever is later.", "MIGRATE_CHATS_SINCE",
                               kind="date")
    max_file_mb: float = setting(1024.0, "Files larger than this are skipped with a warning.",
                                 "MIGRATE_MAX_FILE_MB")
    overlap_hours: float = setting(48.0, "Incremental exports re-read this much before the last "
                                   "one (export data can surface up to a day late).",
                                   "MIGRATE_OVERLAP_HOURS")
    full_directory_hours: float = setting(
        168.0, "Incremental exports read users and team changes through Graph delta queries; "
        "every this many hours they read all users and every team's channels and members "
        "again, for what neither delta queries nor message activity show (0: every export).",
        "MIGRATE_FULL_DIRECTORY_HOURS")


@dataclass(frozen=True)
class PlanSettings:
    timezone: str = setting("UTC", "Time zone of the original dates shown in migrated messages.",
                            "MIGRATE_TIMEZONE")
    user_map: str = setting("", "CSV overriding user matches (Teams id or email → Slack id, "
                            "email, or 'skip').", "MIGRATE_USER_MAP", kind="path")
    channel_map: str = setting("", "CSV renaming, merging or skipping channels.",
                               "MIGRATE_CHANNEL_MAP", kind="path")
    guests: str = setting("map", "Guests: map them like members, or treat them as unmapped.",
                          "MIGRATE_GUESTS", choices=("map", "unmapped"))
    deleted_messages: str = setting("delete", "A message deleted in Teams after it was migrated: "
                                    "delete it in Slack, or replace it by a 'deleted in Teams' "
                                    "placeholder.", "MIGRATE_DELETED_MESSAGES",
                                    choices=("delete", "placeholder"))
    renamed_channels: str = setting("keep", "A Teams channel renamed after it was migrated: keep "
                                    "its Slack name, or rename the Slack channel to follow.",
                                    "MIGRATE_RENAMED_CHANNELS", choices=("keep", "rename"))
    chats_to_channels: str = setting(
        "none", "Through the API a bot cannot post as people into their DMs, so chats are skipped "
        "and counted (none); or each group and meeting chat (group), or every chat, 1:1s "
        "included (all), becomes a private channel whose members are the chat's mapped members.",
        "MIGRATE_CHATS_TO_CHANNELS", choices=("none", "group", "all"))
    unicode_channel_names: bool = setting(False, "Keep Unicode letters in channel names instead of "
                                          "folding them to ASCII.", "MIGRATE_UNICODE_CHANNEL_NAMES")
    reactions_file: str = setting("", "Override file for mappings/reactions.toml.",
                                  "MIGRATE_REACTIONS_FILE", kind="path")
    emoji_file: str = setting("", "Override file for mappings/emoji.toml.",
                              "MIGRATE_EMOJI_FILE", kind="path")
    system_events_file: str = setting("", "Override file for mappings/system_events.toml.",
                                      "MIGRATE_SYSTEM_EVENTS_FILE", kind="path")


@dataclass(frozen=True)
class Settings:
    workdir: str = setting("./migration", "State database, downloaded files and reports.",
                           "MIGRATE_WORKDIR", kind="path")
    shard: str = setting("", "This runner's share of the tenant, i/n (1 ≤ i ≤ n): teams and chats "
                         "split deterministically among n runners, each with its own working "
                         "directory; empty for the whole tenant.", "MIGRATE_SHARD")
    workspace: str = setting("", "With [[workspaces]] (Enterprise Grid): the one workspace this "
                             "runner migrates, by name; empty for all of them, side by side.",
                             "MIGRATE_WORKSPACE")
    graph: GraphSettings = field(default_factory=GraphSettings)
    slack: SlackSettings = field(default_factory=SlackSettings)
    export: ExportSettings = field(default_factory=ExportSettings)
    plan: PlanSettings = field(default_factory=PlanSettings)
    # The [[workspaces]] tables of the config file (migrate/grid/workspaces.py).
    workspaces: tuple = field(default=(), metadata={"internal": True})
    # Where the values came from, for error messages and `migrate config` (not settings).
    source: str = field(default="defaults", compare=False, metadata={"internal": True})
    sources: dict = field(default_factory=dict, compare=False, metadata={"internal": True})

    def value(self, key: str) -> Any:
        """A setting by its dotted key, e.g. "slack.rate_scale"."""
        obj: Any = self
        for part in key.split("."):
            obj = getattr(obj, part)
        return obj

    @property
    def workdir_path(self) -> Path:
        return Path(self.workdir).expanduser()

    @property
    def shard_spec(self) -> Any:
        """The Shard (migrate/export/scope.py) of `shard`, or None for the whole tenant."""
        from migrate.export.scope import Shard

        return Shard.parse(self.shard)

    @property
    def workspace_share(self) -> Any:
        """This runner's WorkspaceShare (migrate/grid/workspaces.py), or None."""
        if not self.workspaces or not self.workspace:
            return None
        from migrate.grid.workspaces import WorkspaceShare

        return WorkspaceShare(self.workspace, self.workspaces)

    @property
    def fans_out(self) -> bool:
        """Several workspaces configured and none chosen: each gets its own runner."""
        return bool(self.workspaces) and not self.workspace

    def owns_team(self, team_id: str, team_name: str) -> bool:
        """Whether this runner covers the team: its shard's, and its workspace's."""
        shard, share = self.shard_spec, self.workspace_share
        return ((shard is None or shard.owns_team(team_id))
                and (share is None or share.owns_team(team_id, team_name)))

    def owns_person(self, user_id: str) -> bool:
        shard, share = self.shard_spec, self.workspace_share
        return ((shard is None or shard.owns_person(user_id))
                and (share is None or share.owns_person(user_id)))

    def owns_chat(self, member_accounts: list[str]) -> bool:
        shard, share = self.shard_spec, self.workspace_share
        return ((shard is None or shard.owns_chat(member_accounts))
                and (share is None or share.owns_chat(member_accounts)))

    @property
    def cap_share(self) -> float:
        """The share of the workspace's posting cap this runner takes: `slack.cap_share`, or
        1/n for a shard of n (shards posting into one workspace share its cap)."""
        if self.slack.cap_share:
            return self.slack.cap_share
        shard = self.shard_spec
        return 1.0 / shard.count if shard else 1.0


SECTIONS: dict[str, type] = {
    "graph": GraphSettings,
    "slack": SlackSettings,
    "export": ExportSettings,
    "plan": PlanSettings,
}


@dataclass(frozen=True)
class SettingInfo:
    """One declared setting, flattened: `key` is "section.name" (or "name" at the top level)."""

    key: str
    section: str | None
    name: str
    default: Any
    kind: str
    help: str
    env: str | None
    choices: tuple[str, ...]
    secret: bool


def _kind_of(f: dataclasses.Field) -> str:
    if f.metadata.get("kind"):
        return f.metadata["kind"]
    default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, float):
        return "float"
    if isinstance(default, int):
        return "int"
    if isinstance(default, list):
        return "list"
    if isinstance(default, dict):
        return "rates"
    return "choice" if f.metadata.get("choices") else "str"


def _infos(cls: type, section: str | None) -> list[SettingInfo]:
    out = []
    for f in dataclasses.fields(cls):
        if f.metadata.get("internal") or f.name in SECTIONS:
            continue
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        key = f"{section}.{f.name}" if section else f.name
        out.append(SettingInfo(key, section, f.name, default, _kind_of(f), f.metadata["help"],
                               f.metadata["env"], tuple(f.metadata["choices"]),
                               bool(f.metadata["secret"])))
    return out


ALL_SETTINGS: list[SettingInfo] = _infos(Settings, None) + [
    info for name, cls in SECTIONS.items() for info in _infos(cls, name)
]
BY_KEY: dict[str, SettingInfo] = {s.key: s for s in ALL_SETTINGS}

_EXPECTED = {
    "str": "a string",
    "path": "a path (string)",
    "choice": "one of {choices}",
    "bool": "true or false",
    "int": "an integer",
    "float": "a number",
    "list": "a list of strings",
    "rates": "a table of method = calls per minute",
    "date": "a date like 2021-01-31",
}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def expected(info: SettingInfo) -> str:
    return _EXPECTED[info.kind].format(choices=", ".join(repr(c) for c in info.choices))


def coerce(info: SettingInfo, value: Any, from_env: bool) -> Any:
    """Check (file) or parse (environment/flag strings) one value; None when it is invalid."""
    kind = info.kind
    if from_env and isinstance(value, str):
        text = value.strip()
        if kind == "bool":
            low = text.lower()
            return True if low in _TRUE else False if low in _FALSE else None
        if kind in ("int", "float"):
            try:
                return int(text) if kind == "int" else float(text)
            except ValueError:
                return None
        if kind == "list":
            return [part.strip() for part in text.split(",") if part.strip()]
        value = text
    if kind == "bool":
        return value if isinstance(value, bool) else None
    if kind == "int":
        return value if isinstance(value, int) and not isinstance(value, bool) else None
    if kind == "float":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return float(value) if ok else None
    if kind == "list":
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        return list(value) if ok else None
    if kind == "rates":
        ok = isinstance(value, dict) and all(
            isinstance(v, int | float) and not isinstance(v, bool) and v > 0 for v in value.values())
        return {str(k): float(v) for k, v in value.items()} if ok else None
    if kind == "date":
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value.isoformat()
        if isinstance(value, str):
            if value == "":
                return ""
            try:
                return dt.date.fromisoformat(value).isoformat()
            except ValueError:
                return None
        return None
    if not isinstance(value, str):
        return None
    if kind == "choice" and value not in info.choices:
        return None
    return value
