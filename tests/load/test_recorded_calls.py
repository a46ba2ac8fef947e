"""A call's intent is written just before it goes; a 429 (Slack did not act) withdraws it.

Seen in CI: Ctrl-C while the scheduler waited out a 429 left an `intent` row claiming a call
in flight, which the next run would have had to look up in Slack for nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from migrate.load.client import SlackRateLimited
from migrate.load.lane_common import LaneContext
from migrate.store import Store, ledger


def _context(store: Store) -> LaneContext:
    run_id = store.start_run("run")
    return LaneContext(store=store, client=None, scheduler=None, run=None, cp=None,  # type: ignore[arg-type]
                       run_id=run_id, files_dir=Path("."), deleted_messages="delete", channel_posts=list,
                       channel_uploads=list, rows={}, thread_ts={}, usernames={}, label="#x",
                       slack_id="C1")


def test_an_answered_call_leaves_its_intent_for_the_caller_to_settle(tmp_path):
    with Store.open(tmp_path) as store:
        ctx = _context(store)
        assert ctx.recorded("post:c:m:0", "post", lambda: {"ts": "1.0"}, teams_id="m") == {"ts": "1.0"}
        row = ledger.get(store, "post:c:m:0")
        assert (row["state"], row["attempts"], row["run_id"]) == ("intent", 1, ctx.run_id)


def test_a_429_withdraws_the_intent_slack_did_not_act(tmp_path):
    def limited():
        raise SlackRateLimited("chat.postMessage", 3.0)

    with Store.open(tmp_path) as store:
        ctx = _context(store)
        with pytest.raises(SlackRateLimited):
            ctx.recorded("post:c:m:0", "post", limited, teams_id="m")
        row = ledger.get(store, "post:c:m:0")
        assert row["state"] == "failed" and "rate limited" in row["reason"]
        ledger.recover_interrupted(store)            # the next run's start: nothing to look up
        assert ledger.get(store, "post:c:m:0")["state"] == "failed"


def test_a_call_that_dies_unanswered_keeps_its_intent(tmp_path):
    def reset():
        raise ConnectionResetError("peer went away")

    with Store.open(tmp_path) as store:
        ctx = _context(store)
        with pytest.raises(ConnectionResetError):
            ctx.recorded("post:c:m:0", "post", reset, teams_id="m")
        assert ledger.get(store, "post:c:m:0")["state"] == "intent"   # in doubt next run
