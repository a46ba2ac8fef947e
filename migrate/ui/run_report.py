"""The report of one `migrate run`: $MIGRATE_WORKDIR/reports/run-<time>.{json,md,html}.

What landed, what failed and why, what was skipped and why (by the plan and by Slack), the
throughput and the throttling figures, and the ledger's totals (everything migrated so far).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from migrate.store import Store, keys, ledger
from migrate.ui.html_page import (
    bar_chart,
    cards,
    clock,
    column_chart,
    esc,
    legend,
    page,
    progress_chart,
    section,
    table,
)
from migrate.ui.plan_report import _md_table


def run_document(store: Store, run_id: int, outcome: Any) -> dict[str, Any]:
    result, stats, plan = outcome.result, outcome.stats, outcome.plan
    seconds = result.seconds if result else 0.0
    posts = result.posts_done if result else 0
    plan_skips = plan.tally.skip_reasons()
    doc = {
        "run_id": run_id,
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "exit_code": outcome.exit_code,
        "outcome": {0: "complete", 1: "some items failed (the next run retries them)",
                    75: "stopped at --max-duration (the next run resumes)"}.get(
                        outcome.exit_code, str(outcome.exit_code)),
        "plan": plan.summary(),
        "this_run": result.as_dict() if result else None,
        "throughput": {"seconds": round(seconds, 2), "posts": posts,
                       "posts_per_s": round(posts / seconds, 2) if seconds else 0.0,
                       "ceiling_s": round(outcome.ceiling_s or 0.0, 2),
                       "efficiency": round((outcome.ceiling_s or 0.0) / seconds, 3)
                       if seconds and posts else None},
        "slack": stats.as_dict() if stats else None,
        "timeline": stats.timeline.as_dict() if stats else None,
        "channels": channel_progress(store, run_id, plan),
        "phases": getattr(outcome, "phases", None) or {},
        "skipped_by_plan": dict(plan_skips.most_common()),
        "ledger": {"totals": ledger.counts(store), "failed": ledger.reasons(store, "failed"),
                   "skipped": ledger.reasons(store, "skipped"),
                   "in_doubt": ledger.reasons(store, "in_doubt")},
    }
    return doc


def channel_progress(store: Store, run_id: int, plan: Any) -> list[dict[str, Any]]:
    """Each planned channel's posts: in Slack before this run, in Slack now, failed or in
    doubt, and how many it has in all (those before, and those this run's plan held). One
    range scan of the ledger's key per channel."""
    started = store.run_started_at(run_id) or ""
    out = []
    for c in plan.channels:
        if c.action == "skip":
            continue
        before = done = trouble = 0
        for state, earlier, n in ledger.state_counts_since(
                store, keys.PostKey.prefix(c.teams_channel_id), started):
            if state == "done":
                done += n
                before += n if earlier else 0
            elif state in ("failed", "in_doubt"):
                trouble += n
        out.append({"channel": f"{c.team_name} › {c.channel_name}",
                    "slack": f"#{c.slack_name}" if c.slack_name else "—",
                    "before": before, "done": done, "failed": trouble,
                    "total": max(before + c.posts, done + trouble)})
    return out


def _figure(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _calls(doc: dict) -> tuple[int, int]:
    slack = doc.get("slack") or {}
    calls = sum((slack.get("calls") or {}).values())
    limited = sum((slack.get("ratelimited") or {}).values())
    return calls, limited


def run_markdown(doc: dict) -> str:
    t = doc["throughput"]
    calls, limited = _calls(doc)
    this = doc["this_run"] or {}
    lines = [f"# Migration run {doc['run_id']}", "", f"**Outcome:** {doc['outcome']} "
             f"(exit {doc['exit_code']}), finished {doc['finished_at']}.", "",
             f"- Posts made: {t['posts']} in {t['seconds']} s ({t['posts_per_s']}/s); ceiling "
             f"{t['ceiling_s']} s; efficiency {t['efficiency']}",
             f"- Slack calls: {calls}, rate limited: {limited}; waited for slots "
             f"{(doc['slack'] or {}).get('paced_s', 0)} s, held by Retry-After "
             f"{(doc['slack'] or {}).get('throttled_s', 0)} s", ""]
    if doc["phases"]:
        lines += ["## Estimate and actual, phase by phase (seconds)", "",
                  "Phases overlap when the run posts while it exports; the total is the wall "
                  "time.", "", _md_table(["phase", "estimated", "took"], [
                      [name, _figure(p["estimate"]), _figure(p["actual"])]
                      for name, p in doc["phases"].items()]), ""]
    outcomes = this.get("outcomes") or {}
    lines += ["## This run", "", _md_table(["item", "outcome", "count"], [
        [kind, state, str(n)] for kind, states in outcomes.items() for state, n in states.items()]), ""]
    for title, reasons in (("Failed (retried by the next run)", this.get("failed") or {}),
                           ("Skipped by Slack", this.get("skipped") or {}),
                           ("Skipped by the plan", doc["skipped_by_plan"])):
        lines += [f"## {title}", ""]
        lines += [_md_table(["reason", "items"], [[r, str(n)] for r, n in reasons.items()])
                  if reasons else "None.", ""]
    if this.get("halted_channels"):
        lines += ["## Channels stopped early", "", _md_table(
            ["channel", "why"], [[f"#{k}", v] for k, v in this["halted_channels"].items()]), ""]
    lines += ["## Everything migrated so far (ledger)", "", _md_table(
        ["item", "state", "count"], [[kind, state, str(n)] for kind, states in
                                     doc["ledger"]["totals"].items() for state, n in states.items()]), ""]
    return "\n".join(lines)


def _timeline_charts(doc: dict) -> str:
    timeline = doc.get("timeline") or {}
    series = timeline.get("series") or {}
    width = timeline.get("bucket_s") or 1
    if not series:
        return "<p>No Slack call was made.</p>"
    unit = "second" if width == 1 else (f"{width:g} seconds" if width < 120
                                         else f"{width / 60:g} minutes")

    def points(name: str) -> list[tuple[str, int]]:
        return [(clock(i * width), n) for i, n in enumerate(series.get(name) or [])]

    limited = series.get("ratelimited") or []
    return (f"<p>Posting calls per {esc(unit)} since the run's first Slack call "
            f"({sum(series.get('posts') or []):,} in all):</p>"
            + column_chart(points("posts"), "posting calls over time")
            + f"<p>429 answers (rate limited) per {esc(unit)}: {sum(limited):,} in all"
            + (" — none." if not sum(limited) else ".") + "</p>"
            + (column_chart(points("ratelimited"), "429s over time", css="bad", height=120)
               if sum(limited) else ""))


def _progress(doc: dict) -> str:
    channels = doc.get("channels") or []
    if not channels:
        return "<p>No channel in this plan.</p>"
    busiest = sorted(channels, key=lambda c: (-c["total"], c["channel"]))
    chart = progress_chart(
        [(c["channel"], [("ok", c["done"]), ("bad", c["failed"])], c["total"]) for c in busiest],
        "posts in Slack per channel")
    rows = [[c["channel"], c["slack"], c["done"] - c["before"], c["done"], c["failed"],
             max(0, c["total"] - c["done"] - c["failed"]), c["total"],
             round(100 * c["done"] / c["total"], 1) if c["total"] else 100.0] for c in channels]
    return (legend([("ok", "in Slack"), ("bad", "failed or in doubt"), ("rest", "not yet")])
            + chart + table(["channel", "Slack channel", "posted by this run", "in Slack",
                             "failed or in doubt", "not yet", "posts in all", "% in Slack"],
                            rows, tid="channels"))


def run_html(doc: dict) -> str:
    t = doc["throughput"]
    calls, limited = _calls(doc)
    this = doc["this_run"] or {}
    slack = doc.get("slack") or {}
    body = [f"<h1>Migration run {esc(doc['run_id'])}</h1><p>{esc(doc['outcome'])} — finished "
            f"{esc(doc['finished_at'])}.</p>",
            cards([("outcome", f"exit {doc['exit_code']}"), ("posts", t["posts"]),
                   ("posts/s", t["posts_per_s"]),
                   ("efficiency", t["efficiency"] if t["efficiency"] is not None else "—"),
                   ("Slack calls", calls), ("429s", limited),
                   ("failed", sum((this.get("failed") or {}).values())),
                   ("skipped", sum((this.get("skipped") or {}).values())
                    + sum(doc["skipped_by_plan"].values()))])]
    body.append(section("Over time", _timeline_charts(doc) + (
        f"<p>Waited for slots {esc(slack.get('paced_s', 0))} s in all (the workers together); "
        f"held by Retry-After {esc(slack.get('throttled_s', 0))} s.</p>" if slack else ""),
        sid="over-time"))
    channels = doc.get("channels") or []
    body.append(section("Channels", _progress(doc), count=len(channels),
                        open=len(channels) <= 100, sid="channels-section"))
    if slack.get("calls"):
        body.append(section("Slack calls by method", bar_chart(
            list(slack["calls"].items()), "Slack calls by method") + table(
            ["method", "calls", "429s"], [[m, n, (slack.get("ratelimited") or {}).get(m, 0)]
                                          for m, n in sorted(slack["calls"].items())],
            tid="methods"), count=len(slack["calls"]), open=False, sid="methods-section"))
    if doc["phases"]:
        body.append(section("Estimate and actual, phase by phase (seconds)", "<p>Phases overlap "
                            "when the run posts while it exports; the total is the wall time.</p>"
                            + table(["phase", "estimated", "took"], [
                                [name, p["estimate"], p["actual"]]
                                for name, p in doc["phases"].items()], tid="phases"), sid="phases"))
    outcomes = this.get("outcomes") or {}
    body.append(section("This run", table(["item", "outcome", "count"], [
        [kind, state, n] for kind, states in outcomes.items() for state, n in states.items()],
        tid="outcomes"), sid="this-run"))
    for n, (title, reasons) in enumerate((("Failed (retried by the next run)", this.get("failed") or {}),
                                          ("Skipped by Slack", this.get("skipped") or {}),
                                          ("Skipped by the plan", doc["skipped_by_plan"]))):
        body.append(section(title, table(["reason", "items"], list(map(list, reasons.items())),
                                         tid=f"reasons-{n}") if reasons else "<p>None.</p>",
                            count=sum(reasons.values()), open=len(reasons) <= 100))
    if this.get("halted_channels"):
        body.append(section("Channels stopped early", table(
            ["channel", "why"], [[f"#{k}", v] for k, v in this["halted_channels"].items()],
            tid="halted"), count=len(this["halted_channels"])))
    body.append(section("Everything migrated so far (ledger)", table(
        ["item", "state", "count"], [[kind, state, n] for kind, states in
                                     doc["ledger"]["totals"].items() for state, n in states.items()],
        tid="ledger"), sid="ledger"))
    return page(f"Migration run {doc['run_id']}", body)


def write_run_reports(store: Store, run_id: int, outcome: Any, directory: Path) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    doc = run_document(store, run_id, outcome)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    base = directory / f"run-{stamp}-{run_id}"
    paths = {"json": base.with_suffix(".json"), "md": base.with_suffix(".md"),
             "html": base.with_suffix(".html")}
    paths["json"].write_text(json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                             encoding="utf-8")
    paths["md"].write_text(run_markdown(doc), encoding="utf-8")
    paths["html"].write_text(run_html(doc), encoding="utf-8")
    return paths
