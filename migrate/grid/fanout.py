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
from pathlib import Path
from typing import Any, TextIO

from migrate.config import Settings
from migrate.errors import ConfigError, UsageError
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
    if any(arg == "--plan" or arg.startswith("--plan=") for arg in argv):
        raise UsageError("each workspace has its own reviewed plan: run them one by one",
                         hint="`migrate run --workspace NAME --plan "
                              "<workdir>/workspaces/NAME/reports/plan.json`")
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
    # Runners always answer in JSON (their human lines go to stderr, which comes through):
    # the split is summed up from what they say.
    child_argv = argv if "--json" in argv else [*argv, "--json"]
    runners = [_start(spec, child_argv, envs[spec.name]) for spec in settings.workspaces]
    pumps = [threading.Thread(target=_pump, args=(r, err), daemon=True) for r in runners]
    for pump in pumps:
        pump.start()
    for runner in runners:
        runner.stdout.append(runner.process.stdout.read())   # type: ignore[union-attr]
        runner.exit_code = runner.process.wait()
        runner.seconds = time.monotonic() - runner.started
    for pump in pumps:
        pump.join()
    codes = [r.exit_code or 0 for r in runners]
    if "--detailed-exitcode" in argv:     # 1 any error, else 2 when any has changes pending
        code = 1 if any(c not in (0, 2) for c in codes) else max(codes)
    else:
        code = _worst(codes)
    docs = {r.spec.name: _document(r, split) for r in runners}
    rows = [split_row(name, doc) for name, doc in docs.items()]
    paths = write_split_report(settings.workdir_path / "reports", command, rows)
    if json_mode:
        sys.stdout.write(json.dumps({"workspaces": docs, "split": rows, "exit_code": code,
                                     "report": str(paths["md"])}, indent=1, sort_keys=True)
                         + "\n")
    else:
        print(split_table(rows), file=err)
        print(f"Workspaces report: {paths['md']}", file=err)
    return code


COLUMNS = ("workspace", "teams", "channels", "posts", "estimate_s", "posted", "seconds",
           "exit_code")


def split_row(name: str, doc: dict[str, Any]) -> dict[str, Any]:
    """What one workspace's runner said, in the columns of the split table."""
    plan = doc.get("plan") or doc          # run/sync nest the plan; plan is the plan
    summary = plan.get("summary") or plan
    channels = summary.get("channels") or {}
    messages = summary.get("messages") or {}
    return {"workspace": name, "teams": doc.get("teams"),
            "channels": (sum(v for k, v in channels.items() if k != "renamed")
                         if isinstance(channels, dict) else None),
            "posts": messages.get("posts") if isinstance(messages, dict) else None,
            "estimate_s": summary.get("estimate_seconds"),
            "posted": (doc.get("run") or {}).get("posts_done"),
            "seconds": doc.get("seconds"), "exit_code": doc.get("exit_code")}


def split_table(rows: list[dict[str, Any]]) -> str:
    shown = [c for c in COLUMNS if any(r.get(c) is not None for r in rows)]
    lines = ["  ".join(f"{c:>10}" for c in shown)]
    lines += ["  ".join(f"{'—' if r.get(c) is None else r[c]!s:>10}" for c in shown) for r in rows]
    estimates = [r["estimate_s"] for r in rows if r.get("estimate_s") is not None]
    if estimates:
        lines.append(f"Estimated: {max(estimates):.0f} s side by side (the longest workspace), "
                     f"{sum(estimates):.0f} s one after another")
    return "\n".join(lines)


def write_split_report(directory: Path, command: str, rows: list[dict[str, Any]]
                       ) -> dict[str, Path]:
    """reports/workspaces.{json,md}: the split of the last fanned-out command."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {"json": directory / "workspaces.json", "md": directory / "workspaces.md"}
    paths["json"].write_text(json.dumps({"command": command, "workspaces": rows}, indent=2,
                                        sort_keys=True) + "\n", encoding="utf-8")
    shown = [c for c in COLUMNS if any(r.get(c) is not None for r in rows)]
    table = ["| " + " | ".join(shown) + " |", "|" + "---|" * len(shown)]
    table += ["| " + " | ".join("—" if r.get(c) is None else str(r[c]) for c in shown) + " |"
              for r in rows]
    paths["md"].write_text(f"# Workspaces: `migrate {command}`\n\nEach workspace has its own "
                           "working directory and reports under workspaces/<name>/.\n\n"
                           + "\n".join(table) + "\n", encoding="utf-8")
    return paths


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
