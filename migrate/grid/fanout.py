"""One runner per workspace, side by side: `migrate <command>` with [[workspaces]] configured and
no --workspace runs the same command line once per workspace, each a `migrate` process of its
own (its working directory, its Slack token and budget, its own export of its teams), and
gathers what they say.

Before any runner starts, the teams are listed (GET /teams) and each is given to its
workspace; a team no workspace takes stops everything (exit 2): nothing is left out silently.
Each runner's stderr comes through line by line, prefixed with its workspace; with --json its
document is gathered under its name. The exit code is the most serious of theirs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, TextIO

from migrate.config import Settings
from migrate.errors import ConfigError
from migrate.grid.workspaces import WorkspaceSpec, runner_environment, workspace_of

# Which code wins when runners end differently: a bug, then refused credentials, configuration,
# a held lock, items failed, stopped at --max-duration.
SEVERITY = (70, 3, 2, 4, 130, 1, 75)
# Commands that act on a workspace: they run once per workspace.
FANS_OUT = frozenset({"export", "plan", "run", "sync", "verify", "status", "adopt", "bundle",
                      "doctor"})
# Commands that need every team to go somewhere before they start.
NEEDS_SPLIT = frozenset({"plan", "run", "sync", "bundle", "adopt"})


@dataclass
class Runner:
    spec: WorkspaceSpec
    process: subprocess.Popen
    started: float
    stdout: list[str] = field(default_factory=list)
    seconds: float = 0.0
    exit_code: int | None = None


def split_teams(settings: Settings) -> dict[str, list[str]]:
    """Each team in scope (by the export's include/exclude and shard) to its workspace, by
    name; a ConfigError naming the teams no workspace takes."""
    from migrate.export.scope import team_in_scope
    from migrate.stages import graph_client

    options = settings.export
    shard = settings.shard_spec
    split: dict[str, list[str]] = {spec.name: [] for spec in settings.workspaces}
    left: list[str] = []
    for team in graph_client(settings).iter_items("/teams"):
        name = team.get("displayName") or team["id"]
        if not team_in_scope(team["id"], name, options.include_teams, options.exclude_teams):
            continue
        if shard is not None and not shard.owns_team(team["id"]):
            continue
        target = workspace_of(team["id"], name, settings.workspaces)
        (split[target] if target else left).append(name)
    if left:
        shown = ", ".join(repr(n) for n in sorted(left)[:10])
        raise ConfigError(f"{len(left)} team(s) match no workspace: {shown}"
                          + (" …" if len(left) > 10 else ""),
                          hint='add their names or ids to a workspace\'s teams, or a last '
                               'workspace with teams = ["*"] for all the rest')
    return split


def fan_out(settings: Settings, command: str, argv: list[str], *, err: TextIO,
            json_mode: bool) -> int:
    """Run `migrate argv` for every workspace at once; returns the exit code to end with."""
    environ = dict(os.environ)
    envs = {spec.name: {**environ, **runner_environment(spec, environ)}
            for spec in settings.workspaces}
    split = split_teams(settings) if command in NEEDS_SPLIT else None
    if split is not None:
        for spec in settings.workspaces:
            print(f"[{spec.name}] {len(split[spec.name])} teams"
                  + (", and the chats" if _carries_chats(settings, spec) else ""), file=err)
    if command == "run" and not {"--yes", "-y", "--dry-run"} & set(argv) and sys.stdin.isatty():
        import typer

        names = ", ".join(spec.name for spec in settings.workspaces)
        if not typer.confirm(f"Migrate into {len(settings.workspaces)} workspaces ({names}) "
                             "now? (`migrate plan` shows each one's plan first)", default=False,
                             err=True):
            print("Nothing done: nothing was written to Slack.", file=err)
            return 0
    runners = [_start(spec, argv, envs[spec.name]) for spec in settings.workspaces]
    pumps = [threading.Thread(target=_pump, args=(r, err), daemon=True) for r in runners]
    for pump in pumps:
        pump.start()
    for runner in runners:
        runner.stdout.append(runner.process.stdout.read())   # type: ignore[union-attr]
        runner.exit_code = runner.process.wait()
        runner.seconds = time.monotonic() - runner.started
    for pump in pumps:
        pump.join()
    code = _worst([r.exit_code or 0 for r in runners])
    if json_mode:
        doc = {"workspaces": {r.spec.name: _document(r, split) for r in runners},
               "exit_code": code}
        sys.stdout.write(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    else:
        for runner in runners:
            text = "".join(runner.stdout).strip()
            if text:
                sys.stdout.write("".join(f"[{runner.spec.name}] {line}\n"
                                         for line in text.splitlines()))
        for runner in runners:
            teams = f", {len(split[runner.spec.name])} teams" if split is not None else ""
            print(f"workspace {runner.spec.name}: exit {runner.exit_code} after "
                  f"{runner.seconds:.1f} s{teams}", file=err)
    return code


def _carries_chats(settings: Settings, spec: WorkspaceSpec) -> bool:
    from migrate.grid.workspaces import chats_workspace

    return settings.export.chats and chats_workspace(settings.workspaces) == spec.name


def _start(spec: WorkspaceSpec, argv: list[str], env: dict[str, str]) -> Runner:
    process = subprocess.Popen([sys.executable, "-m", "migrate", *argv], env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL)
    return Runner(spec, process, time.monotonic())


def _pump(runner: Runner, err: TextIO) -> None:
    for line in runner.process.stderr:   # type: ignore[union-attr]
        err.write(f"[{runner.spec.name}] {line}")
        err.flush()


def _document(runner: Runner, split: dict[str, list[str]] | None) -> dict[str, Any]:
    text = "".join(runner.stdout).strip()
    try:
        doc: dict[str, Any] = json.loads(text) if text else {}
    except ValueError:
        doc = {"output": text}
    doc = doc if isinstance(doc, dict) else {"result": doc}
    doc.setdefault("exit_code", runner.exit_code)
    doc["seconds"] = round(runner.seconds, 2)
    if split is not None:
        doc["teams"] = len(split[runner.spec.name])
    return doc


def _worst(codes: list[int]) -> int:
    present = Counter(codes)
    for code in SEVERITY:
        if present[code]:
            return code
    return next((c for c in codes if c), 0)
