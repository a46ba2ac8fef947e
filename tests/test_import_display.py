"""`migrate run` progress in CI logs: plain lines that count what earlier runs did as done
and rate only this run's work."""

from __future__ import annotations

import io

from rich.console import Console

from migrate.ui.progress import ImportDisplay


def test_plain_lines_count_earlier_work_as_done_and_rate_only_this_run():
    buffer = io.StringIO()
    display = ImportDisplay(Console(file=buffer, force_terminal=False, width=200), interval=0)
    with display:
        display.advance("a", 5)                    # before `lanes`: ignored (counted by lanes)
        display.lanes({"a": 10, "b": 4}, {"a": 10, "b": 1})
        display.advance("b", 3)
    last = buffer.getvalue().strip().splitlines()[-1]
    assert last.startswith("run: 14/14 messages and files, 2/2 channels complete")
    assert display.already == 11
    assert "\x1b[" not in buffer.getvalue()        # no colour codes in logs
