"""Start both emulators on a sandbox folder (the demo tenant by default) — `migrate sandbox`
and `migrate demo` use this, and so can anyone's own scripts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from migrate.errors import ConfigError
from migrate.sandbox.graph_emulator import GraphEmulator
from migrate.sandbox.slack_emulator import SlackEmulator
from migrate.sandbox.tenant import (
    SANDBOX_GRAPH_TOKEN,
    SANDBOX_SLACK_TOKEN,
    Sandbox,
    default_demo_folder,
    load_sandbox,
)


@dataclass
class RunningSandbox:
    data: Sandbox
    graph: GraphEmulator
    slack: SlackEmulator
    rate_scale: float

    def env(self) -> dict[str, str]:
        """The environment that points `migrate` at these emulators."""
        return {
            "MIGRATE_GRAPH_URL": self.graph.url,
            "MIGRATE_GRAPH_TOKEN": SANDBOX_GRAPH_TOKEN,
            "MIGRATE_TENANT_ID": self.data.graph.tenant_id,
            "MIGRATE_GRAPH_RATE_SCALE": _num(self.rate_scale),
            "MIGRATE_SLACK_URL": self.slack.url,
            "MIGRATE_SLACK_TOKEN": SANDBOX_SLACK_TOKEN,
            "MIGRATE_SLACK_RATE_SCALE": _num(self.rate_scale),
        }

    def stop(self) -> None:
        self.graph.stop()
        self.slack.stop()

    def __enter__(self) -> RunningSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def load_folder(folder: Path | None) -> Sandbox:
    if folder is None and not default_demo_folder().is_dir():
        raise ConfigError("the demo tenant is not installed with this copy of migrate (it lives "
                          "in the source checkout, examples/demo-tenant)",
                          hint="install from a clone with `pip install -e .`, or pass --tenant DIR")
    folder = Path(folder) if folder else default_demo_folder()
    if not (folder / "graph").is_dir() or not (folder / "slack").is_dir():
        raise ConfigError(f"{folder}: not a sandbox folder (it needs graph/ and slack/)",
                          hint="pass --tenant with a folder like examples/demo-tenant")
    try:
        return load_sandbox(folder)
    except (FileNotFoundError, ValueError, KeyError) as exc:
        raise ConfigError(f"{folder}: cannot load the sandbox data: {exc}") from None


def _listen(name: str, port: int, flag: str, make: Callable[[], Any]) -> Any:
    """Build and start one emulator; a busy port is a usage error naming the flag to change."""
    try:
        return make().start()
    except OSError as exc:
        raise ConfigError(f"cannot listen on 127.0.0.1:{port} for {name} ({exc.strerror})",
                          hint=f"choose another {flag}") from None


def start_sandbox(folder: Path | None = None, *, rate_scale: float = 1.0, graph_port: int = 0,
                  slack_port: int = 0, seed: int = 0, throttle: bool = True) -> RunningSandbox:
    data = load_folder(folder)
    graph = _listen("Graph", graph_port, "--graph-port", lambda: GraphEmulator(
        data.graph, rate_scale=rate_scale, seed=seed, port=graph_port, throttle=throttle))
    try:
        slack = _listen("Slack", slack_port, "--slack-port", lambda: SlackEmulator(
            data.slack, rate_scale=rate_scale, seed=seed, port=slack_port, throttle=throttle))
    except BaseException:
        graph.stop()  # never leave one emulator running when the other could not start
        raise
    return RunningSandbox(data, graph, slack, rate_scale)
