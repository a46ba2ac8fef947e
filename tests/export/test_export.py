"""Export against the Graph emulator: complete, exact, resumable after SIGKILL, incremental."""

from __future__ import annotations

import json
import logging
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
import requests

from migrate.config import load_settings
from migrate.errors import PermissionMissing
from migrate.export.auth import StaticTokenAuth
from migrate.export.client import GraphClient
from migrate.export.errors import GraphNotFound, GraphRequestError, GraphUnavailable
from migrate.export.exporter import TeamsExporter
from migrate.sandbox.faults import FaultPlan
from migrate.sandbox.graph_emulator import GraphEmulator
from migrate.sandbox.synthetic import synthetic_tenant
from migrate.sandbox.tenant import SANDBOX_GRAPH_TOKEN, DriveItem
from migrate.store.runtime import writer_run

from ..conftest import ROOT


def env_for(emu: GraphEmulator, workdir, **extra) -> dict[str, str]:
    return {"MIGRATE_GRAPH_URL": emu.url, "MIGRATE_GRAPH_TOKEN": SANDBOX_GRAPH_TOKEN,
            "MIGRATE_GRAPH_RATE_SCALE": str(emu.rate_scale), "MIGRATE_WORKDIR": str(workdir), **extra}


def export(emu: GraphEmulator, workdir, **extra):
    settings = load_settings(None, environ=env_for(emu, workdir, **extra))
    client = GraphClient(settings.graph, StaticTokenAuth(SANDBOX_GRAPH_TOKEN))
    with writer_run(settings, "export") as ctx:
        return TeamsExporter(client, ctx.store, settings, run_id=ctx.run_id, workers=8).run()


def stored_messages(workdir) -> dict[tuple[str, str], dict]:
    conn = sqlite3.connect(workdir / "state.db")
    rows = conn.execute("SELECT channel_id, id, raw, deleted FROM teams_messages").fetchall()
    conn.close()
    return {(c, i): {**json.loads(raw), "_deleted": d} for c, i, raw, d in rows}


def tenant_messages(tenant) -> set[tuple[str, str]]:
    return {(c.channel["id"], m["id"]) for t in tenant.teams for c in t.channels for m in c.messages}


@pytest.fixture
def tenant():
    t = synthetic_tenant(teams=3, channels=7, messages=400, users=30, image_every=25, seed=7)
    first = t.teams[0].channels[0].messages[0]
    url = "https://example.sharepoint.com/sites/t/Shared%20Documents/plan.pdf"
    first["attachments"] = [{"id": "att-1", "contentType": "reference", "contentUrl": url,
                             "name": "plan.pdf", "content": None, "thumbnailUrl": None, "teamsAppId": None}]
    first["body"]["content"] += '<attachment id="att-1"></attachment>'
    t.drive_items.append(DriveItem("d", "i", "plan.pdf", url, "application/pdf", b"%PDF-1.4\n" + b"0" * 2000))
    gone = t.teams[1].channels[0].messages[0]
    gone["attachments"] = [{"id": "att-2", "contentType": "reference", "name": "gone.docx",
                            "contentUrl": "https://example.sharepoint.com/sites/t/gone.docx",
                            "content": None, "thumbnailUrl": None, "teamsAppId": None}]
    return t


def test_full_export_stores_the_tenant_exactly(tenant, tmp_path):
    with GraphEmulator(tenant, rate_scale=100) as emu:
        summary = export(emu, tmp_path)
    stored = stored_messages(tmp_path)
    assert set(stored) == tenant_messages(tenant)
    assert summary.messages_new == len(stored) and summary.messages_updated == 0
    assert summary.users == 30 and summary.teams == 3 and summary.channels == 7
    assert summary.files == {"downloaded": len(tenant.hosted_contents) + 1, "missing": 1}
    assert summary.warnings == {"file_missing": 1}
    conn = sqlite3.connect(tmp_path / "state.db")
    assert conn.execute("SELECT COUNT(*) FROM teams_users").fetchone()[0] == 30
    assert conn.execute("SELECT COUNT(DISTINCT team_id) FROM teams_team_members").fetchone()[0] == 3
    pdf = conn.execute("SELECT sha256, size, status FROM teams_files WHERE name = 'plan.pdf'").fetchone()
    assert pdf[1] == 2009 and pdf[2] == "downloaded"
    assert (tmp_path / "files" / pdf[0][:2] / pdf[0]).read_bytes().startswith(b"%PDF")
    # raw JSON is stored as read
    message = tenant.teams[2].channels[0].messages[3]
    assert stored[(message["channelIdentity"]["channelId"], message["id"])]["body"] == message["body"]


