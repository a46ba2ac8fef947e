"""What a run did (RunOutcome) and how it reads as an exit code: 75 out of time, 1 when items
failed — in Slack, or teams, chats and files Graph would not give — else 0."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from migrate.errors import EXIT_ITEMS_FAILED, EXIT_OK, EXIT_TIME_BUDGET

if TYPE_CHECKING:
    from migrate.export.summary import ExportSummary
    from migrate.load.importer import ImportResult
    from migrate.load.scheduler import Scheduler, SchedulerStats
    from migrate.plan.build import Plan


@dataclass
class RunOutcome:
    """What `migrate run` did: the Plan it executed, the import's result and figures."""

    plan: Plan
    dry_run: bool
    exit_code: int = 0
    declined: bool = False            # the admin answered "no" at the confirmation
    result: ImportResult | None = None   # None for a dry run or a declined one
    stats: SchedulerStats | None = None
    unread: int = 0                   # teams and chats not read from Teams (unread_in_teams)
    reports: dict[str, Path] = field(default_factory=dict)
    run_reports: dict[str, Path] = field(default_factory=dict)
    # The ceiling of the posts made in this run: max(max_c n_c / r_channel, Σ n_c / r_workspace)
    # seconds for n_c posts in channel c (load/limits.py, ceiling_seconds).
    ceiling_s: float | None = None
    # Each phase of the run, the reviewed plan's estimate beside what it took (load/phases.py).
    phases: dict[str, dict[str, float | None]] = field(default_factory=dict)


def unread_in_teams(plan: Plan, exported: ExportSummary | None, *, chats: bool) -> int:
    """Teams — and chats, when the run carries them (`chats`) — that could not be read from
    Teams: the export's (this time) and the plan's (listed, but never read by any export).
    Their content is not in Slack yet."""
    never_read = plan.warnings.get("team_not_read", 0)
    if chats:
        never_read += plan.warnings.get("chat_not_read", 0)
    if exported is None:
        return never_read
    return never_read + (exported.unread if chats
                         else exported.teams_unreadable + exported.unread_files)


def run_exit_code(scheduler: Scheduler, result: ImportResult, out_of_time: bool = False, *,
                  unread: int = 0) -> int:
    """75 when the time budget ran out (the scheduler's deadline, or the export's), 1 when
    items failed or were left — in Slack, or `unread` teams and chats in Teams — else 0."""
    if scheduler.stop_reason == "deadline" or out_of_time:
        return EXIT_TIME_BUDGET
    if result.failed or result.halted or result.not_attempted or unread:
        return EXIT_ITEMS_FAILED
    return EXIT_OK
