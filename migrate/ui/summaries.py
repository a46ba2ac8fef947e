"""What commands print on the terminal (stderr; or one JSON document on stdout with --json):
the summaries of plan, run/sync, verify and status, and the GitHub step summary."""

from __future__ import annotations

import os
from pathlib import Path

from migrate.errors import EXIT_ITEMS_FAILED, EXIT_TIME_BUDGET
from migrate.ui.console import Output


def target_line(settings, slack: dict) -> str:
    """Where a run writes and what it reads: the Slack workspace (auth.test's team and URL)
    and the Teams tenant."""
    workspace = slack.get("team") or slack.get("team_id") or "?"
    url = slack.get("url") or settings.slack.url
    tenant = settings.graph.tenant_id or "the tenant of MIGRATE_GRAPH_TOKEN"
    return (f"Target: Slack workspace {workspace} ({url}); source: Microsoft Teams tenant "
            f"{tenant}")


def export_summary(out: Output, summary) -> None:
    """One paragraph after an export: what this export read, and what the store now holds."""
    files = ", ".join(f"{n} {status}" for status, n in sorted(summary.files.items())) or "none"
    warnings = ", ".join(f"{n} {kind}" for kind, n in sorted(summary.warnings.items())) or "none"
    found = summary.found
    out.info(
        f"Exported {'changes since the last export' if summary.incremental else 'the tenant'} "
        f"in {summary.seconds:.1f}s: {summary.users} users, {summary.teams} teams read "
        f"({summary.teams_out_of_scope} out of scope"
        + (f", {summary.teams_unreadable} UNREADABLE — see warnings" if summary.teams_unreadable
           else "") + f"), {summary.channels} channels, "
        f"{summary.messages_new} new and {summary.messages_updated} changed messages; files: "
        f"{files}; warnings: {warnings}; {summary.requests} Graph requests, {summary.throttled} "
        f"throttled ({summary.throttle_wait_s:.1f}s waited).")
    if getattr(summary, "directory", None):
        out.info(f"Directory: {'read in full' if summary.directory == 'full' else 'changes read through delta queries'}; "
                 f"{summary.teams_reread} teams' members and channels read.")
    if found:
        out.info(f"Found in Teams: {found.get('teams', 0)} teams, {found.get('channels', 0)} "
                 f"channels, {found.get('messages', 0)} messages; {found.get('chats', 0)} chats "
                 f"with {found.get('chat_messages', 0)} messages"
                 + (f" (read from {summary.chat_readers} people's chat streams)"
                    if getattr(summary, "chat_readers", 0) else "") + ".")


CHAT_KINDS = {"oneOnOne": "1:1", "group": "group", "meeting": "meeting"}


def plan_summary(out: Output, result) -> None:
    from migrate.plan.estimate import human

    s = result.summary()
    est = result.estimate
    source = s.get("source") or {}
    if source:
        out.info(f"Source: {source.get('teams', 0)} teams, {source.get('channels', 0)} channels, "
                 f"{source.get('messages', 0)} messages found in Teams; {source.get('chats', 0)} "
                 f"chats with {source.get('chat_messages', 0)} messages")
    chats = s.get("chats") or {}
    if chats.get("found"):
        kinds = ", ".join(f"{n} {CHAT_KINDS.get(k, k)}" for k, n in chats["found"].items())
        out.info(f"Chats: {kinds}; {chats['to_channels']} become private channels, "
                 f"{chats['skipped']} skipped ({chats['messages_skipped']} messages)")
    out.info(f"Users: {s['users'].get('mapped', 0)} mapped, {s['users'].get('unmapped', 0)} unmapped "
             f"({s['users'].get('ambiguous', 0)} ambiguous)")
    out.info(f"Channels: {s['channels'].get('create', 0)} to create ({s['channels'].get('renamed', 0)} "
             f"renamed), {s['channels'].get('reuse', 0)} reused, {s['channels'].get('skip', 0)} skipped")
    out.info(f"Messages: {s['messages']['to_post']} to post ({s['messages']['posts']} posts), "
             f"{sum(s['messages']['skipped'].values())} skipped; files: {s['files']['to_upload']} "
             f"({s['files']['bytes']:,} bytes), {s['files']['skipped']} skipped")
    if result.already_in_slack:
        out.info(f"Already in Slack: {result.already_in_slack} of {s['messages']['posts']} posts "
                 "(earlier runs)" + (f"; {len(result.retractions)} to delete (deleted or "
                                     "shortened in Teams)" if result.retractions else ""))
    if result.warnings:
        out.info("Warnings: " + ", ".join(f"{n} {k}" for k, n in result.warnings.items()))
    if result.pending is not None:
        from collections import Counter

        from migrate.plan.changes import describe

        out.info("Pending in Slack: " + describe(Counter(result.pending)))
    if est:
        out.info(f"Estimated run: {human(est.seconds)} (bound by {est.binding}): "
                 + ", ".join(f"{name} {human(seconds)}" for name, seconds in est.phases.items()))
        for advice in est.advice:
            out.info(f"  advice: {advice}")


