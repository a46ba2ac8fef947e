"""The report of one `migrate run`: $MIGRATE_WORKDIR/reports/run-<time>.{json,md,html}.

What landed, what failed and why, what was skipped and why (by the plan and by Slack), the
throughput and the throttling figures, and the ledger's totals (everything migrated so far).
"""

from __future__ import annotations

import datetime as dt
import html
import json
from pathlib import Path
from typing import Any

from migrate.store import Store, ledger
from migrate.ui.plan_report import CSS, _md_table, _table


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
        "phases": getattr(outcome, "phases", None) or {},
        "skipped_by_plan": dict(plan_skips.most_common()),
        "ledger": {"totals": ledger.counts(store), "failed": ledger.reasons(store, "failed"),
                   "skipped": ledger.reasons(store, "skipped"),
                   "in_doubt": ledger.reasons(store, "in_doubt")},
    }
    return doc


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
    for title, table in (("Failed (retried by the next run)", this.get("failed") or {}),
                         ("Skipped by Slack", this.get("skipped") or {}),
                         ("Skipped by the plan", doc["skipped_by_plan"])):
        lines += [f"## {title}", ""]
        lines += [_md_table(["reason", "items"], [[r, str(n)] for r, n in table.items()])
                  if table else "None.", ""]
    if this.get("halted_channels"):
        lines += ["## Channels stopped early", "", _md_table(
            ["channel", "why"], [[f"#{k}", v] for k, v in this["halted_channels"].items()]), ""]
    lines += ["## Everything migrated so far (ledger)", "", _md_table(
        ["item", "state", "count"], [[kind, state, str(n)] for kind, states in
                                     doc["ledger"]["totals"].items() for state, n in states.items()]), ""]
    return "\n".join(lines)


def run_html(doc: dict) -> str:
    t = doc["throughput"]
    calls, limited = _calls(doc)
    this = doc["this_run"] or {}
    cards = [("outcome", f"exit {doc['exit_code']}"), ("posts", t["posts"]),
             ("posts/s", t["posts_per_s"]), ("efficiency", t["efficiency"] if t["efficiency"] is not None else "—"),
             ("Slack calls", calls), ("429s", limited),
             ("failed", sum((this.get("failed") or {}).values())),
             ("skipped", sum((this.get("skipped") or {}).values()) + sum(doc["skipped_by_plan"].values()))]
    body = [f"<h1>Migration run {doc['run_id']}</h1><p>{html.escape(doc['outcome'])} — finished "
            f"{html.escape(doc['finished_at'])}.</p>",
            '<div class="cards">' + "".join(f'<div class="card"><b>{html.escape(str(v))}</b>{k}</div>'
                                            for k, v in cards) + "</div>"]
    if doc["phases"]:
        body.append("<h2>Estimate and actual, phase by phase (seconds)</h2><p>Phases overlap "
                    "when the run posts while it exports; the total is the wall time.</p>"
                    + _table(["phase", "estimated", "took"], [
                        [name, _figure(p["estimate"]), _figure(p["actual"])]
                        for name, p in doc["phases"].items()]))
    outcomes = this.get("outcomes") or {}
    body.append("<h2>This run</h2>" + _table(["item", "outcome", "count"], [
        [kind, state, n] for kind, states in outcomes.items() for state, n in states.items()]))
    for title, table in (("Failed (retried by the next run)", this.get("failed") or {}),
                         ("Skipped by Slack", this.get("skipped") or {}),
                         ("Skipped by the plan", doc["skipped_by_plan"])):
        body.append(f"<h2>{title}</h2>" + (_table(["reason", "items"], list(map(list, table.items())))
                                          if table else "<p>None.</p>"))
    if this.get("halted_channels"):
        body.append("<h2>Channels stopped early</h2>" + _table(
            ["channel", "why"], [[f"#{k}", v] for k, v in this["halted_channels"].items()]))
    body.append("<h2>Everything migrated so far (ledger)</h2>" + _table(
        ["item", "state", "count"], [[kind, state, n] for kind, states in
                                     doc["ledger"]["totals"].items() for state, n in states.items()]))
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Migration run"
            f"</title><style>{CSS}</style></head><body>{''.join(body)}</body></html>\n")


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
