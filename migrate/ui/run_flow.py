"""What `migrate run` and `migrate sync` do between their options and the stages: export,
plan, confirm (run on a terminal), import, the summaries and the exit code. The commands
themselves are declared in migrate/cli.py; the stages they call are in migrate/stages/."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from migrate.config import Settings
from migrate.errors import MigrateError
from migrate.ui import summaries
from migrate.ui.app import AppState
from migrate.ui.console import Output

if TYPE_CHECKING:
    from migrate.plan.build import Plan
    from migrate.plan.review import PlanIndex
    from migrate.stages import RunOutcome


def _require_state(settings: Settings) -> None:
    from migrate.errors import ConfigError

    path = settings.workdir_path / "state.db"
    if not path.is_file():
        raise ConfigError(f"{path}: no state from an earlier run (--require-state): the working "
                          "directory was not restored",
                          hint="restore it (CI: its cache), point --workdir/MIGRATE_WORKDIR at "
                          "it, or rebuild it from Slack with `migrate adopt`")


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """"90", "90s", "45m", "5h30m", "1d" → seconds (a usage error otherwise)."""
    import re

    value = text.strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    parts = re.findall(r"(\d+(?:\.\d+)?)([smhd])", value)
    if not parts or "".join(n + u for n, u in parts) != value:
        raise typer.BadParameter(f"{text!r} is not a duration (e.g. 3600, 90m, 5h30m)")
    return sum(float(n) * _UNITS[u] for n, u in parts)


def run_or_sync(state: AppState, *, command: str, dry_run: bool, ask: bool,
             max_duration: str | None, export_first: bool, workers: int,
             require_state: bool, plan_file: Path | None = None, refresh: bool = False) -> None:
    """`run` and `sync`: the same steps — export, plan, confirm (run on a terminal only),
    import — with their differences as parameters (sync never asks, always exports, warns
    about per-channel polling and appends the CI step summary)."""
    import time as _time

    from migrate import stages
    from migrate.ui.progress import ExportDisplay, ImportDisplay

    started = _time.monotonic()
    limit = parse_duration(max_duration) if max_duration else None
    settings = state.settings()
    if require_state:
        _require_state(settings)
    slack = stages.check_slack(settings)
    out = state.out
    if command == "sync" and settings.export.method == "per-channel":
        out.warn("export.method is per-channel: each sync reads every channel, and Microsoft "
                 "asks not to poll the same resource for changes more than once a day — schedule "
                 "syncs daily, or use getAllMessages (the default)")
    target = summaries.target_line(settings, slack)
    ask = ask and not dry_run

    def confirm(plan: Plan, already: int) -> bool:
        summaries.plan_summary(out, plan)
        out.info(target)
        return not ask or typer.confirm("Write this to that Slack workspace now?", default=False,
                                        err=True)

    reviewed = _reviewed_plan(settings, plan_file, out) if plan_file is not None else None
    if (export_first and not dry_run and not ask and settings.plan.chats_to_channels == "none"
            and reviewed is None):
        # Nobody to ask: each channel is posted as soon as it is exported and planned.
        out.info(target)
        with ExportDisplay(out.err, live=False) as export_display, \
                ImportDisplay(out.err) as display:
            outcome, exported = stages.run_while_exporting(
                settings, export_progress=export_display, max_duration=limit, workers=workers,
                import_progress=display, started=started, command=command)
        summaries.export_summary(out, exported)
        summaries.plan_summary(out, outcome.plan)
        _finish_run(out, outcome, command, dry_run, target)
        return
    exported = None
    if export_first:
        with ExportDisplay(out.err) as export_display:
            exported = stages.export(settings, export_display)
        summaries.export_summary(out, exported)
    with ImportDisplay(out.err) as display:
        outcome = stages.run(settings, dry_run=dry_run,
                             confirm=confirm if command == "run" else None,
                             max_duration=limit, workers=workers, import_progress=display,
                             started=started, command=command,
                             exported=exported,
                             reviewed=reviewed, refresh=refresh,
                             show=lambda lines: [out.info(line) for line in lines])
    if outcome.declined:
        out.info("Nothing done: nothing was written to Slack.")
        return
    _finish_run(out, outcome, command, dry_run, target)


def _reviewed_plan(settings: Settings, plan_file: Path, out: Output) -> PlanIndex:
    """The approved plan's index (plan/review.py), once its digest says it is as written;
    a copy is kept beside the reports. An altered file is refused, saying what differs from
    the plan the same data gives now."""
    import shutil

    from migrate import stages
    from migrate.errors import PlanRefused
    from migrate.plan.review import check_file, diff_lines, diff_plans, index_plan

    checked = check_file(plan_file)
    if not checked.intact:
        try:
            lines = diff_lines(diff_plans(index_plan(plan_file), stages.plan_index_now(settings)))
        except MigrateError as exc:
            lines = [f"(what differs cannot be shown: {exc.one_line()})"]
        for line in lines:
            out.info(line)
        raise PlanRefused(f"{plan_file} was changed after `migrate plan` wrote it (its content "
                          "no longer matches its digest); against the plan the same data gives "
                          "now, it differs as listed above",
                          hint="run `migrate plan` again and have the new plan.json reviewed")
    reviewed = index_plan(plan_file)
    keep = settings.workdir_path / "reports" / f"approved-{checked.content[:12]}.json"
    if plan_file.resolve() != keep.resolve():
        keep.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(plan_file, keep)
    out.info(f"Reviewed plan {plan_file} (digest {checked.content[:12]}), kept as {keep}")
    return reviewed


def _finish_run(out: Output, outcome: RunOutcome, command: str, dry_run: bool,
                target: str) -> None:
    summaries.run_summary(out, outcome)
    if command == "sync":
        summaries.github_step_summary(outcome)
    elif not dry_run and not out.json_mode:
        out.info(target.replace("Target:", "Written to:", 1))
    if outcome.exit_code:
        raise typer.Exit(outcome.exit_code)