def test_incremental_export_reads_only_the_changes(tenant, tmp_path):
    with GraphEmulator(tenant, rate_scale=100) as emu:
        export(emu, tmp_path)
        team, channel = tenant.teams[0].team["id"], tenant.teams[0].channels[0].channel["id"]
        root = tenant.teams[0].channels[0].messages[0]["id"]
        others = [m for m in tenant.teams[0].channels[0].messages if not m.get("replyToId")][1:3]
        # People keep using Teams: changes made through the emulator's HTTP control API.
        control = f"{emu.origin}/_control/messages"
        new_root = requests.post(control, json={"teamId": team, "channelId": channel, "message": {
            "body": {"contentType": "html", "content": "<p>new</p>"}}}, timeout=10).json()
        new_reply = requests.post(control, json={"teamId": team, "channelId": channel, "message": {
            "replyToId": root, "body": {"contentType": "html", "content": "late reply"}}}, timeout=10).json()
        requests.patch(f"{control}/{team}/{channel}/{others[0]['id']}",
                       json={"body": {"contentType": "html", "content": "edited"}}, timeout=10).raise_for_status()
        requests.delete(f"{control}/{team}/{channel}/{others[1]['id']}", timeout=10).raise_for_status()
        # The emulator gives each change its own millisecond, so four quick changes can stamp
        # a moment the wall clock has not reached yet; the export window ends at "now".
        time.sleep(0.05)
        emu.reset_counters()
        summary = export(emu, tmp_path)
        reads = emu.counters()["byRoute"].get("getAllMessages", 0)
    assert summary.incremental
    assert (summary.messages_new, summary.messages_updated) == (2, 2)
    assert reads == 3  # one page per team: only the window since the last export
    stored = stored_messages(tmp_path)
    assert stored[(channel, others[0]["id"])]["body"]["content"] == "edited"
    assert stored[(channel, others[1]["id"])]["_deleted"] == 1
    assert stored[(channel, new_reply["id"])]["replyToId"] == root
    assert (channel, new_root["id"]) in stored


def test_per_channel_method_gives_the_same_store(tenant, tmp_path):
    with GraphEmulator(tenant, rate_scale=200) as emu:
        summary = export(emu, tmp_path, MIGRATE_EXPORT_METHOD="per-channel")
    assert summary.method == "per-channel"
    assert set(stored_messages(tmp_path)) == tenant_messages(tenant)


def test_scope_settings_limit_the_teams(tenant, tmp_path):
    with GraphEmulator(tenant, rate_scale=200) as emu:
        summary = export(emu, tmp_path, MIGRATE_INCLUDE_TEAMS="team 00*",
                         MIGRATE_EXCLUDE_TEAMS=tenant.teams[1].team["id"])
    assert summary.teams == 2 and summary.teams_out_of_scope == 1
    teams = {m["channelIdentity"]["teamId"] for m in stored_messages(tmp_path).values()}
    assert teams == {tenant.teams[0].team["id"], tenant.teams[2].team["id"]}


def test_size_cap_skips_big_files_with_a_warning(tenant, tmp_path):
    with GraphEmulator(tenant, rate_scale=200) as emu:
        summary = export(emu, tmp_path, MIGRATE_MAX_FILE_MB="0.001")  # ~1 KB: only the PDF is over
    assert summary.files["too_large"] == 1
    assert summary.warnings["file_too_large"] == 1


