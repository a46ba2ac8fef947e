"""The verification's reports: `reports/verify-<time>.json` (the whole report), `.md` (a
table per channel) and `.html` (the same on ui/html_page.py: the verdict, each channel's posts
found against those expected, the problems by kind with examples), written like the plan's and
the run's."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from migrate.ui.html_page import bar_chart, cards, esc, legend, page, progress_chart, section, table
from migrate.ui.plan_report import _md_table
from migrate.verify.check import VerifyReport

PROBLEMS = ("missing", "duplicated", "misplaced", "out_of_order", "missing_files", "outsiders")


def write_verify_reports(report: VerifyReport, directory: Path) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    paths = {"json": directory / f"verify-{stamp}.json", "md": directory / f"verify-{stamp}.md",
             "html": directory / f"verify-{stamp}.html"}
    paths["json"].write_text(json.dumps(report.as_dict(), indent=2, ensure_ascii=False) + "\n",
                             encoding="utf-8")
    paths["md"].write_text(verify_markdown(report), encoding="utf-8")
    paths["html"].write_text(verify_html(report), encoding="utf-8")
    return paths


def _sentence(report: VerifyReport) -> str:
    t = report.totals()
    return (f"{t['found']} of {t['expected']} planned posts found in {t['channels']} channels; "
            f"missing {t['missing']}, duplicated {t['duplicated']}, misplaced {t['misplaced']}, "
            f"out of order {t['out_of_order']}, files missing {t['missing_files']}, channels or "
            f"teams not in Slack {t['channel_gaps']}, people in chat channels who are not chat "
            f"members {t['outsiders']}.")


def verify_markdown(report: VerifyReport) -> str:
    lines = ["# Verification", "", f"**{'Everything is in place.' if report.ok else 'Problems found.'}** "
             + _sentence(report), "",
             f"Source ({report.source}): {report.source_teams} teams and {report.source_channels} "
             f"channels in scope; {len(report.skipped)} channels skipped by the plan.", ""]
    rows = [[c.name, str(c.expected), str(c.found), str(len(c.missing)),
             str(len(c.duplicated)), str(len(c.misplaced)), str(len(c.out_of_order)),
             str(len(c.missing_files)), str(len(c.outsiders)),
             c.gap or c.unverifiable or c.note or ""]
            for c in report.channels]
    lines.append(_md_table(["channel", "expected", "found", "missing", "duplicated", "misplaced",
                            "out of order", "files missing", "outsiders", "note"], rows))
    return "\n".join(lines) + "\n"


def verify_html(report: VerifyReport) -> str:
    t = report.totals()
    verdict = ('<p class="verdict-ok"><b>Everything is in place.</b></p>' if report.ok
               else '<p class="verdict-bad"><b>Problems found.</b></p>')
    body = [f"<h1>Verification</h1>{verdict}<p>{esc(_sentence(report))}</p>"
            f"<p>Source ({esc(report.source)}): {report.source_teams:,} teams and "
            f"{report.source_channels:,} channels in scope; {len(report.skipped):,} channels "
            "skipped by the plan.</p>",
            cards([("verdict", "verified" if report.ok else "problems"), ("expected", t["expected"]),
                   ("found", t["found"]), ("missing", t["missing"]),
                   ("duplicated", t["duplicated"]), ("misplaced", t["misplaced"]),
                   ("out of order", t["out_of_order"]), ("files missing", t["missing_files"]),
                   ("not in Slack", t["channel_gaps"]), ("outsiders", t["outsiders"])])]
    kinds = [(name.replace("_", " "), t[name]) for name in PROBLEMS if t[name]]
    kinds += [("channels or teams not in Slack", t["channel_gaps"])] if t["channel_gaps"] else []
    kinds += [("channels unreadable", t["unverifiable_channels"])] \
        if t["unverifiable_channels"] else []
    if kinds:
        body.append(section("Problems by kind", bar_chart(kinds, "problems by kind"),
                            sid="kinds"))
    # Channels with problems first, then the largest.
    checks = sorted(report.channels, key=lambda c: (-c.problems, -c.expected, c.name))
    chart = progress_chart(
        [(c.name, [("ok", min(c.found, c.expected)), ("bad", len(c.missing))],
          max(c.expected, 1 if c.gap or c.unverifiable else 0)) for c in checks],
        "posts found per channel")
    rows = [[c.name, c.slack_channel or "—", c.expected, c.found,
             *(len(getattr(c, name)) for name in PROBLEMS), len(c.extra),
             c.gap or c.unverifiable or c.note or ""] for c in report.channels]
    body.append(section("Channels", legend([("ok", "found"), ("bad", "missing"),
                                             ("rest", "expected, not accounted for")])
                        + chart + table(["channel", "Slack channel", "expected", "found",
                                         "missing", "duplicated", "misplaced", "out of order",
                                         "files missing", "outsiders", "no longer planned",
                                         "note"], rows, tid="channels"),
                        count=len(report.channels), open=len(report.channels) <= 100,
                        sid="channels-section"))
    examples = [[c.name, name.replace("_", " "), len(getattr(c, name)),
                 ", ".join(getattr(c, name)[:5])]
                for c in checks if c.problems for name in PROBLEMS if getattr(c, name)]
    body.append(section("Problems, with examples", table(
        ["channel", "problem", "count", "first ids"], examples, tid="examples")
        if examples else "<p>None.</p>", count=len(examples), open=len(examples) <= 100,
        sid="examples-section"))
    handover = report.handover
    if handover is not None:
        waiting = [[name, "awaiting", why] for name, why in sorted(handover.awaiting.items())]
        waiting += [[name, "unreadable", why] for name, why in sorted(handover.unverifiable.items())]
        body.append(section("Import bundles", f"<p>{len(handover.confirmed):,} imported "
                            f"conversations confirmed ({handover.messages:,} messages handed over "
                            f"to the API), {len(handover.awaiting):,} awaiting their import.</p>"
                            + (table(["conversation", "state", "why"], waiting, tid="bundles")
                               if waiting else ""), sid="bundles-section"))
    body.append(section("Skipped by the plan", table(
        ["channel and why"], [[s] for s in report.skipped], tid="skipped")
        if report.skipped else "<p>None.</p>", count=len(report.skipped),
        open=len(report.skipped) <= 100, sid="skipped-section"))
    return page("Verification", body)
