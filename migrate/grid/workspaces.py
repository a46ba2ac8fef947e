"""Several workspaces of an Enterprise Grid org as targets: which team goes where.

`migrate.toml` lists them as `[[workspaces]]` tables, in order:

    [[workspaces]]
    name = "emea"                      # its folder under the working directory, its label
    teams = ["EMEA *", "Paris"]        # name globs (case-insensitive) or team ids
    token_env = "SLACK_TOKEN_EMEA"     # the variable holding its bot token (default
                                       # MIGRATE_SLACK_TOKEN: an org-level token)
    team_id = "T0EMEA"                 # the workspace's id: required with an org-level token

A team goes to the first workspace whose `teams` match it, by id or by name — so a catch-all
`teams = ["*"]` last takes the rest; a team no workspace takes is refused before anything is
written, never silently left out. Each workspace has its own working directory
(`<workdir>/workspaces/<name>`: its ledger, plan and reports) and is migrated by its own
runner with its own Slack budget — Slack's limits are "per API method per workspace per app"
(https://docs.slack.dev/apis/web-api/rate-limits), so k workspaces go about k× as fast.
1:1 and group chats belong to no team: the workspace with `chats = true` (default: the first)
carries them. An org-level token acts in a workspace only when told which: its `team_id` goes
with every call (slack_sdk's WebClient `team_id`; conversations.create documents `team_id` as
"required if using an org token", https://docs.slack.dev/reference/methods/conversations.create).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from migrate.errors import ConfigError
from migrate.export.scope import _matches

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
ORG_TOKEN_ENV = "MIGRATE_SLACK_TOKEN"  # noqa: S105 - the name of a variable, not a token
FIELDS = {"name", "teams", "token_env", "team_id", "chats"}


@dataclass(frozen=True)
class WorkspaceSpec:
    name: str
    teams: tuple[str, ...]
    token_env: str = ORG_TOKEN_ENV
    team_id: str = ""
    chats: bool = False
    where: str = ""            # file:line of its [[workspaces]] table, for errors

    def takes(self, team_id: str, team_name: str) -> bool:
        return _matches(team_id, team_name, self.teams)


def parse_workspaces(raw: Any, path: Path, text: str) -> tuple[WorkspaceSpec, ...]:
    """The `[[workspaces]]` tables of a config file, checked; errors name the file and line."""
    lines = [n for n, line in enumerate(text.splitlines(), 1)
             if re.match(r"^\s*\[\[\s*workspaces\s*\]\]", line)]
    if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
        raise ConfigError(f"{path}: workspaces must be [[workspaces]] tables",
                          hint="one [[workspaces]] table per target workspace, each with name "
                               "and teams")
    specs: list[WorkspaceSpec] = []
    for number, table in enumerate(raw):
        where = f"{path}:{lines[number]}" if number < len(lines) else str(path)
        unknown = sorted(set(table) - FIELDS)
        if unknown:
            raise ConfigError(f"{where}: unknown key {unknown[0]!r} in [[workspaces]]",
                              hint="keys: " + ", ".join(sorted(FIELDS)))
        name = table.get("name")
        if not isinstance(name, str) or not NAME.match(name):
            raise ConfigError(f"{where}: workspaces.name must be a short lowercase name "
                              f"(letters, digits, - or _), got {name!r}")
        teams = table.get("teams")
        if (not isinstance(teams, list) or not teams
                or not all(isinstance(t, str) and t.strip() for t in teams)):
            raise ConfigError(f"{where}: workspace {name!r}: teams must be a list of team name "
                              f"globs or ids, got {teams!r}",
                              hint='e.g. teams = ["EMEA *"], or teams = ["*"] for all the rest')
        token_env = table.get("token_env", ORG_TOKEN_ENV)
        if not isinstance(token_env, str) or not ENV_NAME.match(token_env):
            raise ConfigError(f"{where}: workspace {name!r}: token_env must name an environment "
                              f"variable, got {token_env!r}",
                              hint="the token itself is a secret: never in this file")
        team_id = table.get("team_id", "")
        if not isinstance(team_id, str) or (team_id and not re.match(r"^[TE][A-Z0-9]+$", team_id)):
            raise ConfigError(f"{where}: workspace {name!r}: team_id must be a Slack workspace "
                              f"id (T…), got {team_id!r}")
        chats = table.get("chats", False)
        if not isinstance(chats, bool):
            raise ConfigError(f"{where}: workspace {name!r}: chats must be true or false")
        specs.append(WorkspaceSpec(name, tuple(teams), token_env, team_id, chats, where))
    _check(specs)
    return tuple(specs)


def _check(specs: list[WorkspaceSpec]) -> None:
    seen: dict[str, WorkspaceSpec] = {}
    for spec in specs:
        if spec.name in seen:
            raise ConfigError(f"{spec.where}: workspace {spec.name!r} is listed twice "
                              f"(first at {seen[spec.name].where})")
        seen[spec.name] = spec
    shared = [s for s in specs if s.token_env == ORG_TOKEN_ENV or
              sum(1 for o in specs if o.token_env == s.token_env) > 1]
    for spec in shared:
        if len(specs) > 1 and not spec.team_id:
            raise ConfigError(f"{spec.where}: workspace {spec.name!r} shares the token in "
                              f"${spec.token_env} (an org-level token) but has no team_id",
                              hint="set team_id to the workspace's id (T…), or token_env to "
                                   "a variable holding that workspace's own bot token")
    if sum(1 for s in specs if s.chats) > 1:
        raise ConfigError(f"{specs[0].where}: more than one workspace has chats = true",
                          hint="1:1 and group chats go to one workspace")


def workspace_of(team_id: str, team_name: str, specs: Iterable[WorkspaceSpec]) -> str | None:
    """The first workspace taking this team, or None."""
    return next((s.name for s in specs if s.takes(team_id, team_name)), None)


def chats_workspace(specs: tuple[WorkspaceSpec, ...]) -> str:
    return next((s.name for s in specs if s.chats), specs[0].name)


def find(specs: tuple[WorkspaceSpec, ...], name: str) -> WorkspaceSpec:
    for spec in specs:
        if spec.name == name:
            return spec
    known = ", ".join(s.name for s in specs) or "none configured"
    raise ConfigError(f"no workspace named {name!r} in the config ({known})",
                      hint="--workspace takes the name of a [[workspaces]] table")


@dataclass(frozen=True)
class WorkspaceShare:
    """One workspace's part of the tenant: the teams it takes first, and the chats if it
    carries them (the same questions a shard answers: export/scope.py)."""

    name: str
    specs: tuple[WorkspaceSpec, ...]

    def owns_team(self, team_id: str, team_name: str) -> bool:
        return workspace_of(team_id, team_name, self.specs) == self.name

    def owns_person(self, user_id: str) -> bool:
        """Whose chat streams this workspace's runner reads: all, or none."""
        return chats_workspace(self.specs) == self.name

    def owns_chat(self, member_accounts: Iterable[str]) -> bool:
        return chats_workspace(self.specs) == self.name


def runner_environment(spec: WorkspaceSpec, environ: Mapping[str, str]) -> dict[str, str]:
    """The variables a workspace's runner needs on top of ours: its token and workspace id."""
    token = environ.get(spec.token_env, "")
    if not token:
        raise ConfigError(f"{spec.where}: workspace {spec.name!r}: ${spec.token_env} is not set",
                          hint=f"set {spec.token_env} to the Slack bot token of {spec.name!r}")
    return {"MIGRATE_SLACK_TOKEN": token, "MIGRATE_SLACK_TEAM_ID": spec.team_id,
            "MIGRATE_WORKSPACE": spec.name}
