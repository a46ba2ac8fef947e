"""The stages a command runs, each wired from settings to its core: the CLI calls these.
`run_while_exporting` (run --yes and sync, with export and import overlapping) is in
migrate/stages/overlap.py, a run's outcome and exit code in migrate/stages/outcome.py; both are
importable from here."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from migrate.config import Settings
from migrate.errors import EXIT_ITEMS_FAILED, EXIT_OK
from migrate.export.auth import build_auth
from migrate.export.client import GraphClient
from migrate.export.exporter import ExportProgress, ExportSummary, TeamsExporter
from migrate.load.phases import RunPhases
from migrate.stages.outcome import RunOutcome as RunOutcome
from migrate.stages.outcome import run_exit_code as run_exit_code
from migrate.stages.outcome import unread_in_teams as unread_in_teams
from migrate.stages.overlap import run_while_exporting as run_while_exporting
from migrate.store.runtime import RunContext, writer_run

if TYPE_CHECKING:   # the heavy stage modules are imported when a command needs them
    from migrate.export.inventory import SourceInventory
    from migrate.load.adopt import AdoptSummary
    from migrate.load.client import SlackClient
    from migrate.load.directory import SlackDirectory
    from migrate.load.importer import Importer, ImportProgress
    from migrate.load.limits import SlackLimits
    from migrate.load.scheduler import Scheduler
    from migrate.plan.build import Plan
    from migrate.plan.review import PlanIndex
    from migrate.verify.check import VerifyReport


class HasSlackName(Protocol):
    """A planned channel (a plan line, or a decision while the plan is still being built)."""

    @property
    def slack_name(self) -> str | None: ...


def check_slack(settings: Settings) -> dict:
    """Before a long export: the Slack token is set (else exit 2), Slack answers (else exit 2,
    "unreachable") and takes the token (else exit 3). Returns auth.test's answer."""
    from migrate.load.client import SlackClient

    return SlackClient(settings.slack).ensure_reachable()


def graph_client(settings: Settings) -> GraphClient:
    return GraphClient(settings.graph, build_auth(settings.graph))


def slack_scheduler(settings: Settings) -> Scheduler:
    """The scheduler that paces every Slack call at this workspace's limits (its share of them
    when shards post into one workspace)."""
    from migrate.load.limits import slack_limits
    from migrate.load.scheduler import Scheduler

    return Scheduler(slack_limits(settings.slack, cap_share=settings.cap_share))


class SlackTarget(NamedTuple):
    """What a run posts with: its phase clock, the time it started (the process's start when
    the CLI gives one), Slack's limits, the client and the scheduler pacing it."""

    phases: RunPhases
    started: float
    limits: SlackLimits
    client: SlackClient
    scheduler: Scheduler


def slack_target(settings: Settings, started: float | None) -> SlackTarget:
    from migrate.load.client import SlackClient
    from migrate.load.limits import slack_limits
    from migrate.load.scheduler import Scheduler

    phases = RunPhases(time.monotonic() if started is None else started,
                       process=started is not None)
    limits = slack_limits(settings.slack, cap_share=settings.cap_share)
    return SlackTarget(phases, phases.began if started is None else started, limits,
                       SlackClient(settings.slack), Scheduler(limits))


def export(settings: Settings, progress: ExportProgress | None = None, *,
           workers: int = 64) -> ExportSummary:
    """`migrate export`: Graph → state store, under the run lock (exit 4 if held)."""
    client = graph_client(settings)
    with writer_run(settings, "export") as ctx:
        exporter = TeamsExporter(client, ctx.store, settings, run_id=ctx.run_id,
                                 progress=progress, workers=workers)
        summary = exporter.run()
        ctx.summary = summary.as_dict()
        return summary


