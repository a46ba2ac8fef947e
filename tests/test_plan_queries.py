"""The plan's look-ups stay linear: every statement the plan runs once per channel, chat,
thread or person reaches its rows through an index on that item, never by reading a table of
the tenant's size. (Twice SQLite chose otherwise — a channel's replies walked by date, a chat's
message count through the team_id index — and a plan that takes minutes at 1M messages took
hours at 10M; no functional test notices.)"""

from __future__ import annotations

import random
import re
from collections import Counter

from migrate.config import load_settings
from migrate.plan.build import build_plan
from migrate.store import Store, teams_objects

from .benchmarks.plan_bench import build_store
from .test_plan_chats import _directory, _tenant

# Tables that grow with the tenant: a statement run per item must not scan them.
BIG = ("teams_messages", "teams_files", "teams_users", "teams_team_members",
       "teams_channel_members", "teams_chat_members", "teams_chats", "slack_users", "ledger",
       "bundle_items")


def _reply(m: int) -> dict:
    """A reply to the m-th message of the first channel (plan_bench's ids and shape)."""
    stamp = f"2022-01-01T00:00:0{m}Z"
    return {"id": f"r{m}", "replyToId": f"00{m}", "messageType": "message",
            "createdDateTime": stamp, "lastModifiedDateTime": stamp,
            "from": {"user": {"id": "u-0000001", "displayName": "Person 1"}},
            "body": {"contentType": "html", "content": f"<p>reply {m}</p>"},
            "channelIdentity": {"teamId": "team-000000", "channelId": "19:000000000@thread.tacv2"},
            "attachments": [], "mentions": [], "reactions": []}


def test_statements_run_per_item_use_an_index_on_the_item(tmp_path):
    build_store(tmp_path, users=60, channels=12, per_team=4, messages_per_channel=15)
    statements: list[str] = []
    with Store.open(tmp_path) as store:
        _tenant(store, random.Random(3), people=30, chats=25)
        teams_objects.upsert_messages(store, "team-000000", [_reply(m) for m in range(8)])
        directory, _ = _directory(random.Random(3), 30)
        store.conn.set_trace_callback(statements.append)
        settings = load_settings(environ={"MIGRATE_WORKDIR": str(tmp_path),
                                          "MIGRATE_CHATS_TO_CHANNELS": "all"})
        plan = build_plan(store, settings, directory)
        store.conn.set_trace_callback(None)
        assert len(plan.posts) > 100 and len(plan.chats) == 25
        assert sum(1 for p in plan.posts if p.message_id.startswith("r")) == 8   # the replies

        # A statement's shape: its text with the values taken out.
        def shape(sql: str) -> str:
            return re.sub(r"'(?:[^']|'')*'|\b\d+\b", "?", sql)

        runs = Counter(shape(s) for s in statements if s.lstrip().upper().startswith("SELECT"))
        per_item = {s for s in statements if runs[shape(s)] >= 5 and shape(s) in runs}
        assert per_item, "the plan ran no per-item statement: the trace caught nothing"
        checked: set[str] = set()
        for sql in sorted(per_item, key=shape):
            if shape(sql) in checked:
                continue
            checked.add(shape(sql))
            steps = [row[3] for row in store.conn.execute("EXPLAIN QUERY PLAN " + sql)]
            for step in steps:
                for table in BIG:
                    assert not re.match(rf"SCAN {table}\b", step), (sql, steps)
                assert "teams_messages_modified" not in step, (sql, steps)  # a team's, not one item's
            if re.search(r"\bthread_id = '", sql):   # one thread's: by its key range, not its channel's
                assert any("thread_id=?" in step for step in steps), (sql, steps)