def test_a_download_that_keeps_failing_stays_pending_and_a_refused_one_is_gone(
        tenant, tmp_path, monkeypatch):
    # One file's download failing past every retry is no failed export: it stays pending (the
    # run exits 1) and the next export fetches it; a download Graph refuses (400) counts as gone.
    download = GraphClient.download
    flaky = {"on": True}

    def failing(self, url, *args, **kwargs):
        if flaky["on"] and "/shares/" in url:             # the PDF (a reference attachment)
            raise GraphUnavailable("Graph kept failing")
        if flaky["on"] and "hostedContents" in url:       # inline images
            raise GraphRequestError("Graph answered 400 BadRequest")
        return download(self, url, *args, **kwargs)

    monkeypatch.setattr(GraphClient, "download", failing)
    with GraphEmulator(tenant, rate_scale=200) as emu:
        first = export(emu, tmp_path)
        assert first.files.get("pending", 0) >= 1 and first.unread_files >= 1
        assert first.files.get("missing", 0) >= 1 and first.warnings.get("file_refused", 0) >= 1
        flaky["on"] = False
        again = export(emu, tmp_path)
    assert again.unread == 0 and again.files.get("downloaded", 0) >= 1
    conn = sqlite3.connect(tmp_path / "state.db")
    pending = conn.execute("SELECT count(*) FROM teams_files WHERE status = 'pending'").fetchone()
    conn.close()
    assert pending == (0,)


def test_files_refused_for_a_missing_permission_come_once_it_is_granted(tenant, tmp_path):
    # Without Files.ReadWrite.All every reference file is refused (403) and skipped with a
    # warning; once the admin grants it, the next export asks for them again and has them.
    granted = {"User.Read.All", "GroupMember.Read.All", "Team.ReadBasic.All",
               "TeamMember.Read.All", "Channel.ReadBasic.All", "ChannelMember.Read.All",
               "ChannelMessage.Read.All", "Files.Read.All", "Chat.Read.All"}
    with GraphEmulator(tenant, rate_scale=200, permissions=granted) as emu:
        first = export(emu, tmp_path)
        assert first.files.get("forbidden", 0) == 2           # plan.pdf and gone.docx
        again = export(emu, tmp_path)                         # still refused: nothing changes
        assert again.files.get("forbidden", 0) == 0 and again.files.get("downloaded", 0) == 0
        emu.permissions = None                                # the admin grants it
        granted_now = export(emu, tmp_path)
    assert granted_now.files == {"downloaded": 1, "missing": 1}
    conn = sqlite3.connect(tmp_path / "state.db")
    statuses = dict(conn.execute("SELECT name, status FROM teams_files WHERE source = 'reference'"))
    conn.close()
    assert statuses == {"plan.pdf": "downloaded", "gone.docx": "missing"}


def test_missing_permission_stops_with_its_name(tenant, tmp_path):
    with GraphEmulator(tenant, rate_scale=200, permissions={"User.Read.All", "GroupMember.Read.All",
                                                            "Team.ReadBasic.All",
                                                            "ChannelMessage.Read.All"}) as emu:
        with pytest.raises(PermissionMissing, match="TeamMember.Read.All"):
            export(emu, tmp_path)


