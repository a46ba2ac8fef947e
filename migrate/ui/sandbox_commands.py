"""The sandbox commands, `migrate demo` and `migrate sandbox`: the Graph and Slack emulators
(migrate/sandbox/) started in this process, either to run the whole migration against them once
or to serve them for other commands and scripts. Registered on the same typer app as the other
commands when migrate/cli.py imports this module."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import Annotated, Any

import typer

from migrate.errors import EXIT_ITEMS_FAILED
from migrate.ui import summaries
from migrate.ui.app import command, state_of


def _tenant_option(help: str) -> Any:
    """--tenant DIR: the sandbox folder the emulators serve (None: the demo tenant)."""
    return Annotated[Path | None, typer.Option("--tenant", metavar="DIR", help=help)]


def _rate_scale_option(help: str) -> Any:
    """--rate-scale: a factor on every emulated rate limit."""
    return Annotated[float, typer.Option("--rate-scale", min=0.001, help=help)]


DemoTenant = _tenant_option("Sandbox folder (default: examples/demo-tenant).")
ServedTenant = _tenant_option("Sandbox folder to serve (default: the demo tenant in "
                              "examples/demo-tenant).")
DemoRateScale = _rate_scale_option("Multiply every rate limit, on both sides (1 = the real "
                                   "services; the demo uses 50 to finish quickly).")
ServedRateScale = _rate_scale_option("Multiply every emulated rate limit (1 = the real "
                                     "services' limits).")


@command(help="See it work: start the Graph and Slack emulators in this process with the "
             "demo tenant and run export → plan → run → verify against them, then show where the "
             "reports are and a few migrated threads as Slack shows them. Touches nothing but "
             "127.0.0.1; about 25 seconds.")
def demo(
    ctx: typer.Context,
    tenant: DemoTenant = None,
    rate_scale: DemoRateScale = 50.0,
) -> None:
    from migrate.sandbox.demo import render_thread, run_demo
    from migrate.ui.progress import ExportDisplay, ImportDisplay

    state = state_of(ctx)
    out = state.out
    out.info(f"Starting the Graph and Slack emulators (rate limits × {rate_scale:g}) with the demo tenant…")
    with ExportDisplay(out.err) as export_display, ImportDisplay(out.err) as import_display:
        result = run_demo(state.workdir, tenant=tenant, rate_scale=rate_scale,
                          progress=export_display, import_progress=import_display)
    run_outcome = result.run
    if out.json_mode:
        out.emit_json({"workdir": str(result.workdir), "seconds": round(result.seconds, 1),
                       "run": run_outcome.result.as_dict(), "verify": result.verify.as_dict(),
                       "reports": {k: str(v) for k, v in {**run_outcome.reports, **{
                           f"run_{k}": v for k, v in run_outcome.run_reports.items()},
                           **{f"verify_{k}": v for k, v in result.verify_paths.items()}}.items()}})
    else:
        summaries.plan_summary(out, run_outcome.plan)
        summaries.run_summary(out, run_outcome)
        summaries.verify_summary(out, result.verify, result.verify_paths)
        out.info("\nA few migrated threads, as Slack shows them:\n")
        for thread in result.threads:
            for line in render_thread(thread):
                out.info(line)
            out.info("")
        out.info(f"Demo finished in {result.seconds:.0f}s. Working directory: {result.workdir}")
        # The result on stdout (progress and summaries are on stderr): where to look.
        print(f"Open the plan: {run_outcome.reports['html']}")
        if run_outcome.run_reports:
            print(f"Open the run report: {run_outcome.run_reports['html']}")
        for name, path in result.verify_paths.items():
            print(f"Verification ({name}): {path}")
    if run_outcome.exit_code or not result.verify.ok:
        raise typer.Exit(run_outcome.exit_code or EXIT_ITEMS_FAILED)


@command(help="Serve local emulators of Microsoft Graph and the Slack Web API on 127.0.0.1 "
             "with the demo tenant, and print the environment that points `migrate` (or your own "
             "scripts) at them. Runs until Ctrl-C.")
def sandbox(
    ctx: typer.Context,
    tenant: ServedTenant = None,
    rate_scale: ServedRateScale = 1.0,
    graph_port: Annotated[int, typer.Option("--graph-port", min=0, max=65535, help="Port of the Graph emulator (0 = any free port).")] = 0,
    slack_port: Annotated[int, typer.Option("--slack-port", min=0, max=65535, help="Port of the Slack emulator (0 = any free port).")] = 0,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the emulators' fault injection.")] = 0,
    no_throttle: Annotated[bool, typer.Option("--no-throttle", help="Never answer 429.")] = False,
    env_file: Annotated[Path | None, typer.Option(
        "--env-file", metavar="FILE", help="Also write the `export` lines to FILE once both emulators listen (for scripts: start in the background, wait for FILE, source it).")] = None,
    synthetic: Annotated[int | None, typer.Option(
        "--synthetic", metavar="N", min=1, help="Serve a generated enterprise-shaped tenant of N "
        "channel messages (proportionate people up to 350,000, teams, standard/private/shared "
        "channels, members, threads, edits, files, chats), deterministic for --seed and "
        "generated lazily so the emulator stays small at N = 10,000,000; read-only.")] = None,
    people: Annotated[int | None, typer.Option(
        "--people", metavar="P", min=2, help="With --synthetic: P people instead of one per 30 "
        "messages (to measure what grows with history alone).")] = None,
) -> None:
    from migrate.sandbox.runner import start_sandbox
    from migrate.sandbox.synthetic_sandbox import start_synthetic_sandbox

    state = state_of(ctx)
    if synthetic is None and people is not None:
        raise typer.BadParameter("--people shapes a generated tenant: use it with --synthetic")
    if synthetic is not None:
        if tenant is not None:
            raise typer.BadParameter("--synthetic generates its tenant: leave out --tenant")
        running = start_synthetic_sandbox(synthetic, seed=seed or 1, rate_scale=rate_scale,
                                          graph_port=graph_port, slack_port=slack_port,
                                          throttle=not no_throttle, people=people)
    else:
        running = start_sandbox(tenant, rate_scale=rate_scale, graph_port=graph_port,
                                slack_port=slack_port, seed=seed, throttle=not no_throttle)
    env = running.env()
    exports = "".join(f"export {name}={value}\n" for name, value in env.items())
    try:
        if env_file:
            tmp = env_file.with_name(env_file.name + ".tmp")
            tmp.write_text(exports, encoding="utf-8")
            tmp.replace(env_file)  # appears whole, so a waiting script never reads half of it
        if state.out.json_mode:
            state.out.emit_json({"graph": {"url": running.graph.url, "control": running.graph.origin + "/_control/"},
                                 "slack": {"url": running.slack.url, "control": running.slack.origin + "/_control/"},
                                 "env": env})
        else:
            out = state.out
            out.info(f"Graph emulator:  {running.graph.url}   (control: {running.graph.origin}/_control/)")
            out.info(f"Slack emulator:  {running.slack.url}   (control: {running.slack.origin}/_control/)")
            counts = running.data.graph
            if synthetic is not None:
                shape = counts.shape
                out.info(f"Tenant (generated, seed {seed or 1}): {shape.users:,} users, "
                         f"{len(counts.teams):,} teams, "
                         f"{sum(len(t.channels) for t in counts.teams):,} channels, "
                         f"{synthetic:,} channel messages, {shape.chats:,} chats with "
                         f"{shape.chat_messages:,} messages; rate scale {rate_scale:g}")
            else:
                messages = sum(len(c.messages) for t in counts.teams for c in t.channels)
                out.info(f"Tenant: {len(counts.users)} users, {len(counts.teams)} teams, "
                         f"{sum(len(t.channels) for t in counts.teams)} channels, {messages} "
                         f"messages; rate scale {rate_scale:g}")
            out.info("\nExport these to point migrate at the sandbox:\n")
            # The only stdout lines: copy-pasteable, and `eval "$(migrate sandbox)"`-able.
            sys.stdout.write(exports)
            sys.stdout.flush()
            out.info("\nServing until Ctrl-C.")
        _wait_for_interrupt()
    finally:
        running.stop()


def _wait_for_interrupt() -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
