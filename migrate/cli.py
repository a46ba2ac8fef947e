"""The command line: each command parses its options, calls one stage (migrate/stages/) and
renders. The frame they run in — global options, errors turned into one line and an exit
code — is migrate/ui/app.py; what `run` and `sync` do once their options are read is
migrate/ui/run_flow.py; `demo` and `sandbox` are in migrate/ui/sandbox_commands.py."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from migrate.config import load_settings
from migrate.errors import EXIT_ITEMS_FAILED, MigrateError, UsageError
from migrate.ui import summaries
from migrate.ui.app import AppState, command, group, run_app, state_of, with_global_options
from migrate.ui.app import app as app  # the typer app, its commands registered below
from migrate.ui.console import print_error
from migrate.ui.run_flow import run_or_sync

if TYPE_CHECKING:
    from migrate.plan.build import Plan

ShardOption = Annotated[str | None, typer.Option(
    "--shard", metavar="I/N", help="Take only this runner's share of the tenant (1 ≤ I ≤ N; teams "
    "and chats split deterministically), with its own --workdir; shards posting into one "
    "workspace each take 1/N of its posting cap.")]

@command(help="Write a commented migrate.toml (every setting, its default and its environment "
             "variable) and empty override files for user and channel mappings.")
def init(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(help="Where to write migrate.toml.")] = Path("."),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing migrate.toml.")] = False,
) -> None:
    from migrate.setup.starter_files import write_starter_files

    state = state_of(ctx)
    written = write_starter_files(directory, force=force)
    # Prove the file we wrote loads back, so a broken template never reaches an admin.
    load_settings(written[0], environ={})
    if state.out.json_mode:
        state.out.emit_json({"written": [str(p) for p in written]})
    else:
        for path in written:
            state.out.info(f"wrote {path}")
        state.out.info("Next: set MIGRATE_TENANT_ID, MIGRATE_CLIENT_ID and a credential, "
                       "MIGRATE_SLACK_TOKEN, then run `migrate doctor`.")


@command("config", help="Show the effective settings and where each one comes from "
             "(command line, environment, migrate.toml or default). Secrets are shown only as "
             "set or not set. Exits 2 when the configuration is invalid.")
def show_config(ctx: typer.Context) -> None:
    from migrate.config import ALL_SETTINGS

    state = state_of(ctx)
    settings = state.settings()
    rows = []
    for info in ALL_SETTINGS:
        value = settings.value(info.key)
        shown = ("set" if value else "not set") if info.secret else value
        rows.append({"key": info.key, "value": shown, "env": info.env,
                     "source": settings.sources.get(info.key, "default")})
    if state.out.json_mode:
        state.out.emit_json({"config_file": None if settings.source == "defaults" else settings.source,
                             "settings": rows})
        return
    from rich.table import Table

    table = Table(title=f"Settings (file: {settings.source})", show_lines=False)
    for column in ("setting", "value", "from", "environment variable"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["key"], repr(row["value"]) if isinstance(row["value"], str) else str(row["value"]),
                      row["source"], row["env"] or "")
    state.out.err.print(table)


@command(help="Check the configuration: sign in to Graph, probe every application permission "
             "the export needs with one minimal call, check the Slack token and its scopes. Prints "
             "what is missing and exactly what to grant; exits 3 when something is missing.")
def doctor(ctx: typer.Context) -> None:
    from migrate.setup.doctor import exit_code, run_doctor

    state = state_of(ctx)
    checks = run_doctor(state.settings())
    bad = [c for c in checks if c.status in ("missing", "failed")]
    if state.out.json_mode:
        state.out.emit_json({"ok": not bad, "checks": [c.as_dict() for c in checks]})
    else:
        marks = {"ok": "[green]✓[/]", "missing": "[red]✗[/]", "failed": "[red]✗[/]",
                 "skipped": "[yellow]–[/]"}
        for c in checks:
            state.out.info(f"{marks[c.status]} {c.area:<5} {c.name:<24} {c.detail}")
            if c.fix and c.status in ("missing", "failed"):
                state.out.info(f"        fix: {c.fix}")
        missing = [c.name for c in bad]
        state.out.info("All checks passed." if not bad else f"Missing or failing: {', '.join(missing)}")
    if bad:
        raise typer.Exit(exit_code(checks))


@command(help="Read the Teams tenant through Microsoft Graph into the state store: users, "
             "teams, channels, members, messages and replies, inline images and files. The first "
             "export reads everything; later ones read only what changed (a lastModifiedDateTime "
             "window with an overlap). Interrupted exports resume where they stopped.")
def export(
    ctx: typer.Context,
    shard: ShardOption = None,
    method: Annotated[str | None, typer.Option(
        "--method", help="getAllMessages (default; the team-wide export API) or per-channel "
        "(for tenants where the export API is unavailable).")] = None,
    since: Annotated[str | None, typer.Option("--since", metavar="YYYY-MM-DD", help="Only history from this date.")] = None,
    include_team: Annotated[list[str] | None, typer.Option(
        "--include-team", metavar="GLOB|ID", help="Only these teams (repeatable; name globs or ids).")] = None,
    exclude_team: Annotated[list[str] | None, typer.Option(
        "--exclude-team", metavar="GLOB|ID", help="Skip these teams (repeatable).")] = None,
    workers: Annotated[int, typer.Option("--graph-workers", min=1, max=256, help="Teams read from Graph at the same time (Graph's limits, not this, set the pace).")] = 64,
) -> None:
    from migrate import stages
    from migrate.ui.progress import ExportDisplay

    state = state_of(ctx)
    state.flags.update({"export.method": method, "export.since": since, "shard": shard,
                        "export.include_teams": include_team or None,
                        "export.exclude_teams": exclude_team or None})
    settings = state.settings()
    display = ExportDisplay(state.out.err)
    with display:
        summary = stages.export(settings, display, workers=workers)
    doc = summary.as_dict()
    if state.out.json_mode:
        state.out.emit_json(doc)
        return
    summaries.export_summary(state.out, summary)


@group("plan", help="Plan the migration without touching Slack: export what changed, map "
       "people and channels, render every message, estimate the duration, and write "
       "reports/plan.json (with its digest: the file `migrate run --plan` executes), plan.md "
       "and plan.html in the working directory. `migrate plan diff OLD NEW` compares two plans.")
def plan(
    ctx: typer.Context,
    shard: ShardOption = None,
    no_export: Annotated[bool, typer.Option("--no-export", help="Plan from what is already exported.")] = False,
    since: Annotated[str | None, typer.Option("--since", metavar="YYYY-MM-DD", help="Only history from this date.")] = None,
    workers: Annotated[int, typer.Option("--graph-workers", min=1, max=256, help="Teams read from Graph at the same time (Graph's limits, not this, set the pace).")] = 64,
    detailed_exitcode: Annotated[bool, typer.Option("--detailed-exitcode", help="For CI gates, as Terraform: exit 0 when nothing is left to do, 2 when changes are pending (posts, files, channels, members…), 1 on any error.")] = False,
) -> None:
    if ctx.invoked_subcommand:         # `migrate plan diff …`
        return
    state = state_of(ctx)
    state.flags.update({"export.since": since, "shard": shard})
    if not detailed_exitcode:
        _plan(state, no_export=no_export, workers=workers)
        return
    try:
        result = _plan(state, no_export=no_export, workers=workers)
    except MigrateError as exc:        # every error is 1 here: 2 means "changes pending"
        print_error(exc.one_line())
        raise typer.Exit(1) from None
    raise typer.Exit(2 if result.pending else 0)


def plan_diff(
    ctx: typer.Context,
    old: Annotated[Path, typer.Argument(metavar="OLD", help="The earlier plan.json (e.g. the reviewed one).")],
    new: Annotated[Path, typer.Argument(metavar="NEW", help="The later plan.json.")],
) -> None:
    from migrate.plan.review import diff_lines, diff_plans, index_plan

    diff = diff_plans(index_plan(old), index_plan(new))
    out = state_of(ctx).out
    if out.json_mode:
        out.emit_json(diff)
    else:
        for line in diff_lines(diff):
            print(line)
    raise typer.Exit(0 if diff["identical"] else 2)


plan.command("diff", help="What changed between two plan.json files (channels added, removed or "
             "changed, people mapped differently, counts, skips), as lines or --json. Exit 0 "
             "when both ask the same of Slack, 2 when they differ (as --detailed-exitcode).")(
    with_global_options(plan_diff, "plan diff"))


def _plan(state: AppState, *, no_export: bool, workers: int) -> Plan:
    from migrate import stages
    from migrate.ui.progress import ExportDisplay

    settings = state.settings()
    stages.check_slack(settings)
    if not no_export:
        with ExportDisplay(state.out.err) as display:
            exported = stages.export(settings, display, workers=workers)
        summaries.export_summary(state.out, exported)
    result, paths = stages.plan(settings, export_first=False)
    if state.out.json_mode:
        result.write_json(sys.stdout)
        return result
    summaries.plan_summary(state.out, result)
    out = state.out
    out.info("Reports: " + ", ".join(str(p) for p in paths.values()))
    return result


class Split(StrEnum):
    month = "month"
    year = "year"


@command(help="Write the Teams history as Slack import ZIPs (Slack's export format: real "
             "authors, original times; channels, private channels, DMs and group DMs) to "
             "bundle/ in the working directory, with IMPORT.md telling the admin what to do. "
             "Later bundles carry only what no bundle carried yet. Never writes to Slack.")
def bundle(
    ctx: typer.Context,
    shard: ShardOption = None,
    split: Annotated[Split, typer.Option("--split", help="One ZIP per month or per year of "
                                         "history, so each import stays a size Slack takes.")
                     ] = Split.year,
    max_mb: Annotated[float, typer.Option("--max-mb", min=0.01, help="Start a new part when a "
                                          "ZIP would hold more than this many MB.")] = 500.0,
    no_export: Annotated[bool, typer.Option("--no-export", help="Bundle what is already exported.")] = False,
    workers: Annotated[int, typer.Option("--graph-workers", min=1, max=256, help="Teams read from Graph at the same time (Graph's limits, not this, set the pace).")] = 64,
) -> None:
    from migrate import stages
    from migrate.ui.progress import ExportDisplay

    state = state_of(ctx)
    state.flags.update({"shard": shard})
    settings = state.settings()
    stages.check_slack(settings)
    if not no_export:
        with ExportDisplay(state.out.err) as display:
            exported = stages.export(settings, display, workers=workers)
        summaries.export_summary(state.out, exported)
    result = stages.bundle(settings, split=split.value, max_mb=max_mb, export_first=False)
    if state.out.json_mode:
        state.out.emit_json(result.as_dict())
        return
    summaries.bundle_summary(state.out, result)


REQUIRE_STATE_HELP = ("Refuse (exit 2) when the working directory holds no state from an "
                      "earlier run: for scheduled jobs, so a lost CI cache never starts the "
                      "migration afresh.")


@command(help="Migrate: export what changed in Teams, build the plan, show its summary and "
             "ask for confirmation (unless --yes or not on a terminal), then create the channels, "
             "post every message and file into Slack at its rate limits, invite members and "
             "archive what Teams archived. Exactly once: a stopped or crashed run resumes without "
             "duplicates. Exit 0 when everything planned is done, 1 when items failed (the next run "
             "retries them), 75 when --max-duration stopped it with work left.")
def run(
    ctx: typer.Context,
    shard: ShardOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Build and report the exact plan the run would execute; write nothing to Slack.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    max_duration: Annotated[str | None, typer.Option(
        "--max-duration", metavar="DURATION", help="Stop starting new work after this long (e.g. 50m, 5h30m, 3600); exit 75, the next run resumes.")] = None,
    no_export: Annotated[bool, typer.Option("--no-export", help="Use what is already exported.")] = False,
    since: Annotated[str | None, typer.Option("--since", metavar="YYYY-MM-DD", help="Only history from this date.")] = None,
    workers: Annotated[int, typer.Option("--slack-workers", min=1, max=64, help="Slack calls in flight at once (Slack's rate limits, not this, set the pace).")] = 8,
    require_state: Annotated[bool, typer.Option("--require-state", help=REQUIRE_STATE_HELP)] = False,
    plan_file: Annotated[Path | None, typer.Option(
        "--plan", metavar="FILE", help="Execute exactly this reviewed plan.json (written by `migrate plan`): refused (exit 2, saying what differs) when the file was altered, or when the source has moved past it.")] = None,
    refresh: Annotated[bool, typer.Option("--refresh", help="With --plan: when the source has moved past the reviewed plan, show what changed and run the plan as it is now.")] = False,
) -> None:
    state = state_of(ctx)
    state.flags.update({"export.since": since, "shard": shard})
    if refresh and plan_file is None:
        raise UsageError("--refresh goes with --plan FILE",
                         hint="`migrate run --plan reports/plan.json --refresh`")
    run_or_sync(state, command="run", dry_run=dry_run, ask=not yes and sys.stdin.isatty(),
             max_duration=max_duration, export_first=not no_export, workers=workers,
             require_state=require_state, plan_file=plan_file, refresh=refresh)


@command(help="For CI schedules until cut-over: export what changed in Teams since the last "
             "export (with an overlap), plan the delta and bring it into Slack — new messages, "
             "new replies into their migrated threads, edits (chat.update), deletions (chat.delete "
             "or a placeholder), reaction changes, new channels and members. Never prompts. A sync "
             "with no change makes no Slack write; the first sync is a full run. Appends a "
             "Markdown summary to $GITHUB_STEP_SUMMARY when set. Exit codes: 0 done, 1 items "
             "failed (retried next time), 2 configuration, 3 credentials, 4 another run holds the "
             "lock, 75 stopped at --max-duration (the next sync resumes).")
def sync(
    ctx: typer.Context,
    shard: ShardOption = None,
    max_duration: Annotated[str | None, typer.Option(
        "--max-duration", metavar="DURATION", help="Stop starting new work after this long, before the CI job's timeout (e.g. 50m); exit 75, the next sync resumes.")] = None,
    workers: Annotated[int, typer.Option("--slack-workers", min=1, max=64, help="Slack calls in flight at once (Slack's rate limits, not this, set the pace).")] = 8,
    require_state: Annotated[bool, typer.Option("--require-state", help=REQUIRE_STATE_HELP)] = False,
) -> None:
    state = state_of(ctx)
    state.flags.update({"shard": shard})
    run_or_sync(state, command="sync", dry_run=False, ask=False, max_duration=max_duration,
             export_first=True, workers=workers, require_state=require_state)


@command(help="Rebuild a lost working directory's ledger from Slack, so the next run carries "
             "on instead of migrating everything twice: exports the tenant, plans, then reads "
             "back the channels this Slack app created (and those the plan reuses) and records "
             "every post it finds by the Teams ids in its metadata, and every file in its "
             "thread. Reads Slack only. Use it when `run`/`sync` refuse with \"state is "
             "missing\" and the old working directory cannot be restored.")
def adopt(
    ctx: typer.Context,
    no_export: Annotated[bool, typer.Option("--no-export", help="Use what is already exported.")] = False,
) -> None:
    from migrate import stages
    from migrate.ui.progress import ExportDisplay

    state = state_of(ctx)
    settings = state.settings()
    out = state.out
    stages.check_slack(settings)
    if not no_export:
        with ExportDisplay(out.err) as export_display:
            exported = stages.export(settings, export_display)
        summaries.export_summary(out, exported)
    summary = stages.adopt(settings)
    if out.json_mode:
        out.emit_json(summary.as_dict())
        return
    out.info(f"Adopted from Slack: {summary.channels} channels ({summary.archived_channels} "
             f"archived, not readable), {summary.posts} posts, {summary.files} files"
             + (f"; {summary.duplicates} posts were in Slack more than once (the earliest "
                "is kept)" if summary.duplicates else ""))
    if summary.unmatched_channels:
        out.warn("channels of this app that match nothing planned (left alone): "
                 + ", ".join(summary.unmatched_channels[:20]))
    out.info(f"The ledger in {settings.workdir_path / 'state.db'} now knows them: `migrate run` "
             "carries on from here.")


@command(help="Show progress from the state store: the last runs and how they ended, items "
             "failed or in doubt (by reason), what was skipped, and the lag between Teams and "
             "Slack (the newest exported Teams change against what the last complete run or sync "
             "brought across). Reads only; works while a sync runs.")
def status(ctx: typer.Context) -> None:
    from migrate import stages

    state = state_of(ctx)
    doc = stages.status(state.settings())
    out = state.out
    if out.json_mode:
        out.emit_json(doc)
        return
    summaries.status_summary(out, doc)


@command(help="Compare the source with Slack: every team and channel in scope (listed from "
             "Graph when Graph credentials are set, else from the state store) must be planned "
             "and in Slack; then every migrated channel is read back and our posts found by the "
             "Teams ids in their metadata. Lists teams and channels not in Slack, missing, "
             "duplicated, misplaced (wrong thread) and out-of-order messages and missing files; "
             "exit 1 if there are any. Slack unreachable: one line, exit 2. Writes nothing.")
def verify(ctx: typer.Context) -> None:
    from migrate import stages

    state = state_of(ctx)
    report, paths = stages.verify(state.settings())
    summaries.verify_summary(state.out, report, paths)
    if not report.ok:
        raise typer.Exit(EXIT_ITEMS_FAILED)


# Registered last, so `migrate --help` lists them after the migration's own commands.
import migrate.ui.sandbox_commands  # noqa: E402, F401  (`migrate demo`, `migrate sandbox`)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `migrate` script."""
    run_app(argv)