def plan(settings: Settings, progress: ExportProgress | None = None, *, workers: int = 64,
         export_first: bool = True):
    """`migrate plan`: an incremental export, a read-only look at Slack, the Plan and its
    reports in $MIGRATE_WORKDIR/reports/. Never writes to Slack."""
    from migrate.load.directory import read_directory, slack_client
    from migrate.plan.build import build_plan
    from migrate.plan.changes import pending_changes
    from migrate.ui.plan_report import write_reports

    if export_first:
        export(settings, progress, workers=workers)
    with writer_run(settings, "plan") as ctx:
        directory = read_directory(slack_client(settings), slack_scheduler(settings), ctx.store)
        result = build_plan(ctx.store, settings, directory)
        result.pending = dict(pending_changes(result, ctx.store,
                                              deleted_messages=settings.plan.deleted_messages))
        paths: dict[str, Path] = write_reports(result, settings.workdir_path / "reports")
        ctx.summary = result.summary()
    return result, paths


def bundle(settings: Settings, progress: ExportProgress | None = None, *, split: str = "year",
           max_mb: float = 500.0, workers: int = 64, export_first: bool = True,
           on_conversation: Callable[[str, int], None] = lambda name, n: None):
    """`migrate bundle`: an incremental export, the plan's decisions (a read-only look at
    Slack), then the history not carried yet as Slack import ZIPs in $MIGRATE_WORKDIR/bundle/.
    Never writes to Slack."""
    from migrate.bundle.writer import BundleWriter
    from migrate.errors import ConfigError
    from migrate.load.directory import read_directory, slack_client
    from migrate.store import teams_objects

    if export_first:
        export(settings, progress, workers=workers)
    with writer_run(settings, "bundle") as ctx:
        found = teams_objects.inventory(ctx.store)
        if not found["messages"] and not found["chat_messages"]:
            raise ConfigError(f"{settings.workdir_path}: nothing exported yet, so nothing to bundle",
                              hint="run `migrate bundle` without --no-export, or `migrate export` "
                              "first, with this working directory")
        directory = read_directory(slack_client(settings), slack_scheduler(settings), ctx.store)
        result = BundleWriter(ctx.store, settings, directory, split=split, max_mb=max_mb,
                              on_conversation=on_conversation).run()
        ctx.summary = result.as_dict()
    return result


def plan_index_now(settings: Settings) -> PlanIndex:
    """The PlanIndex (plan/review.py) of the plan the store gives now, without exporting and
    without touching the reports: for saying what an altered plan file differs in."""
    import tempfile

    from migrate.load.directory import read_directory, slack_client
    from migrate.plan.build import build_plan
    from migrate.plan.review import index_plan

    with writer_run(settings, "plan") as ctx:
        directory = read_directory(slack_client(settings), slack_scheduler(settings), ctx.store)
        plan = build_plan(ctx.store, settings, directory)
        with tempfile.TemporaryDirectory(dir=settings.workdir_path) as scratch:
            path = Path(scratch) / "plan.json"
            with path.open("w", encoding="utf-8") as handle:
                plan.write_json(handle)
            return index_plan(path)


def estimate_to_compare(store, plan: Plan) -> dict[str, float] | None:
    """The estimate this run is held to: the reviewed plan's (when `migrate plan` was the last
    command before this run), else the run's own plan's."""
    import json

    earlier = [row for row in store.last_runs(2) if row["status"] != "running"]
    if earlier and earlier[0]["command"] == "plan" and earlier[0]["status"] == "ok" \
            and earlier[0]["summary"]:
        phases = json.loads(earlier[0]["summary"]).get("estimate_phases")
        if phases:
            return phases
    return dict(plan.estimate.phases) if plan.estimate else None


def make_importer(settings: Settings, ctx: RunContext, plan: Plan,
                  channels: Iterable[HasSlackName], client: SlackClient, scheduler: Scheduler,
                  directory: SlackDirectory, progress: ImportProgress | None,
                  deadline: float | None) -> Importer:
    """The Importer of a run (plain or overlapped): the scheduler stops at `deadline`, and
    the names already taken in Slack — the directory's and the planned ones (`channels`: plan
    lines or decisions) — are known."""
    from migrate.load.importer import Importer

    if deadline is not None:
        scheduler.deadline = deadline
    names = {c.name for c in directory.channels}
    names |= {c.slack_name for c in channels if c.slack_name}
    return Importer(plan, ctx.store, client, scheduler,
                    files_dir=settings.workdir_path / "files", run_id=ctx.run_id,
                    progress=progress, known_channel_names=names,
                    deleted_messages=settings.plan.deleted_messages)


