"""The verification's reports: `reports/verify-<time>.json` (the whole report) and `.md` (a
table per channel), written like the plan's and the run's."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from migrate.ui.plan_report import _md_table
from migrate.verify.check import VerifyReport


def write_verify_reports(report: VerifyReport, directory: Path) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    paths = {"json": directory / f"verify-{stamp}.json", "md": directory / f"verify-{stamp}.md"}
    paths["json"].write_text(json.dumps(report.as_dict(), indent=2, ensure_ascii=False) + "\n",
                             encoding="utf-8")
    paths["md"].write_text(verify_markdown(report), encoding="utf-8")
    return paths


def verify_markdown(report: VerifyReport) -> str:
    t = report.totals()
    lines = ["# Verification", "", f"**{'Everything is in place.' if report.ok else 'Problems found.'}** "
             f"{t['found']} of {t['expected']} planned posts found in {t['channels']} channels; "
             f"missing {t['missing']}, duplicated {t['duplicated']}, misplaced {t['misplaced']}, "
             f"out of order {t['out_of_order']}, files missing {t['missing_files']}, channels or "
             f"teams not in Slack {t['channel_gaps']}, people in chat channels who are not chat "
             f"members {t['outsiders']}.", "",
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
