"""The state store: schema migrations, file mode, raw objects, ledger and warnings."""

from __future__ import annotations

import json
import os
import sqlite3
import stat

import pytest

from migrate.errors import StoreError
from migrate.store import Store, ledger
from migrate.store import teams_objects as teams
from migrate.store.schema import SCHEMA_VERSION


def message(mid: str, modified: str, content: str = "hi", reply_to: str | None = None,
            deleted: str | None = None, **extra) -> dict:
    return {"id": mid, "replyToId": reply_to, "messageType": "message",
            "createdDateTime": "2024-01-01T00:00:00Z", "lastModifiedDateTime": modified,
            "deletedDateTime": deleted, "body": {"contentType": "html", "content": content},
            "channelIdentity": {"teamId": "T", "channelId": "C"},
            "from": {"user": {"id": "u1"}}, **extra}


def test_new_store_is_wal_private_and_at_current_version(tmp_path):
    store = Store.open(tmp_path / "w")
    assert store.schema_version == SCHEMA_VERSION
    assert store.scalar("PRAGMA journal_mode") == "wal"
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    store.close()
    # Reopening applies nothing and keeps the data.
    again = Store.open(tmp_path / "w")
    assert again.migrate() == []
    again.close()


def test_store_written_by_newer_migrate_is_refused(tmp_path):
    Store.open(tmp_path).close()
    conn = sqlite3.connect(tmp_path / "state.db")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.close()
    with pytest.raises(StoreError, match="newer migrate"):
        Store.open(tmp_path)


def test_migrations_are_transactional(tmp_path, monkeypatch):
    from migrate.store import schema

    Store.open(tmp_path).close()   # an existing state, upgraded by a newer migrate
    broken = [*schema.MIGRATIONS, ("broken", "CREATE TABLE extra (x);\nCREATE TABLE runs (y);")]
    monkeypatch.setattr("migrate.store.db.MIGRATIONS", broken)
    monkeypatch.setattr("migrate.store.db.SCHEMA_VERSION", len(broken))
    with pytest.raises(StoreError, match=f"migration {len(schema.MIGRATIONS) + 1} \\(broken\\) failed"):
        Store.open(tmp_path)
    conn = sqlite3.connect(tmp_path / "state.db")
    # The earlier migrations landed, the failed one left nothing behind.
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(schema.MIGRATIONS)
    assert not conn.execute("SELECT name FROM sqlite_master WHERE name = 'extra'").fetchall()


def test_unwritable_workdir_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot create the working directory"):
        Store.open(blocker / "sub")


def test_messages_keep_newest_version_and_detect_deletions(tmp_path):
    store = Store.open(tmp_path)
    assert teams.upsert_messages(store, "T", [message("1", "2024-01-01T00:00:00Z"),
                                              message("2", "2024-01-01T00:00:00Z", reply_to="1")]) == (2, 0)
    # Re-reading the same window changes nothing; an older copy never wins.
    assert teams.upsert_messages(store, "T", [message("1", "2024-01-01T00:00:00Z")]) == (0, 0)
    assert teams.upsert_messages(store, "T", [message("1", "2023-01-01T00:00:00Z", "old")]) == (0, 0)
    # An edit replaces it; an emptied body is a deletion even without deletedDateTime.
    assert teams.upsert_messages(store, "T", [message("1", "2024-02-01T00:00:00Z", "edited")]) == (0, 1)
    assert teams.upsert_messages(store, "T", [message("2", "2024-03-01T00:00:00Z", "", reply_to="1")]) == (0, 1)
    rows = {r["id"]: r for r in store.query("SELECT * FROM teams_messages")}
    assert json.loads(rows["1"]["raw"])["body"]["content"] == "edited"
    assert rows["1"]["version"] == 2 and rows["1"]["deleted"] == 0
    assert rows["2"]["deleted"] == 1 and rows["2"]["thread_id"] == "1"


def test_system_events_and_attachment_only_messages_are_not_deletions():
    event = message("3", "2024-01-01T00:00:00Z", "<systemEventMessage/>")
    event["messageType"] = "systemEventMessage"
    assert not teams.is_deleted_message(event)
    files_only = message("4", "2024-01-01T00:00:00Z", "", attachments=[{"id": "a"}])
    assert not teams.is_deleted_message(files_only)
    assert teams.is_deleted_message(message("5", "x", "gone", deleted="2024-01-02T00:00:00Z"))


def test_users_teams_channels_members_round_trip(tmp_path):
    store = Store.open(tmp_path)
    teams.upsert_users(store, [{"id": "u1", "displayName": "Ann", "mail": None,
                                "userPrincipalName": "ann@x", "accountEnabled": False}])
    teams.upsert_team(store, {"id": "T", "displayName": "R&D", "isArchived": True})
    teams.upsert_channel(store, "T", {"id": "C", "displayName": "General", "membershipType": "standard"})
    teams.replace_team_members(store, "T", [{"id": "m1", "userId": "u1", "roles": ["owner"]}])
    teams.replace_team_members(store, "T", [{"id": "m2", "userId": "u2", "roles": []}])
    teams.replace_channel_members(store, "C", [{"id": "m3", "userId": "u1", "roles": []}])
    assert store.query("SELECT account_enabled, mail FROM teams_users")[0][:] == (0, None)
    assert store.scalar("SELECT is_archived FROM teams_teams") == 1
    assert [r["user_id"] for r in store.query("SELECT user_id FROM teams_team_members")] == ["u2"]
    assert teams.count(store, "teams_channel_members") == 1
    with pytest.raises(ValueError):
        teams.count(store, "ledger; DROP TABLE runs")


