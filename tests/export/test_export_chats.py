"""Chats through the Graph emulator: every message once although Graph returns it once per
member, members who left, incremental reads, a missing permission, SIGKILL and resume."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from migrate.sandbox.graph_emulator import GraphEmulator
from migrate.sandbox.synthetic import synthetic_tenant

from ..conftest import ROOT
from .test_export import env_for, export

GRANTED = {"User.Read.All", "GroupMember.Read.All", "Team.ReadBasic.All", "TeamMember.Read.All",
           "Channel.ReadBasic.All", "ChannelMember.Read.All", "ChannelMessage.Read.All",
           "Files.ReadWrite.All"}


def chat_messages(tenant) -> set[tuple[str, str]]:
    return {(c.chat["id"], m["id"]) for c in tenant.chats for m in c.messages}


def stored_chat_messages(workdir) -> list[tuple[str, str]]:
    conn = sqlite3.connect(workdir / "state.db")
    rows = conn.execute("SELECT channel_id, id FROM teams_messages WHERE team_id = ''").fetchall()
    conn.close()
    return rows


@pytest.fixture
def tenant():
    return synthetic_tenant(teams=2, channels=3, messages=60, users=14, chats=9,
                            chat_messages=240, seed=11)


def test_each_chat_message_is_stored_once_though_graph_returns_it_per_member(tenant, tmp_path):
    with GraphEmulator(tenant, rate_scale=200) as emu:
        summary = export(emu, tmp_path)
        served = emu.counters()["byRoute"]["chatsGetAllMessages"]
    stored = stored_chat_messages(tmp_path)
    assert sorted(stored) == sorted(chat_messages(tenant))            # all, and each once
    per_member = sum(len(c.messages) * len(c.members) for c in tenant.chats)
    assert per_member > len(stored)                                   # Graph repeated them
    assert served >= len(tenant.users)                                # every member's stream
    assert summary.found["chats"] == len(tenant.chats)
    assert summary.found["chat_messages"] == len(stored)
    assert summary.chat_readers == len(tenant.users) and summary.chats_read == len(tenant.chats)
    conn = sqlite3.connect(tmp_path / "state.db")
    types = dict(conn.execute("SELECT chat_type, COUNT(*) FROM teams_chats GROUP BY 1").fetchall())
    members = conn.execute("SELECT COUNT(*) FROM teams_chat_members").fetchone()[0]
    conn.close()
    assert types == {"oneOnOne": 3, "group": 3, "meeting": 3}
    assert members == sum(len(c.members) for c in tenant.chats)


def test_a_member_who_left_keeps_their_messages_and_loses_the_membership(tenant, tmp_path):
    chat = next(c for c in tenant.chats if c.chat["chatType"] == "group")
    leaver = chat.members[0]["userId"]
    written = [m["id"] for m in chat.messages if m["from"]["user"]["id"] == leaver]
    with GraphEmulator(tenant, rate_scale=200) as emu:
        emu.remove_chat_member(chat.chat["id"], leaver)   # posts the system event, as Teams does
        export(emu, tmp_path)
    conn = sqlite3.connect(tmp_path / "state.db")
    stored = {i for (i,) in conn.execute("SELECT id FROM teams_messages WHERE channel_id = ?",
                                         (chat.chat["id"],))}
    members = {u for (u,) in conn.execute("SELECT user_id FROM teams_chat_members WHERE chat_id = ?",
                                          (chat.chat["id"],))}
    events = conn.execute("SELECT COUNT(*) FROM teams_messages WHERE channel_id = ? AND "
                          "message_type = 'systemEventMessage'", (chat.chat["id"],)).fetchone()[0]
    conn.close()
    assert written and set(written) <= stored
    assert leaver not in members and len(members) == len(chat.members) - 1
    assert events == 1


def test_a_later_export_reads_only_what_changed_in_chats(tenant, tmp_path):
    chat = tenant.chats[1]
    with GraphEmulator(tenant, rate_scale=200) as emu:
        export(emu, tmp_path)
        emu.add_chat_message(chat.chat["id"], {
            "from": {"user": {"id": chat.members[1]["userId"], "displayName": "x",
                              "userIdentityType": "aadUser"}},
            "body": {"contentType": "html", "content": "<p>new one</p>"}})
        emu.edit_chat_message(chat.chat["id"], chat.messages[0]["id"],
                              {"body": {"contentType": "html", "content": "<p>edited</p>"}})
        second = export(emu, tmp_path)
    assert second.incremental
    assert second.messages_new == 1 and second.messages_updated == 1
    assert second.chats_read == 1                       # only the chat with activity
    assert len(stored_chat_messages(tmp_path)) == len(chat_messages(tenant)) + 1


def test_without_chat_read_all_chats_are_a_warning_and_channels_still_export(tenant, tmp_path):
    with GraphEmulator(tenant, rate_scale=200, permissions=GRANTED) as emu:
        summary = export(emu, tmp_path)
    assert summary.warnings.get("chats_not_read") == 1
    assert stored_chat_messages(tmp_path) == []
    assert summary.found["messages"] == 60


def test_chats_can_be_left_out(tenant, tmp_path):
    with GraphEmulator(tenant, rate_scale=200, permissions=GRANTED) as emu:
        summary = export(emu, tmp_path, MIGRATE_CHATS="false")
        assert "chatsGetAllMessages" not in emu.counters()["byRoute"]
    assert summary.warnings == {} and summary.chat_readers == 0


def test_killed_chat_export_resumes_without_gaps_or_duplicates(tmp_path):
    tenant = synthetic_tenant(teams=1, channels=1, messages=5, users=4, chats=4,
                              chat_messages=3000, seed=5)
    expected = chat_messages(tenant)
    with GraphEmulator(tenant, rate_scale=2) as emu:
        env = {**env_for(emu, tmp_path), "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen([sys.executable, "-m", "migrate", "export"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 90
        stored = 0
        while stored < 700 and time.monotonic() < deadline:
            time.sleep(0.1)
            try:
                conn = sqlite3.connect(f"file:{tmp_path / 'state.db'}?mode=ro", uri=True)
                stored = conn.execute("SELECT COUNT(*) FROM teams_messages WHERE team_id = ''"
                                      ).fetchone()[0]
                conn.close()
            except sqlite3.OperationalError:
                pass
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert 700 <= stored < len(expected), "the export should be killed part-way"
        emu.reset_counters()
        resumed = subprocess.run([sys.executable, "-m", "migrate", "--json", "export"], env=env,
                                 capture_output=True, text=True, timeout=180)
        assert resumed.returncode == 0, resumed.stderr
        pages_after = emu.counters()["byRoute"]["chatsGetAllMessages"]
    rows = stored_chat_messages(tmp_path)
    assert sorted(rows) == sorted(expected)
    full = sum(len(c.messages) * len(c.members) for c in tenant.chats) / 50
    assert pages_after < full        # it went on from each person's checkpoint


def test_a_service_without_the_chat_stream_filter_still_gives_every_chat_message(tenant,
                                                                                tmp_path):
    # getAllMessages' lastModifiedDateTime filter refused: channels are read channel by
    # channel, each person's chat stream is read whole — every message, each once.
    with GraphEmulator(tenant, rate_scale=200, all_messages_filter=False) as emu:
        summary = export(emu, tmp_path)
    assert sorted(stored_chat_messages(tmp_path)) == sorted(chat_messages(tenant))
    assert summary.unread == 0 and summary.chats_read == len(tenant.chats)
    assert summary.warnings.get("all_messages_refused") == len(tenant.teams)