def run(settings: Settings, *, dry_run: bool = False,
        confirm: Callable[[Plan, int], bool] | None = None, max_duration: float | None = None,
        workers: int = 8, import_progress: ImportProgress | None = None,
        started: float | None = None, command: str = "run",
        exported: ExportSummary | None = None, reviewed: PlanIndex | None = None,
        refresh: bool = False, show: Callable[[list[str]], None] | None = None) -> RunOutcome:
    """`migrate run` / `sync` after their export: plan, then execute the plan in Slack exactly
    once. (The callers export first, with their own progress display.)

    `--dry-run` builds and reports the very same Plan and stops before the first Slack write.
    `confirm(plan, posts_already_in_slack)` returning False cancels before any write. Past `max_duration` seconds
    (from `started`) no new call starts; the ledger stays consistent and the exit code is 75.
    With `reviewed` (the PlanIndex of an approved plan.json, `run --plan FILE`), the plan built
    now must ask the same of Slack (plan/review.py), else nothing is written (exit 2) — unless
    `refresh`, which runs the new plan once `show` has been given what changed.
    `exported`: the summary of the export just before, when the caller ran one (its time is a
    phase; teams it could not read make the exit code 1).
    """
    from migrate.load.directory import read_directory
    from migrate.load.limits import ceiling_seconds
    from migrate.plan.build import build_plan
    from migrate.ui.plan_report import write_reports
    from migrate.ui.run_report import write_run_reports

    phases, started, limits, client, scheduler = slack_target(settings, started)
    with writer_run(settings, command if not dry_run else "plan") as ctx:
        with phases.timing("directory"):
            directory = read_directory(client, scheduler, ctx.store)
        with phases.timing("plan"):
            plan = build_plan(ctx.store, settings, directory)
        outcome = RunOutcome(plan, dry_run)
        compare_to = estimate_to_compare(ctx.store, plan)
        outcome.reports = write_reports(plan, settings.workdir_path / "reports")
        ctx.summary = {"plan": plan.summary(), "dry_run": dry_run, "plan_as_of": plan.as_of}
        if reviewed is not None:
            _hold_to_the_reviewed_plan(reviewed, outcome.reports["json"], refresh, show)
        if dry_run:
            return outcome
        refuse_a_lost_state(ctx.store, plan.channels, client, scheduler, directory,
                             settings.workdir_path, sharded=settings.shard_spec is not None)
        if confirm is not None and not confirm(plan, plan.already_in_slack):
            outcome.declined = True
            ctx.summary = {**ctx.summary, "declined": True}
            return outcome
        importer = make_importer(settings, ctx, plan, plan.channels, client, scheduler,
                                 directory, import_progress,
                                 None if max_duration is None else started + max_duration)
        try:
            result = importer.run(workers=workers)
        finally:
            outcome.stats = scheduler.stats
        outcome.result = result
        per_channel = {k: v for k, v in importer.posts_per_channel().items() if v}
        outcome.ceiling_s = ceiling_seconds(per_channel, limits)
        outcome.unread = unread_in_teams(plan, exported,
                                         chats=settings.plan.chats_to_channels != "none")
        ctx.exit_code = outcome.exit_code = run_exit_code(scheduler, result, unread=outcome.unread)
        phases.finish(export_s=exported.seconds if exported is not None else None, import_s=result.seconds, stats=scheduler.stats)
        outcome.phases = phases.compared(compare_to)
        ctx.summary = {**ctx.summary, "import": result.as_dict(), "slack": scheduler.stats.as_dict(),
                       "phases": outcome.phases}
        outcome.run_reports = write_run_reports(ctx.store, ctx.run_id, outcome,
                                                settings.workdir_path / "reports")
    return outcome


