"""`migrate export` of the demo tenant, run as a user runs it, checked count by count against
the tenant files (and the generator's own known answers in expected.json)."""

from __future__ import annotations

import json
import sqlite3

import pytest

from migrate.sandbox.graph_emulator import GraphEmulator
from migrate.sandbox.tenant import SANDBOX_GRAPH_TOKEN, default_demo_folder, load_graph_tenant

from ..conftest import run_migrate


@pytest.fixture(scope="module")
def demo():
    return load_graph_tenant(default_demo_folder())


@pytest.fixture(scope="module")
def exported(demo, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("demo-export")
    with GraphEmulator(demo, rate_scale=50) as emu:
        env = {"MIGRATE_GRAPH_URL": emu.url, "MIGRATE_GRAPH_TOKEN": SANDBOX_GRAPH_TOKEN,
               "MIGRATE_GRAPH_RATE_SCALE": "50", "MIGRATE_WORKDIR": str(workdir)}
        result = run_migrate("--json", "export", env=env)
        assert result.returncode == 0, result.stderr
        again = run_migrate("--json", "export", env=env)
        assert again.returncode == 0, again.stderr
    conn = sqlite3.connect(workdir / "state.db")
    yield json.loads(result.stdout), json.loads(again.stdout), conn, workdir
    conn.close()


def test_every_object_of_the_tenant_is_stored(demo, exported):
    summary, _, conn, _ = exported
    expected = json.loads((default_demo_folder() / "expected.json").read_text())["counts"]
    assert conn.execute("SELECT COUNT(*) FROM teams_users").fetchone()[0] == len(demo.users) == expected["users"]
    assert conn.execute("SELECT COUNT(*) FROM teams_teams").fetchone()[0] == expected["teams"]
    assert conn.execute("SELECT COUNT(*) FROM teams_teams WHERE is_archived = 1").fetchone()[0] == 1
    assert conn.execute("SELECT COUNT(*) FROM teams_channels").fetchone()[0] == expected["channels"]["total"]
    by_type = dict(conn.execute("SELECT membership_type, COUNT(*) FROM teams_channels GROUP BY 1").fetchall())
    assert by_type == {k: expected["channels"][k] for k in ("standard", "private", "shared")}
    assert conn.execute("SELECT COUNT(*) FROM teams_team_members").fetchone()[0] == expected["teamMembers"]
    private = sum(len(c.members) for t in demo.teams for c in t.channels
                  if c.channel["membershipType"] != "standard")
    assert conn.execute("SELECT COUNT(*) FROM teams_channel_members").fetchone()[0] == private
    stored = set(conn.execute("SELECT channel_id, id FROM teams_messages WHERE team_id != ''").fetchall())
    assert stored == {(c.channel["id"], m["id"]) for t in demo.teams for c in t.channels for m in c.messages}
    chats = json.loads((default_demo_folder() / "expected.json").read_text())["chats"]
    stored_chats = conn.execute("SELECT channel_id, id FROM teams_messages WHERE team_id = ''").fetchall()
    assert len(stored_chats) == len(set(stored_chats)) == chats["uniqueMessages"]
    assert set(stored_chats) == {(c.chat["id"], m["id"]) for c in demo.chats for m in c.messages}
    assert summary["messages_new"] == expected["messages"]["total"] + chats["uniqueMessages"]
    by_type = dict(conn.execute("SELECT chat_type, COUNT(*) FROM teams_chats GROUP BY 1").fetchall())
    assert by_type == chats["byChatType"]
    for chat in chats["perChat"]:
        members = sorted(u for (u,) in conn.execute(
            "SELECT user_id FROM teams_chat_members WHERE chat_id = ?", (chat["id"],)))
        assert members == chat["members"], chat["id"]


def test_messages_keep_their_raw_json_and_deletions_are_flagged(demo, exported):
    _, _, conn, _ = exported
    expected = json.loads((default_demo_folder() / "expected.json").read_text())["counts"]["messages"]
    raw = {(c, i): json.loads(r) for c, i, r in conn.execute("SELECT channel_id, id, raw FROM teams_messages")}
    chats = json.loads((default_demo_folder() / "expected.json").read_text())["chats"]["byKind"]
    for team in demo.teams:
        for channel in team.channels:
            for message in channel.messages:
                got = raw[(channel.channel["id"], message["id"])]
                assert got["body"] == message["body"] and got.get("reactions") == message.get("reactions")
    assert conn.execute("SELECT COUNT(*) FROM teams_messages WHERE deleted = 1 AND team_id != ''"
                        ).fetchone()[0] == expected["deleted"]["total"]
    assert conn.execute("SELECT COUNT(*) FROM teams_messages WHERE deleted = 1 AND team_id = ''"
                        ).fetchone()[0] == chats["deleted"]["total"]
    # System events come back as such because the export asks for evolvable enum members.
    assert conn.execute("SELECT COUNT(*) FROM teams_messages WHERE message_type = 'systemEventMessage'"
                        " AND team_id != ''").fetchone()[0] == expected["systemEvents"]
    assert conn.execute("SELECT COUNT(*) FROM teams_messages WHERE message_type = 'systemEventMessage'"
                        " AND team_id = ''").fetchone()[0] == chats["systemEvents"]


def test_files_are_downloaded_and_the_missing_one_is_a_warning(demo, exported):
    summary, _, conn, workdir = exported
    files = json.loads((default_demo_folder() / "expected.json").read_text())
    statuses = dict(conn.execute("SELECT status, COUNT(*) FROM teams_files GROUP BY 1").fetchall())
    missing_refs = sum(1 for t in demo.teams for c in t.channels for m in c.messages
                       for a in m.get("attachments") or []
                       if a.get("contentType") == "reference" and a["contentUrl"] in files["files"]["missing"])
    missing_refs += len(files["chats"]["missingFiles"])       # one in a 1:1 chat
    assert statuses.get("missing") == missing_refs >= 1
    assert summary["warnings"] == {"file_missing": missing_refs}
    large = files["files"]["large"]
    sizes = {row[0] for row in conn.execute("SELECT size FROM teams_files WHERE status = 'downloaded'")}
    assert large["size"] in sizes
    for sha, size in conn.execute("SELECT sha256, size FROM teams_files WHERE status = 'downloaded'"):
        assert (workdir / "files" / sha[:2] / sha).stat().st_size == size


def test_second_export_is_incremental_and_changes_nothing(exported):
    _, again, _, _ = exported
    assert again["incremental"] is True
    assert again["messages_new"] == 0 and again["messages_updated"] == 0
    assert again["files"] == {}