def bundle_summary(out: Output, result) -> None:
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(result.conversations.items())) or "none"
    if not result.bundles:
        out.info("Nothing new to bundle: every message is carried by an earlier bundle or "
                 "already in Slack.")
        return
    out.info(f"Bundle {result.generation}: {result.messages} messages in {len(result.bundles)} "
             f"ZIPs ({kinds} conversations; {result.users} people)")
    if result.skipped:
        out.info("Not carried: " + ", ".join(f"{n} {k}" for k, n in result.skipped.items()))
    for path in result.bundles:
        out.info(f"  {path}")
    out.info(f"Next: follow {result.import_md} (one import per hour), then `migrate verify`.")


def github_step_summary(outcome) -> None:
    """GitHub Actions shows $GITHUB_STEP_SUMMARY on the job's page (Markdown, appended)."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target or not outcome.run_reports:
        return
    text = Path(outcome.run_reports["md"]).read_text(encoding="utf-8")
    with open(target, "a", encoding="utf-8") as handle:
        handle.write(text.replace("# Migration run", "## migrate sync — run", 1) + "\n")


def run_summary(out: Output, outcome) -> None:
    if out.json_mode:
        doc = {"dry_run": outcome.dry_run, "exit_code": outcome.exit_code,
               "plan": outcome.plan.summary(),
               "reports": {k: str(v) for k, v in {**outcome.reports, **{
                   f"run_{k}": v for k, v in outcome.run_reports.items()}}.items()}}
        if outcome.result is not None:
            doc["run"] = outcome.result.as_dict()
            doc["slack"] = outcome.stats.as_dict()
            doc["phases"] = outcome.phases
            doc["unread_in_teams"] = outcome.unread
        out.emit_json(doc)
        return
    if outcome.dry_run:
        plan_summary(out, outcome.plan)
        out.info("Dry run: nothing was written to Slack. Plan: " +
                 ", ".join(str(p) for p in outcome.reports.values()))
        return
    r, stats = outcome.result, outcome.stats
    calls = sum(stats.calls.values())
    limited = sum(stats.ratelimited.values())
    outcomes = r.as_dict()["outcomes"]
    line = "; ".join(f"{kind}: " + ", ".join(f"{n} {state}" for state, n in states.items())
                     for kind, states in outcomes.items()) or "nothing to do"
    out.info(f"Done in {r.seconds:.1f}s — {line}")
    out.info(f"Slack: {calls} calls, {limited} rate limited ({stats.throttled_s:.1f}s held by "
             f"Retry-After); {r.posts_done / max(r.seconds, 0.001):.1f} posts/s"
             + (f", efficiency {outcome.ceiling_s / r.seconds:.2f} of the rate-limit ceiling"
                if r.posts_done and r.seconds else ""))
    if outcome.phases:
        out.info("Phases, estimated → took: " + phases_line(outcome.phases))
    for reason, n in r.failed.most_common(5):
        out.warn(f"{n} failed: {reason}")
    for channel, why in list(r.halted.items())[:5]:
        out.warn(f"#{channel} stopped: {why}")
    if outcome.exit_code == EXIT_TIME_BUDGET:
        out.info("Stopped at --max-duration; run again to resume.")
    elif outcome.exit_code == EXIT_ITEMS_FAILED:
        if outcome.unread:
            out.warn(f"{outcome.unread} teams, chats or files could not be read from Teams (see "
                     "the export and plan warnings): they are not in Slack yet; the next run "
                     "reads them again (a team to leave out: export.exclude_teams)")
        out.info("Some items failed; run again to retry them (see the run report).")
    out.info("Run report: " + ", ".join(str(p) for p in outcome.run_reports.values()))


def phases_line(phases: dict) -> str:
    """"export 1.4 → 1.2 s, …, total 29.0 → 28.6 s" (— where a side has no figure)."""
    def figure(value: float | None) -> str:
        return "—" if value is None else f"{value:.1f}"

    return ", ".join(f"{name} {figure(p['estimate'])} → {figure(p['actual'])} s"
                     for name, p in phases.items())


def verify_summary(out: Output, report, paths) -> None:
    if out.json_mode:
        out.emit_json({**report.as_dict(), "reports": {k: str(v) for k, v in paths.items()}})
        return
    t = report.totals()
    for check in report.channels:
        if check.problems:
            detail = [f"{len(getattr(check, n))} {n.replace('_', ' ')}" for n in
                      ("missing", "duplicated", "misplaced", "out_of_order", "missing_files",
                       "outsiders") if getattr(check, n)]
            detail += [x for x in (check.gap, check.unverifiable) if x]
            out.info(f"  {check.name}: {'; '.join(detail)}")
        elif check.note:
            out.info(f"  {check.name}: {check.note}")
    out.info(f"Source ({report.source}): {report.source_teams} teams, {report.source_channels} "
             f"channels in scope; {len(report.skipped)} channels skipped by the plan")
    handover = report.handover
    if handover is not None:
        out.info(f"Bundles: {len(handover.confirmed)} imported conversations confirmed "
                 f"({handover.messages} messages handed over to the API), "
                 f"{len(handover.awaiting)} awaiting their import")
        for name, why in sorted(handover.awaiting.items()):
            out.info(f"  {name}: {why}")
        for name, why in sorted(handover.unverifiable.items()):
            out.info(f"  {name}: {why}")
    verdict = "[green]verified[/]" if report.ok else "[red]problems found[/]"
    out.info(f"{verdict}: {t['found']} of {t['expected']} posts found in {t['channels']} channels; "
             f"{t['missing']} missing, {t['duplicated']} duplicated, {t['misplaced']} misplaced, "
             f"{t['out_of_order']} out of order, {t['missing_files']} files missing"
             + (f"; {t['channel_gaps']} channels or teams not in Slack" if t["channel_gaps"] else "")
             + (f"; {t['outsiders']} people in chat channels who are not chat members"
                if t["outsiders"] else "")
             + (f"; {t['unverifiable_channels']} channels unreadable" if t["unverifiable_channels"] else ""))
    out.info("Report: " + ", ".join(str(p) for p in paths.values()))


def status_summary(out: Output, doc: dict) -> None:
    from rich.table import Table

    table = Table(title="Last runs")
    for column in ("#", "command", "started", "ended", "status", "exit", "posts"):
        table.add_column(column)
    for r in doc["runs"]:
        table.add_row(str(r["id"]), r["command"], r["started_at"] or "", r["ended_at"] or "",
                      r["status"], "" if r["exit_code"] is None else str(r["exit_code"]),
                      "" if r["posts_done"] is None else str(r["posts_done"]))
    out.err.print(table)
    totals = doc["ledger"]
    if totals:
        out.info("In Slack (ledger): " + "; ".join(
            f"{kind}: " + ", ".join(f"{n} {st}" for st, n in states.items())
            for kind, states in totals.items()))
    last = next((r for r in doc["runs"] if r["command"] in ("run", "sync")), None)
    if last and last["not_attempted"]:
        out.info(f"Pending: the last {last['command']} (#{last['id']}, {last['status']}) left "
                 f"{last['not_attempted']} items for the next one.")
    for title, key in (("Failed (retried by the next run)", "failed"), ("In doubt (looked up before any retry)", "in_doubt")):
        if doc[key]:
            out.info(f"{title}:")
            for reason, n in list(doc[key].items())[:10]:
                out.info(f"  {n:>6}  {reason}")
    lag = doc["lag"]
    if lag["newest_teams_change"] is None:
        out.info("Nothing exported yet.")
    elif lag["complete_in_slack_up_to"] is None:
        out.info(f"Newest Teams change exported: {lag['newest_teams_change']}; no run has completed yet.")
    else:
        out.info(f"Slack is complete up to Teams changes of {lag['complete_in_slack_up_to']} "
                 f"(last complete run ended {lag['last_complete_run_ended_at']}); newest exported "
                 f"change {lag['newest_teams_change']}: lag {lag['seconds']:.0f}s.")