def _hold_to_the_reviewed_plan(reviewed: PlanIndex, built: Path, refresh: bool,
                               show: Callable[[list[str]], None] | None) -> None:
    """The plan built now against the approved one: the same intent, or a refusal (exit 2)
    naming what changed — unless `refresh`."""
    from migrate.errors import PlanRefused
    from migrate.plan.review import diff_lines, diff_plans, index_plan

    now = index_plan(built)
    if now.intent == reviewed.intent:
        return
    lines = diff_lines(diff_plans(reviewed, now))
    if show is not None:
        show(lines)
    if not refresh:
        raise PlanRefused(f"the source has moved past the reviewed plan ({len(lines)} changes, "
                          "listed above): running it now would not do what was approved",
                          hint="review the new plan (reports/plan.json) and run it with --plan, "
                               "or add --refresh to run the plan as it is now")


def source_inventory(settings: Settings, store) -> SourceInventory:
    """Every team and channel in scope: from Graph when Graph credentials are set (what Teams
    holds now, so a team the export missed is caught), else from the store."""
    from migrate.errors import ConfigError, ServiceUnreachable
    from migrate.export import inventory
    from migrate.export.errors import GraphUnavailable

    try:
        client = graph_client(settings)
    except ConfigError:
        return inventory.from_store(store, settings)   # no Graph credentials: the store's view
    try:
        return inventory.from_graph(client, settings)
    except GraphUnavailable as exc:
        raise ServiceUnreachable(f"Graph is unreachable at {settings.graph.base_url} ({exc})",
                                 hint="check MIGRATE_GRAPH_URL and the network; or unset the "
                                 "Graph credentials to verify against the store") from None


def refuse_a_lost_state(store, channels, client, scheduler, directory, workdir: Path,
                         sharded: bool = False) -> None:
    """Slack holding our channels or posts that this ledger does not know means the working
    directory's state is missing: stop before the first write (exit 2), never duplicate.
    `channels`: the plan's channels, or its channel decisions (they name the same fields)."""
    from migrate.load.state_check import find_unknown_traces, refuse_if_lost
    from migrate.store import ledger

    bot = scheduler.call("auth.test", None, client.auth_test).get("user_id")
    doubtful = ledger.channels_in_doubt(store)
    pending = {cp.slack_name for cp in channels
               if cp.teams_channel_id in doubtful and cp.slack_name}
    reuse = [cp.slack_channel_id for cp in channels
             if cp.action == "reuse" and cp.slack_channel_id]
    # Chats are never channels of their own unless carried (then they are among `channels`).
    owned = {cp.teams_channel_id for cp in channels} if sharded else None
    refuse_if_lost(find_unknown_traces(store, client, scheduler, directory, bot, reuse, pending,
                                       owned), workdir)


def adopt(settings: Settings) -> AdoptSummary:
    """`migrate adopt`: rebuild the ledger of this working directory from Slack (channels our
    bot created, posts with our metadata), after an export and a plan. Reads Slack only."""
    from migrate.load.adopt import Adopter
    from migrate.load.client import SlackClient
    from migrate.load.directory import read_directory
    from migrate.plan.build import build_plan

    client = SlackClient(settings.slack)
    bot = client.ensure_reachable().get("user_id")
    scheduler = slack_scheduler(settings)
    with writer_run(settings, "adopt") as ctx:
        directory = read_directory(client, scheduler, ctx.store)
        plan = build_plan(ctx.store, settings, directory)
        summary = Adopter(ctx.store, plan, client, scheduler, directory, bot).run()
        ctx.summary = summary.as_dict()
    return summary