def test_ledger_lifecycle_and_interrupted_intents(tmp_path):
    store = Store.open(tmp_path)
    run = store.start_run("run")
    ledger.intent(store, "post:C1:m1:0", "post", teams_id="m1", slack_channel="C1", run_id=run)
    ledger.done(store, "post:C1:m1:0", slack_ts="1700000000.000100")
    ledger.intent(store, "post:C1:m2:0", "post", teams_id="m2", slack_channel="C1", run_id=run)
    ledger.skipped(store, "file:C1:f1", "file", "file over the size cap (300 MB)", teams_id="f1")
    ledger.intent(store, "post:C1:m3:0", "post", run_id=run)
    ledger.failed(store, "post:C1:m3:0", "Slack answered 500")
    # A crash now leaves m2 as an intent: the next start makes it in doubt.
    assert ledger.recover_interrupted(store) == 1
    row = ledger.get(store, "post:C1:m2:0")
    assert row["state"] == "in_doubt" and row["attempts"] == 1 and row["slack_channel"] == "C1"
    ledger.intent(store, "post:C1:m2:0", "post")
    assert ledger.get(store, "post:C1:m2:0")["attempts"] == 2
    assert ledger.counts(store) == {"file": {"skipped": 1}, "post": {"done": 1, "failed": 1, "intent": 1}}
    assert ledger.reasons(store, "skipped") == {"file over the size cap (300 MB)": 1}
    assert ledger.get(store, "post:C1:m1:0")["slack_ts"] == "1700000000.000100"
    with pytest.raises(sqlite3.IntegrityError):
        store.execute("UPDATE ledger SET state = 'posted'")


def test_runs_warnings_checkpoints(tmp_path):
    store = Store.open(tmp_path)
    run = store.start_run("export")
    store.add_warning("export", "file_too_large", "deck.pptx is 2 GB", subject="att-1", run_id=run)
    store.add_warning("export", "file_too_large", "video.mp4 is 3 GB", run_id=run)
    store.add_warning("plan", "unmapped_user", "Ann has no Slack account")
    assert store.warning_counts("export") == {"file_too_large": 2}
    assert store.warning_counts() == {"file_too_large": 2, "unmapped_user": 1}
    store.save_checkpoint("team:T", next_link="https://g/next?$skiptoken=a", watermark=None,
                          status="in_progress", run_id=run)
    store.save_checkpoint("team:T", next_link=None, watermark="2024-01-01T00:00:00Z", status="complete")
    cp = store.checkpoint("team:T")
    assert cp["status"] == "complete" and cp["next_link"] is None and cp["watermark"].startswith("2024")
    assert store.checkpoint("team:absent") is None
    store.finish_run(run, "ok", 0, {"messages": 5})
    last = store.last_runs(1)[0]
    assert last["status"] == "ok" and json.loads(last["summary"]) == {"messages": 5}


def test_nested_transactions_roll_back_together(tmp_path):
    store = Store.open(tmp_path)
    with pytest.raises(RuntimeError), store.transaction():
        store.add_warning("plan", "x", "inner")  # joins the outer transaction
        raise RuntimeError("boom")
    assert store.warning_counts() == {}


def test_newer_copy_wins_even_when_graph_trims_fractional_seconds(tmp_path):
    # Graph writes `.5Z`, `.08Z` or no fraction at all; as text ".5Z" < "Z" would lose.
    store = Store.open(tmp_path)
    teams.upsert_messages(store, "T", [message("1", "2024-01-01T21:11:12Z", "first")])
    assert teams.upsert_messages(store, "T", [message("1", "2024-01-01T21:11:12.5Z", "second")]) == (0, 1)
    assert teams.upsert_messages(store, "T", [message("1", "2024-01-01T21:11:12.08Z", "older")]) == (0, 0)


def test_an_empty_or_foreign_state_file_is_refused_not_treated_as_new(tmp_path):
    # A 0-byte state.db (a truncated copy, a failed cache restore) would otherwise start the
    # migration afresh and post everything twice.
    (tmp_path / "state.db").write_bytes(b"")
    with pytest.raises(StoreError, match="empty \\(0 bytes\\)"):
        Store.open(tmp_path)
    (tmp_path / "state.db").write_text("not a database at all\n" * 100)
    with pytest.raises(StoreError, match="not a usable state database"):
        Store.open(tmp_path)
    (tmp_path / "state.db").unlink()
    other = sqlite3.connect(tmp_path / "state.db")
    other.execute("CREATE TABLE something_else (x)")
    other.commit()
    other.close()
    with pytest.raises(StoreError, match="not a migrate state database"):
        Store.open(tmp_path)


def test_a_new_state_is_never_left_half_made(tmp_path, monkeypatch):
    from migrate.store import schema

    broken = [*schema.MIGRATIONS, ("broken", "CREATE TABLE runs (y);")]
    monkeypatch.setattr("migrate.store.db.MIGRATIONS", broken)
    monkeypatch.setattr("migrate.store.db.SCHEMA_VERSION", len(broken))
    with pytest.raises(StoreError, match="failed"):
        Store.open(tmp_path)
    assert not (tmp_path / "state.db").exists()        # nothing a later run would refuse
    monkeypatch.undo()
    Store.open(tmp_path).close()                        # and the next attempt starts cleanly
    assert (tmp_path / "state.db").stat().st_mode & 0o777 == 0o600
