"""`migrate demo`: the whole flow against the sandbox emulators, in one command.

Starts the Graph and Slack emulators in this process with the demo tenant, then runs export →
plan → run → verify with the real clients, exactly as against Microsoft and Slack, in a fresh
working directory that is kept for the reports. Nothing outside 127.0.0.1 is contacted.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from migrate.config import load_settings
from migrate.sandbox.runner import start_sandbox

DEMO_RATE_SCALE = 50.0  # every rate × 50: the demo's ~2,300 posts take seconds, not minutes


@dataclass
class DemoResult:
    workdir: Path
    run: Any            # stages.RunOutcome
    verify: Any         # verify.VerifyReport
    verify_paths: dict[str, Path]
    threads: list[dict]  # a few migrated threads, as the Slack emulator holds them
    seconds: float


def run_demo(workdir: Path | None = None, *, tenant: Path | None = None,
             rate_scale: float = DEMO_RATE_SCALE, progress: Any = None,
             import_progress: Any = None) -> DemoResult:
    from migrate import stages

    started = dt.datetime.now(dt.UTC)
    if workdir is None:
        workdir = Path(tempfile.mkdtemp(prefix="migrate-demo-"))
    elif workdir.exists() and any(workdir.iterdir()):
        from migrate.errors import UsageError

        raise UsageError(f"{workdir} is not empty: the demo needs a fresh working directory",
                         hint="omit --workdir (a new temporary one is made) or give an empty one")
    with start_sandbox(tenant, rate_scale=rate_scale) as sandbox:
        environ = {**sandbox.env(), "MIGRATE_WORKDIR": str(workdir)}
        settings = load_settings(None, environ=environ)
        stages.export(settings, progress)
        outcome = stages.run(settings, import_progress=import_progress)
        report, paths = stages.verify(settings)
        threads = sample_threads(sandbox.slack.state())
    seconds = (dt.datetime.now(dt.UTC) - started).total_seconds()
    return DemoResult(workdir, outcome, report, paths, threads, seconds)


def sample_threads(state: dict, count: int = 3) -> list[dict]:
    """A few threads worth showing: with replies, preferably with a file or a split message."""
    names = {c["id"]: c["name"] for c in state["channels"]}
    picked: list[tuple[int, dict]] = []
    for channel_id, messages in state["messages"].items():
        by_ts = {m["ts"]: m for m in messages}
        for message in messages:
            if message.get("subtype") not in (None, "bot_message") or not message.get("reply_count"):
                continue
            if message.get("thread_ts", message["ts"]) != message["ts"]:
                continue
            replies = [m for m in messages if m.get("thread_ts") == message["ts"]
                       and m["ts"] != message["ts"]]
            score = (sum(1 for m in replies if m.get("files")) * 3 + len(replies)
                     + (2 if "*" in message.get("text", "") else 0))
            picked.append((score, {"channel": names.get(channel_id, channel_id),
                                   "root": by_ts[message["ts"]], "replies": replies[:4],
                                   "more": max(0, len(replies) - 4)}))
    picked.sort(key=lambda item: -item[0])
    out, seen = [], set()
    for _, thread in picked:
        if thread["channel"] in seen:
            continue
        seen.add(thread["channel"])
        out.append(thread)
        if len(out) == count:
            break
    return out


def as_slack_shows(text: str) -> str:
    """mrkdwn as a reader sees it: links by their label, Slack's three escapes undone
    (`R&amp;D` reads R&D in Slack, so it must here too)."""
    import re

    from migrate.transform.markup import unescape

    text = re.sub(r"<((?:https?|mailto):[^|>\s]+)\|([^>]*)>", r"\2", text)
    text = re.sub(r"<((?:https?|mailto):[^|>\s]+)>", r"\1", text)
    return unescape(text)


def render_thread(thread: dict) -> list[str]:
    """Rich markup lines showing a thread roughly as Slack does."""
    from rich.markup import escape

    def one(message: dict, indent: str) -> list[str]:
        who = message.get("username") or "app"
        lines = [f"{indent}[bold]{escape(who)}[/] [dim]APP[/]"]
        for text_line in as_slack_shows(message.get("text") or "").splitlines() or [""]:
            lines.append(f"{indent}  {escape(text_line)}")
        for f in message.get("files") or []:
            lines.append(f"{indent}  [cyan]📎 {escape(f.get('name') or f.get('title') or 'file')}[/]")
        return lines

    lines = [f"[bold magenta]#{escape(thread['channel'])}[/]"]
    lines += one(thread["root"], "  ")
    for reply in thread["replies"]:
        lines += one(reply, "    │ ")
    if thread["more"]:
        lines.append(f"    │ [dim]… {thread['more']} more replies[/]")
    return lines