def verify(settings: Settings) -> tuple[VerifyReport, dict[str, Path]]:
    """`migrate verify`: the source inventory and the Plan from the store against what Slack
    holds (reads only). Slack unreachable is a one-line error (exit 2), never a verdict."""
    from migrate.bundle.handover import hand_over
    from migrate.errors import ConfigError
    from migrate.load.client import SlackClient
    from migrate.load.directory import load_directory, read_directory
    from migrate.plan.build import build_plan
    from migrate.store import bundles
    from migrate.ui.verify_report import write_verify_reports
    from migrate.verify.check import Verifier

    client = SlackClient(settings.slack)
    bot = client.ensure_reachable().get("user_id")
    scheduler = slack_scheduler(settings)
    with writer_run(settings, "verify") as ctx:
        directory = load_directory(ctx.store)
        if directory is None:
            raise ConfigError("nothing to verify: this working directory has no plan yet",
                              hint="run `migrate plan` and `migrate run` first")
        handover = None
        if bundles.unconfirmed(ctx.store):
            # Imported bundles: their conversations are new in Slack. Confirm what they carried
            # (by ts) first, so the plan hands them over to the API.
            directory = read_directory(client, scheduler, ctx.store)
            handover = hand_over(ctx.store, client, scheduler, directory, bot)
        source = source_inventory(settings, ctx.store)
        plan = build_plan(ctx.store, settings, directory)
        verifier = Verifier(ctx.store, client, scheduler, bot=bot)
        report = verifier.check(plan, source)
        report.handover = handover
        ctx.summary = {"ok": report.ok, **report.totals()}
        ctx.exit_code = EXIT_OK if report.ok else EXIT_ITEMS_FAILED
    return report, write_verify_reports(report, settings.workdir_path / "reports")


def status(settings: Settings) -> dict[str, Any]:
    """`migrate status`: last runs, the ledger by state and reason, and the lag between Teams
    and Slack. Reads the store only (no lock: it may run beside a sync)."""
    import json

    from migrate.store import Store, teams_objects
    from migrate.store import ledger as ledger_mod

    workdir = settings.workdir_path
    if not (workdir / "state.db").exists():
        from migrate.errors import ConfigError

        raise ConfigError(f"{workdir}: no state store here yet",
                          hint="run `migrate export`, `migrate plan` or `migrate run` first "
                          "(or point --workdir / MIGRATE_WORKDIR at the right directory)")
    store = Store.open(workdir)
    try:
        runs = []
        for row in store.last_runs(10):
            summary = json.loads(row["summary"]) if row["summary"] else {}
            runs.append({"id": row["id"], "command": row["command"], "started_at": row["started_at"],
                         "ended_at": row["ended_at"], "status": row["status"],
                         "exit_code": row["exit_code"], "host": row["host"], "pid": row["pid"],
                         "posts_done": ((summary.get("import") or {}).get("posts_done")),
                         "not_attempted": ((summary.get("import") or {}).get("not_attempted")),
                         "plan_as_of": summary.get("plan_as_of")})
        newest = teams_objects.newest_teams_change(store)
        in_slack = next((r["plan_as_of"] for r in runs if r["command"] in ("run", "sync")
                         and r["exit_code"] == 0 and r["plan_as_of"]), None)
        last_ok = next((r["ended_at"] for r in runs if r["command"] in ("run", "sync")
                        and r["exit_code"] == 0), None)
        return {
            "workdir": str(workdir), "runs": runs,
            "ledger": ledger_mod.counts(store),
            "failed": ledger_mod.reasons(store, "failed"),
            "in_doubt": ledger_mod.reasons(store, "in_doubt"),
            "skipped": ledger_mod.reasons(store, "skipped"),
            "lag": {"newest_teams_change": newest, "complete_in_slack_up_to": in_slack,
                    "last_complete_run_ended_at": last_ok,
                    "seconds": _lag_seconds(newest, in_slack)},
        }
    finally:
        store.close()


def _lag_seconds(newest: str | None, in_slack: str | None) -> float | None:
    from migrate.timestamps import parse_instant

    later, earlier = parse_instant(newest), parse_instant(in_slack)
    if later is None or earlier is None:
        return None
    return max(0.0, (later - earlier).total_seconds())