def test_killed_export_resumes_without_gaps_or_duplicates(tmp_path):
    tenant = synthetic_tenant(teams=2, channels=4, messages=4000, users=10, seed=9)
    with GraphEmulator(tenant, rate_scale=2) as emu:  # ~8 pages/s per team: a few seconds in all
        env = {**env_for(emu, tmp_path), "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen([sys.executable, "-m", "migrate", "export"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        stored = 0
        while stored < 1000 and time.monotonic() < deadline:
            time.sleep(0.1)
            try:  # read-only: a watcher must not create the file the export is about to make
                conn = sqlite3.connect(f"file:{tmp_path / 'state.db'}?mode=ro", uri=True)
                stored = conn.execute("SELECT COUNT(*) FROM teams_messages").fetchone()[0]
                conn.close()
            except sqlite3.OperationalError:
                pass
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert 1000 <= stored < 4000, "the export should be killed part-way"
        emu.reset_counters()
        resumed = subprocess.run([sys.executable, "-m", "migrate", "--json", "export"], env=env,
                                 capture_output=True, text=True, timeout=120)
        assert resumed.returncode == 0, resumed.stderr
        pages_after_resume = emu.counters()["byRoute"]["getAllMessages"]
    assert set(stored_messages(tmp_path)) == tenant_messages(tenant)
    assert pages_after_resume < 4000 / 50  # it went on from the checkpoints, not from scratch
    runs = sqlite3.connect(tmp_path / "state.db").execute("SELECT status FROM runs ORDER BY id").fetchall()
    assert [r[0] for r in runs] == ["interrupted", "ok"]


def test_team_that_vanishes_mid_export_is_a_warning(tenant, tmp_path, monkeypatch):
    gone = tenant.teams[1].team
    with GraphEmulator(tenant, rate_scale=200) as emu:
        listed = TeamsExporter.list_teams

        def list_then_delete(self):
            teams = listed(self)
            emu.store.teams_by_id.pop(gone["id"])  # deleted in Teams right after it was listed
            return teams

        monkeypatch.setattr(TeamsExporter, "list_teams", list_then_delete)
        summary = export(emu, tmp_path)
    assert summary.teams == 2
    assert summary.warnings == {"team_vanished": 1}  # once, though its messages and details both 404
    messages = stored_messages(tmp_path)
    assert {m["channelIdentity"]["teamId"] for m in messages.values()} == {
        tenant.teams[0].team["id"], tenant.teams[2].team["id"]}


def test_a_team_whose_group_lacks_the_team_flag_is_exported(tenant, tmp_path):
    # Older teams' groups may lack "Team" in resourceProvisioningOptions, so the groups filter
    # misses them; GET /teams lists every team (reference/graph.md §3.1, §12).
    legacy = tenant.teams[2]
    legacy.group = {"resourceProvisioningOptions": []}
    with GraphEmulator(tenant, rate_scale=100) as emu:
        filtered = requests.get(
            f"{emu.url}/groups?$filter=resourceProvisioningOptions/Any(x:x eq 'Team')",
            headers={"Authorization": f"Bearer {SANDBOX_GRAPH_TOKEN}"}, timeout=10).json()
        assert legacy.team["id"] not in {g["id"] for g in filtered["value"]}  # the quirk
        summary = export(emu, tmp_path)
    assert summary.teams == 3
    assert summary.found == {"teams": 3, "channels": 7, "messages": len(tenant_messages(tenant)),
                             "chats": 0, "chat_messages": 0}
    stored = stored_messages(tmp_path)
    assert {m["channelIdentity"]["teamId"] for m in stored.values()} >= {legacy.team["id"]}
    assert set(stored) == tenant_messages(tenant)


def test_a_team_whose_members_graph_refuses_keeps_its_channels_and_is_read_again(
        tenant, tmp_path, monkeypatch):
    # One failed answer in the team's $batch (its members) is not the whole team: its channels
    # and messages are stored, the team is counted unreadable (the run exits 1), and the next
    # export reads its members.
    team = tenant.teams[0]
    batch_get = GraphClient.batch_get

    def failing_members(self, requests_, *args, **kwargs):
        answers = batch_get(self, requests_, *args, **kwargs)
        return [GraphUnavailable("Graph kept failing")
                if r["url"].startswith(f"/teams/{team.team['id']}/members") else a
                for r, a in zip(requests_, answers, strict=True)]

    with GraphEmulator(tenant, rate_scale=100) as emu:
        with monkeypatch.context() as patch:
            patch.setattr(GraphClient, "batch_get", failing_members)
            first = export(emu, tmp_path)
        assert first.teams_unreadable == 1 and first.unread == 1
        conn = sqlite3.connect(tmp_path / "state.db")
        channels = {r[0] for r in conn.execute("SELECT id FROM teams_channels WHERE team_id = ?",
                                               (team.team["id"],))}
        assert channels == {c.channel["id"] for c in team.channels}
        assert not conn.execute("SELECT 1 FROM teams_team_members WHERE team_id = ?",
                                (team.team["id"],)).fetchone()
        again = export(emu, tmp_path)
        assert again.teams_unreadable == 0
        assert conn.execute("SELECT count(*) FROM teams_team_members WHERE team_id = ?",
                            (team.team["id"],)).fetchone()[0] == len(team.members)
        conn.close()
    assert set(stored_messages(tmp_path)) == tenant_messages(tenant)


@pytest.mark.parametrize("refusal", [GraphRequestError, GraphNotFound])
def test_a_refused_top_on_team_members_reads_the_default_pages(tenant, tmp_path, monkeypatch,
                                                              refusal):
    # Older versions of team-list-members named only $filter and $select: a Graph that refuses
    # `$top` there (400, or 404 for a URL it does not know) still gives every team's members,
    # a page of the default size at a time.
    batch_get = GraphClient.batch_get
    get_json = GraphClient.get_json
    direct: list[str] = []

    def refusing_top(self, requests_, *args, **kwargs):
        answers = batch_get(self, requests_, *args, **kwargs)
        return [refusal("Graph refused $top on a team's members")
                if "/members?$top" in r["url"] else a
                for r, a in zip(requests_, answers, strict=True)]

    def noting(self, url, *args, **kwargs):
        direct.append(url)
        return get_json(self, url, *args, **kwargs)

    monkeypatch.setattr(GraphClient, "batch_get", refusing_top)
    monkeypatch.setattr(GraphClient, "get_json", noting)
    with GraphEmulator(tenant, rate_scale=100) as emu:
        summary = export(emu, tmp_path)
    assert summary.teams_unreadable == 0
    assert {f"/teams/{t.team['id']}/members" for t in tenant.teams} <= set(direct)
    conn = sqlite3.connect(tmp_path / "state.db")
    stored = conn.execute("SELECT count(*) FROM teams_team_members").fetchone()[0]
    conn.close()
    assert stored == sum(len(t.members) for t in tenant.teams)


def test_a_team_graph_will_not_give_is_a_warning_with_its_reason(tenant, tmp_path, monkeypatch):
    # A team whose reads Graph refuses is named in a warning with the reason and stays in the
    # store's inventory, so the plan and verify report it: never a silent absence.
    broken = tenant.teams[0].team["id"]
    batch_get = GraphClient.batch_get

    def refusing(self, requests_, *args, **kwargs):
        if any(broken in r["url"] for r in requests_):
            raise GraphRequestError("Graph answered 400 BadRequest for the team's details")
        return batch_get(self, requests_, *args, **kwargs)

    monkeypatch.setattr(GraphClient, "batch_get", refusing)
    with GraphEmulator(tenant, rate_scale=100) as emu:
        summary = export(emu, tmp_path)
    assert summary.teams_unreadable == 1
    assert summary.warnings.get("team_unreadable", 0) >= 1
    conn = sqlite3.connect(tmp_path / "state.db")
    message = conn.execute("SELECT message FROM warnings WHERE kind = 'team_unreadable'").fetchone()[0]
    assert tenant.teams[0].team["displayName"] in message and "400" in message
    assert conn.execute("SELECT 1 FROM teams_teams WHERE id = ?", (broken,)).fetchone()
    assert summary.found["teams"] == 3


def test_empty_pages_and_items_twice_change_nothing(tmp_path):
    # Graph's paging may answer a page with no items and a nextLink that leads on, and a
    # message may come twice while paging: the store holds each message once, counted once.
    tenant = synthetic_tenant(teams=2, channels=3, messages=600, users=12, seed=21)
    faults = FaultPlan(rates={"empty_page": 0.25, "repeat_item": 0.25})
    with GraphEmulator(tenant, rate_scale=200, faults=faults, seed=4) as emu:
        summary = export(emu, tmp_path)
        injected = emu.counters()["faults"]
    assert injected.get("empty_page", 0) > 3 and injected.get("repeat_item", 0) > 3
    assert set(stored_messages(tmp_path)) == tenant_messages(tenant)
    assert summary.messages_new == len(tenant_messages(tenant)) and not summary.warnings
    conn = sqlite3.connect(tmp_path / "state.db")
    members = conn.execute("SELECT count(*) FROM teams_team_members").fetchone()[0]
    users = conn.execute("SELECT count(*) FROM teams_users").fetchone()[0]
    conn.close()
    assert (members, users) == (sum(len(t.members) for t in tenant.teams), len(tenant.users))


def test_failing_requests_inside_a_batch_are_retried_and_nothing_is_lost(tmp_path):
    # Inside a 200 $batch answer one request may fail alone (5xx, 429): it is asked again, the
    # others' answers are kept, and the export is exactly the tenant.
    tenant = synthetic_tenant(teams=3, channels=2, messages=120, users=12, seed=8)
    faults = FaultPlan(rates={"http_503": 0.3, "http_500": 0.1, "429_no_retry_after": 0.1},
                       only=("$batch item",))
    with GraphEmulator(tenant, rate_scale=300, faults=faults, seed=2) as emu:
        summary = export(emu, tmp_path)
        injected = sum(emu.counters()["faults"].values())
    assert injected >= 3
    assert set(stored_messages(tmp_path)) == tenant_messages(tenant)
    assert summary.teams_unreadable == 0 and summary.users == len(tenant.users)


@pytest.mark.parametrize("next_link", [True, False])
def test_a_thread_of_over_a_thousand_replies_is_read_whole_per_channel(tmp_path, next_link):
    # $expand=replies inlines at most 1000 replies, and the nextLink to the rest has been seen
    # missing: with or without it, every reply of a long thread is stored.
    tenant = synthetic_tenant(teams=1, channels=1, messages=5, users=4, seed=5)
    team, channel = tenant.teams[0].team, tenant.teams[0].channels[0].channel
    with GraphEmulator(tenant, rate_scale=500, replies_next_link=next_link) as emu:
        root = emu.add_message(team["id"], channel["id"], {
            "body": {"contentType": "text", "content": "the long thread"}})
        replies = {emu.add_message(team["id"], channel["id"], {
            "replyToId": root["id"], "body": {"contentType": "text", "content": f"reply {n}"}})["id"]
            for n in range(1003)}
        export(emu, tmp_path, MIGRATE_EXPORT_METHOD="per-channel")
    stored = {m for (_c, m) in stored_messages(tmp_path)}
    assert replies <= stored and root["id"] in stored


def test_a_message_naming_no_channel_has_its_team_read_channel_by_channel(
        tenant, tmp_path, monkeypatch):
    # getAllMessages documents channelIdentity on every message; a page without it is no
    # failed export: that team is read channel by channel (where the channel is known).
    broken = tenant.teams[0].team["id"]
    iter_pages = GraphClient.iter_pages

    def without_channel(self, url, *args, **kwargs):
        for items, next_link in iter_pages(self, url, *args, **kwargs):
            if f"/teams/{broken}/channels/getAllMessages" in url and items:
                items[0] = {k: v for k, v in items[0].items() if k != "channelIdentity"}
            yield items, next_link

    monkeypatch.setattr(GraphClient, "iter_pages", without_channel)
    with GraphEmulator(tenant, rate_scale=200) as emu:
        summary = export(emu, tmp_path)
    assert summary.teams_unreadable == 0 and summary.unread == 0
    assert summary.warnings.get("all_messages_refused") == 1
    assert set(stored_messages(tmp_path)) == tenant_messages(tenant)
    conn = sqlite3.connect(tmp_path / "state.db")
    (message,) = conn.execute("SELECT message FROM warnings WHERE kind = 'all_messages_refused'"
                              ).fetchone()
    conn.close()
    assert "without channelIdentity" in message


def test_a_team_whose_get_all_messages_is_refused_is_read_channel_by_channel(tmp_path):
    # A service without getAllMessages' lastModifiedDateTime filter (or without the export API):
    # each team is read channel by channel, and nothing is missing.
    tenant = synthetic_tenant(teams=2, channels=3, messages=300, users=8, seed=13)
    with GraphEmulator(tenant, rate_scale=300, all_messages_filter=False) as emu:
        summary = export(emu, tmp_path)
    assert set(stored_messages(tmp_path)) == tenant_messages(tenant)
    assert summary.unread == 0 and summary.warnings == {"all_messages_refused": 2}


def test_a_graph_without_json_batching_gets_every_request_one_by_one(tenant, tmp_path, caplog):
    with GraphEmulator(tenant, rate_scale=200, json_batching=False) as emu, \
            caplog.at_level(logging.WARNING, logger="migrate.export.client"):
        summary = export(emu, tmp_path)
        batches = emu.counters()["byRoute"].get("batch", 0)
    assert set(stored_messages(tmp_path)) == tenant_messages(tenant)
    assert summary.users == 30 and summary.teams == 3 and summary.channels == 7
    assert summary.teams_unreadable == 0 and batches == 0
    assert sum("JSON batching" in r.getMessage() for r in caplog.records) == 1


def test_a_service_without_expand_replies_still_gives_every_reply_per_channel(tenant, tmp_path):
    with GraphEmulator(tenant, rate_scale=400, expand_replies=False) as emu:
        summary = export(emu, tmp_path, MIGRATE_EXPORT_METHOD="per-channel")
    assert set(stored_messages(tmp_path)) == tenant_messages(tenant)
    assert summary.unread == 0
