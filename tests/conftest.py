"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# ../shared sits beside the checkout in CI; a clone on a laptop may not have it.
SHARED = ROOT.parent / "shared"


@pytest.fixture
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"../shared is absent ({SHARED}): conformance data lives there in CI")
    return SHARED


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """An environment without any MIGRATE_* variable of the developer's shell."""
    for name in list(os.environ):
        if name.startswith("MIGRATE_"):
            monkeypatch.delenv(name)
    return dict(os.environ)


def run_migrate(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
                timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run `python -m migrate` as a user would, in a subprocess."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATE_")}
    base.update(env or {})
    base["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-m", "migrate", *args], capture_output=True,
                          text=True, env=base, cwd=cwd, timeout=timeout)


def slack_posts(state: dict) -> dict[tuple[str, int], list[dict]]:
    """Our posts in a Slack emulator's state(): (Teams message id, part) → the messages that
    carry those ids in their metadata (each with its Slack `channel`), archived channels too."""
    found: dict[tuple[str, int], list[dict]] = {}
    for channel_id, messages in state["messages"].items():
        for message in messages:
            meta = message.get("metadata") or {}
            if meta.get("event_type") == "teams_message":
                ids = meta["event_payload"]
                found.setdefault((ids["teams_message_id"], int(ids["part"])), []).append(
                    {**message, "channel": channel_id})
    return found
