"""The stages a command runs, each wired from settings to its core: the CLI calls these."""

from __future__ import annotations

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
