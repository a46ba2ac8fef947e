"""The stages a command runs, each wired from settings to its core: the CLI calls these."""

from __future__ import annotations

from pathlib import Path

from migrate.config import Settings
from migrate.graph.auth import build_auth
from migrate.graph.client import GraphClient
from migrate.graph.export import ExportProgress, ExportSummary, TeamsExporter
from migrate.runtime import writer_run


def graph_client(settings: Settings) -> GraphClient:
    return GraphClient(settings.graph, build_auth(settings.graph))


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
    from migrate.plan import build_plan
    from migrate.report import write_reports
    from migrate.slack.directory import read_directory, save_directory, slack_client

    if export_first:
        export(settings, progress, workers=workers)
    directory = read_directory(slack_client(settings))
    with writer_run(settings, "plan") as ctx:
        save_directory(ctx.store, directory)
        result = build_plan(ctx.store, settings, directory)
        paths: dict[str, Path] = write_reports(result, settings.workdir_path / "reports")
        ctx.summary = result.summary()
    return result, paths
