"""Where output goes: human text to stderr (rich, plain when not a terminal), one JSON
document to stdout with --json, for any command, and the one-line error format."""

from __future__ import annotations

import json
import logging
import os
import sys
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console


@dataclass
class Output:
    json_mode: bool = False
    verbose: int = 0
    traceback: bool = False
    err: Console = field(default_factory=lambda: make_console())

    def info(self, message: str) -> None:
        """Human progress and results (stderr, so stdout stays clean for --json)."""
        self.err.print(message, highlight=False)

    def warn(self, message: str) -> None:
        self.err.print(f"[yellow]warning:[/] {message}", highlight=False)

    def emit_json(self, document: Any) -> None:
        sys.stdout.write(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
        sys.stdout.flush()


PLAIN_WIDTH = 1000


def make_console() -> Console:
    # No colour or spinners when stderr is not a terminal (CI logs), or when NO_COLOR is set.
    interactive = sys.stderr.isatty() and not os.environ.get("CI")
    # Off a terminal there is no width to fit: rich would assume 80 columns and cut tables
    # (config keys, status timestamps) and progress labels. Lines are as long as they need.
    return Console(stderr=True, force_terminal=None if interactive else False,
                   no_color=not interactive or bool(os.environ.get("NO_COLOR")),
                   highlight=False, soft_wrap=not interactive,
                   width=None if interactive else PLAIN_WIDTH)


def print_error(message: str) -> None:
    """The single error line every failure ends with (no traceback unless asked for)."""
    sys.stderr.write(f"migrate: error: {message}\n")
    sys.stderr.flush()


def setup_logging(verbose: int) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Libraries log every failure they hand back to us (slack_sdk: one ERROR line per failed
    # request, hundreds in a run that ends well); we report what matters in our own words.
    # Their lines appear with -vv; their debug logs (request bodies) only with -vvv.
    for noisy in ("urllib3", "msal", "slack_sdk", "tenacity"):
        logging.getLogger(noisy).setLevel(
            logging.CRITICAL + 1 if verbose < 2 else logging.WARNING if verbose < 3 else logging.DEBUG)
