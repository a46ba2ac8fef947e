"""`migrate run --yes` and `migrate sync` in one go: the export, the plan and the import
overlap, each channel posted as soon as all of it is exported and planned. Importable as
`migrate.stages.run_while_exporting`; `migrate.stages.run` is the same run after a whole
export."""

from __future__ import annotations

import queue
import threading
from typing import TYPE_CHECKING

from migrate.config import Settings
from migrate.errors import TimeBudgetExhausted
from migrate.export.exporter import ExportProgress, ExportSummary, TeamsExporter
from migrate.store.runtime import writer_run

if TYPE_CHECKING:
    from migrate.load.importer import ImportProgress
    from migrate.stages import RunOutcome


def _out_of_time(exc: BaseException) -> bool:
    """The export stopped at --max-duration: the run ends as a stopped run (exit 75, reports
    written), not as a failure."""
    return isinstance(exc, TimeBudgetExhausted)


def run_while_exporting(settings: Settings, *, export_progress: ExportProgress | None = None,
                        max_duration: float | None = None, workers: int = 8,
                        graph_workers: int = 64,
                        import_progress: ImportProgress | None = None,
                        started: float | None = None, command: str = "run",
                        ) -> tuple[RunOutcome, ExportSummary]:
    """`migrate run --yes` / `sync` in one go: the export, the plan and the import overlap.

    The export runs in a thread. Once the tenant's structure is stored (people, teams,
    channels, members) the plan's decisions are made (names, invites) and the state check
    runs; then each team, as soon as its messages and files are stored, has its channels
    planned and handed to the running import, which posts them while the other teams are
    still being read. The ledger's exactly-once and each channel's order are as in `run`: a
    channel is posted only once all of it is exported and planned. The chats, which never
    become channels here (plan.chats_to_channels = none), are planned at the end."""
    from migrate.load.directory import read_directory
    from migrate.load.limits import ceiling_seconds
    from migrate.plan.build import PlanBuilder
    from migrate.stages import (
        RunOutcome,
        estimate_to_compare,
        graph_client,
        make_importer,
        refuse_a_lost_state,
        run_exit_code,
        slack_target,
        unread_in_teams,
    )
    from migrate.store.db import utcnow
    from migrate.ui.plan_report import write_reports
    from migrate.ui.run_report import write_run_reports

    if settings.plan.chats_to_channels != "none":
        raise ValueError("chats carried as channels are named with the channels: plan first")
    phases, started, limits, client, scheduler = slack_target(settings, started)
    graph = graph_client(settings)
    if max_duration is not None:    # the export stops at the deadline too, resumable
        graph.deadline = started + max_duration
    with writer_run(settings, command) as ctx:
        store = ctx.store
        with phases.timing("directory"):
            directory = read_directory(client, scheduler, store)
        builder = PlanBuilder(store, settings, directory)
        outcome = RunOutcome(builder.plan, False)
        structure = threading.Event()
        teams_ready: queue.Queue[str | None] = queue.Queue()
        failure: list[BaseException] = []
        exported: list[ExportSummary] = []
        export_ended: list[str] = []

        def export() -> None:     # part of this run: its warnings and figures are the run's
            try:
                exporter = TeamsExporter(graph, store, settings, run_id=ctx.run_id,
                                         progress=export_progress, workers=graph_workers,
                                         on_structure=structure.set, on_team=teams_ready.put)
                exported.append(exporter.run())
                export_ended.append(utcnow())
            except BaseException as exc:  # noqa: BLE001 - handed to the main thread
                failure.append(exc)
            finally:
                structure.set()
                teams_ready.put(None)

        exporting = threading.Thread(target=export, name="export", daemon=True)
        exporting.start()
        structure.wait()
        if failure and not _out_of_time(failure[0]):
            exporting.join()
            raise failure[0]
        with phases.timing("plan"):
            builder.decide(chats=False)
        refuse_a_lost_state(store, builder.decisions, client, scheduler, directory,
                             settings.workdir_path, sharded=settings.shard_spec is not None)
        importer = make_importer(settings, ctx, builder.plan, builder.decisions, client,
                                 scheduler, directory, import_progress,
                                 None if max_duration is None else started + max_duration)
        importer.open_feed()
        results: list = []
        posting = threading.Thread(target=lambda: results.append(importer.run(workers=workers)),
                                   name="import", daemon=True)
        posting.start()
        by_team: dict[str, list] = {}
        for decision in builder.decisions:
            by_team.setdefault(builder.team_of(decision), []).append(decision)
        try:
            while (team_id := teams_ready.get()) is not None:
                for decision in by_team.pop(team_id, []):
                    with phases.timing("plan"):
                        planned = builder.plan_channel(decision)
                    importer.add_channel(planned)
            exporting.join()
            if failure and not _out_of_time(failure[0]):
                raise failure[0]
            with phases.timing("plan"):
                for decisions in by_team.values():   # teams the export never finished: their
                    for decision in decisions:       # channels as the store has them
                        importer.add_channel(builder.plan_channel(decision))
                plan = builder.finish()
        except KeyboardInterrupt:
            scheduler.stop("interrupted")   # calls in flight finish and are recorded
            raise
        except BaseException:
            scheduler.stop("fatal")
            raise
        finally:
            importer.close_feed()
            posting.join()
        result = results[0] if results else importer.result
        outcome.plan, outcome.result, outcome.stats = plan, result, scheduler.stats
        outcome.reports = write_reports(plan, settings.workdir_path / "reports")
        per_channel = {k: v for k, v in importer.posts_per_channel().items() if v}
        outcome.ceiling_s = ceiling_seconds(per_channel, limits)
        # A failure left here is the export running out of time (others were raised).
        if not exported:             # stopped at --max-duration: what it read is stored
            exported.append(ExportSummary(method=settings.export.method, incremental=True))
            export_ended.append(utcnow())
        outcome.unread = unread_in_teams(plan, exported[0], chats=False)   # chats not carried
        ctx.exit_code = outcome.exit_code = run_exit_code(scheduler, result, bool(failure),
                                                          unread=outcome.unread)
        phases.finish(export_s=exported[0].seconds, import_s=result.seconds,
                      stats=scheduler.stats)
        outcome.phases = phases.compared(estimate_to_compare(store, plan))
        ctx.summary = {"export": {**exported[0].as_dict(), "ended_at": export_ended[0]},
                       "plan": plan.summary(), "dry_run": False, "plan_as_of": plan.as_of,
                       "import": result.as_dict(), "slack": scheduler.stats.as_dict(),
                       "overlapped": True, "phases": outcome.phases}
        outcome.run_reports = write_run_reports(store, ctx.run_id, outcome,
                                                settings.workdir_path / "reports")
    return outcome, exported[0]
