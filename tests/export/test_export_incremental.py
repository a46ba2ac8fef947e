"""Incremental exports against the demo tenant in the Graph emulator: users through
`/users/delta`, team changes through `/groups/delta`, and a team's details (members, channels,
private channels' members) read again only when it is new, changed, renamed, or had message
activity — so a no-change sync reads a fraction of what a full export reads."""

from __future__ import annotations

import json
import logging
import sqlite3
import time

import pytest

from migrate.config import load_settings
from migrate.export.auth import StaticTokenAuth
from migrate.export.client import GraphClient
from migrate.export.errors import GraphUnavailable
from migrate.export.exporter import TeamsExporter
from migrate.sandbox.graph_emulator import GraphEmulator
from migrate.sandbox.synthetic import synthetic_tenant
from migrate.sandbox.tenant import SANDBOX_GRAPH_TOKEN, default_demo_folder, load_sandbox
from migrate.store.runtime import writer_run

DETAIL_ROUTES = ("team", "teamMembers", "channels", "channelMembers")


@pytest.fixture(scope="module")
def demo():
    return load_sandbox(default_demo_folder()).graph


@pytest.fixture
def emu(demo):
    with GraphEmulator(demo, rate_scale=100) as emulator:
        yield emulator


def export(emu: GraphEmulator, workdir, **extra):
    env = {"MIGRATE_GRAPH_URL": emu.url, "MIGRATE_GRAPH_TOKEN": SANDBOX_GRAPH_TOKEN,
           "MIGRATE_GRAPH_RATE_SCALE": str(emu.rate_scale), "MIGRATE_WORKDIR": str(workdir), **extra}
    settings = load_settings(None, environ=env)
    client = GraphClient(settings.graph, StaticTokenAuth(SANDBOX_GRAPH_TOKEN))
    time.sleep(0.05)  # changes can be stamped a millisecond ahead of the wall clock
    emu.reset_counters()
    with writer_run(settings, "export") as ctx:
        return TeamsExporter(client, ctx.store, settings, run_id=ctx.run_id, workers=8).run()


def graph_calls(emu: GraphEmulator) -> int:
    """Graph calls the emulator served: a $batch counts each of its items, not itself."""
    return sum(n for route, n in emu.counters()["byRoute"].items() if route != "batch")


def detail_reads(emu: GraphEmulator) -> dict[str, int]:
    routes = emu.counters()["byRoute"]
    return {r: routes[r] for r in DETAIL_ROUTES if routes.get(r)}


def query(workdir, sql: str, *params) -> list[tuple]:
    conn = sqlite3.connect(workdir / "state.db")
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def team_of(demo, name: str):
    return next(t for t in demo.teams if t.team["displayName"] == name)


def outsider(demo, team) -> dict:
    """A tenant user who is not a member of `team`."""
    inside = {m["userId"] for m in team.members}
    return next(u for u in demo.users if u["id"] not in inside)


# ---- the figures ------------------------------------------------------------------------------

def test_a_no_change_export_makes_at_most_a_tenth_of_the_full_exports_requests(emu, demo, tmp_path):
    full = export(emu, tmp_path)
    full_http, full_calls = emu.counters()["requests"], graph_calls(emu)
    full_chat_calls = emu.counters()["byRoute"]["chatsGetAllMessages"]
    assert full.directory == "full" and full.teams_reread == len(demo.teams) == full.teams
    again = export(emu, tmp_path)
    http, calls = emu.counters()["requests"], graph_calls(emu)
    figures = (f"full export: {full.requests} requests and {full.graph_calls} Graph calls "
               f"(summary), {full_http} HTTP requests and {full_calls} Graph calls (emulator); "
               f"no-change export: {again.requests} requests and {again.graph_calls} Graph calls "
               f"(summary), {http} HTTP requests and {calls} Graph calls (emulator)")
    print(figures)
    # the summary counts what the emulator served ($batch items one by one in graph_calls;
    # the emulator's HTTP count also has the files' pre-authenticated download hops)
    assert (full.graph_calls, again.graph_calls) == (full_calls, calls), figures
    assert again.requests * 10 <= full.requests, figures
    assert http * 10 <= full_http, figures
    # Chats have no tenant-wide change feed: each member account's chat stream is asked once
    # per export (one call each, 20 to a $batch round trip), whatever changed.
    chat_calls = emu.counters()["byRoute"]["chatsGetAllMessages"]
    members = sum(1 for u in demo.users if u.get("userType") != "Guest")
    assert chat_calls == members and again.chat_readers == members, figures
    assert (calls - chat_calls) * 10 <= full_calls - full_chat_calls, figures
    assert again.incremental and again.directory == "delta"
    assert again.teams_reread == 0 and again.teams == len(demo.teams)
    assert detail_reads(emu) == {}
    assert (again.users, again.messages_new, again.messages_updated) == (0, 0, 0)
    routes = emu.counters()["byRoute"]
    assert routes["usersDelta"] == routes["groupsDelta"] == routes["teams"] == 1
    assert routes["getAllMessages"] == len(demo.teams)      # one window per team, as before


# ---- what makes a team's details be read again -------------------------------------------------

def test_a_member_added_to_a_team_rereads_that_team_only(emu, demo, tmp_path):
    export(emu, tmp_path)
    team = team_of(demo, "Marketing")
    newcomer = outsider(demo, team)
    emu.add_member(team.team["id"], {"userId": newcomer["id"], "displayName": newcomer["displayName"]})
    summary = export(emu, tmp_path)
    assert summary.teams_reread == 1
    assert detail_reads(emu) == {"team": 1, "teamMembers": 1, "channels": 1}
    members = {u for (u,) in query(tmp_path, "SELECT user_id FROM teams_team_members WHERE team_id = ?",
                                   team.team["id"])}
    assert newcomer["id"] in members
    assert export(emu, tmp_path).teams_reread == 0          # and then it is settled


def test_a_member_removed_from_a_team_is_removed_from_the_store(emu, demo, tmp_path):
    export(emu, tmp_path)
    team = team_of(demo, "Engineering")
    leaver = team.members[-1]["userId"]
    emu.store.remove_member(team.team["id"], leaver)
    summary = export(emu, tmp_path)
    assert summary.teams_reread == 1
    members = {u for (u,) in query(tmp_path, "SELECT user_id FROM teams_team_members WHERE team_id = ?",
                                   team.team["id"])}
    assert leaver not in members and members


def test_a_new_message_rereads_only_its_team_and_finds_a_new_channel(emu, demo, tmp_path):
    export(emu, tmp_path)
    team = team_of(demo, "R&D")
    tid = team.team["id"]
    channel = emu.add_channel(tid, {"displayName": "Field Trials"})
    message = emu.add_message(tid, channel["id"], {"body": {"contentType": "text", "content": "go"}})
    summary = export(emu, tmp_path)
    assert (summary.messages_new, summary.teams_reread) == (1, 1)
    assert detail_reads(emu) == {"team": 1, "teamMembers": 1, "channels": 1}
    assert query(tmp_path, "SELECT display_name FROM teams_channels WHERE id = ?", channel["id"]) == [
        ("Field Trials",)]
    assert query(tmp_path, "SELECT team_id FROM teams_messages WHERE id = ?", message["id"]) == [(tid,)]
    # the message window overlaps the last one: seeing the message again is no activity
    assert export(emu, tmp_path).teams_reread == 0


def test_an_edited_message_rereads_its_team_with_its_private_channel_members(emu, demo, tmp_path):
    export(emu, tmp_path)
    team = team_of(demo, "Engineering")
    private = next(c for c in team.channels if c.channel["membershipType"] == "private")
    newcomer = outsider(demo, team)
    # a private channel's membership is not a directory change: nothing in groups/delta…
    emu.add_member(team.team["id"], {"userId": newcomer["id"], "displayName": "New"},
                   private.channel["id"])
    assert export(emu, tmp_path).teams_reread == 0
    # …but any message activity in the team reads its channels and their members again
    root = next(m for m in private.messages if not m.get("replyToId") and not m.get("deletedDateTime"))
    emu.edit_message(team.team["id"], private.channel["id"], root["id"],
                     {"body": {"contentType": "html", "content": "<p>edited</p>"}})
    summary = export(emu, tmp_path)
    assert (summary.messages_updated, summary.teams_reread) == (1, 1)
    assert detail_reads(emu)["channelMembers"] == 1
    members = {u for (u,) in query(tmp_path, "SELECT user_id FROM teams_channel_members "
                                   "WHERE channel_id = ?", private.channel["id"])}
    assert newcomer["id"] in members


def test_a_new_team_is_found_and_read(emu, demo, tmp_path):
    export(emu, tmp_path)
    owner = demo.users[0]
    team = emu.store.add_team({"displayName": "Launch Crew"},
                              [{"userId": owner["id"], "displayName": owner["displayName"],
                                "roles": ["owner"]}], [{"channel": {"displayName": "General"}}])
    general = emu.store.teams_by_id[team["id"]].channels[0].channel
    emu.add_message(team["id"], general["id"], {"body": {"contentType": "text", "content": "hi"}})
    summary = export(emu, tmp_path)
    assert summary.teams == len(demo.teams) + 1 and summary.teams_reread == 1
    assert summary.messages_new == 1
    assert query(tmp_path, "SELECT display_name FROM teams_teams WHERE id = ?", team["id"]) == [
        ("Launch Crew",)]
    assert query(tmp_path, "SELECT COUNT(*) FROM teams_channels WHERE team_id = ?", team["id"]) == [(1,)]
    assert query(tmp_path, "SELECT user_id FROM teams_team_members WHERE team_id = ?", team["id"]) == [
        (owner["id"],)]


def test_a_renamed_team_is_read_again(emu, demo, tmp_path):
    export(emu, tmp_path)
    team = team_of(demo, "R-D")
    emu.store.update_team(team.team["id"], {"displayName": "Research Ops"})
    summary = export(emu, tmp_path)
    assert summary.teams_reread == 1
    raw = json.loads(query(tmp_path, "SELECT raw FROM teams_teams WHERE id = ?", team.team["id"])[0][0])
    assert raw["displayName"] == "Research Ops" and "isArchived" in raw   # full details, not the listing


def test_changed_users_are_upserted_and_removed_ones_kept(emu, demo, tmp_path):
    export(emu, tmp_path)
    changed, removed = demo.users[3], demo.users[4]
    emu.store.update_user(changed["id"], {"displayName": "Renamed Person", "mail": "renamed@contoso.com"})
    emu.store.delete_user(removed["id"])
    hire = emu.store.add_user({"displayName": "New Hire", "mail": "hire@contoso.com",
                               "userPrincipalName": "hire@contoso.onmicrosoft.com",
                               "accountEnabled": True, "userType": "Member"})
    summary = export(emu, tmp_path)
    assert summary.users == 2 and summary.teams_reread == 0
    users = {i: (name, mail) for i, name, mail in query(
        tmp_path, "SELECT id, display_name, mail FROM teams_users")}
    assert users[changed["id"]] == ("Renamed Person", "renamed@contoso.com")
    assert users[hire["id"]] == ("New Hire", "hire@contoso.com")
    assert users[removed["id"]] == (removed["displayName"], removed.get("mail"))  # still an author
    assert len(users) == len(demo.users) + 1


# ---- links Graph refuses, the safety valve, interrupted exports ---------------------------------

def test_refused_delta_links_fall_back_to_a_full_read_with_a_warning(emu, demo, tmp_path, caplog):
    export(emu, tmp_path)
    emu.store.changes.token_seconds = 0          # every saved link has expired (7 days in Graph)
    with caplog.at_level(logging.WARNING, logger="migrate.export.directory"):
        summary = export(emu, tmp_path)
    assert summary.directory == "full" and summary.teams_reread == len(demo.teams)
    assert summary.users == len(demo.users)
    refused = [r.getMessage() for r in caplog.records if "refused the saved" in r.getMessage()]
    assert len(refused) == 2 and "syncStateNotFound" in refused[0]
    emu.store.changes.token_seconds = 7 * 86400  # new links were kept: the next one is a delta
    assert export(emu, tmp_path).directory == "delta"


def test_a_synchronization_reset_falls_back_too(emu, demo, tmp_path):
    export(emu, tmp_path)
    emu.store.changes.resync()                   # 410 Gone for every token
    summary = export(emu, tmp_path)
    assert summary.directory == "full" and summary.teams_reread == len(demo.teams)


def test_the_safety_valve_reads_what_no_delta_shows(emu, demo, tmp_path):
    export(emu, tmp_path)
    team = team_of(demo, "Marketing")
    quiet = team.channels[-1].channel
    # A channel renamed in a team without any message since: Graph's delta queries do not show it
    emu.update_channel(team.team["id"], quiet["id"], {"displayName": "Brand"})
    assert export(emu, tmp_path).teams_reread == 0
    name = "SELECT display_name FROM teams_channels WHERE id = ?"
    assert query(tmp_path, name, quiet["id"]) == [(quiet["displayName"],)]
    # …the periodic full pass does (0 hours: every export is one)
    summary = export(emu, tmp_path, MIGRATE_FULL_DIRECTORY_HOURS="0")
    assert summary.directory == "full" and summary.teams_reread == len(demo.teams)
    assert query(tmp_path, name, quiet["id"]) == [("Brand",)]
    assert export(emu, tmp_path).directory == "delta"     # done: the default week starts again


def test_a_team_whose_reread_failed_is_read_by_the_next_export(emu, demo, tmp_path, monkeypatch):
    export(emu, tmp_path)
    team = team_of(demo, "Marketing")
    tid = team.team["id"]
    newcomer = outsider(demo, team)
    emu.add_member(tid, {"userId": newcomer["id"], "displayName": "New"})
    emu.add_message(tid, team.channels[0].channel["id"], {"body": {"contentType": "text",
                                                                   "content": "news"}})
    batch_get = GraphClient.batch_get

    def failing(self, requests_, *args, **kwargs):
        if any(f"/teams/{tid}" in r["url"] for r in requests_):
            raise GraphUnavailable("Graph kept failing")
        return batch_get(self, requests_, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(GraphClient, "batch_get", failing)
        broken = export(emu, tmp_path)
    assert broken.teams_unreadable == 1 and broken.teams_reread == 0
    # the groups delta link and the message window have moved on; the team is still marked
    summary = export(emu, tmp_path)
    assert (summary.messages_new, summary.teams_reread, summary.teams_unreadable) == (0, 1, 0)
    assert (newcomer["id"],) in query(tmp_path, "SELECT user_id FROM teams_team_members "
                                      "WHERE team_id = ?", tid)


def test_per_channel_exports_keep_reading_every_teams_channels(emu, demo, tmp_path):
    export(emu, tmp_path, MIGRATE_EXPORT_METHOD="per-channel")
    summary = export(emu, tmp_path, MIGRATE_EXPORT_METHOD="per-channel")
    assert summary.teams_reread == len(demo.teams) and summary.directory == "users delta, teams full"
    assert "groupsDelta" not in emu.counters()["byRoute"]


def test_teams_out_of_scope_stay_unread(emu, demo, tmp_path):
    marketing = team_of(demo, "Marketing")
    export(emu, tmp_path, MIGRATE_EXCLUDE_TEAMS="Marketing")
    emu.add_member(marketing.team["id"], {"userId": outsider(demo, marketing)["id"]})
    summary = export(emu, tmp_path, MIGRATE_EXCLUDE_TEAMS="Marketing")
    assert summary.teams_out_of_scope == 1 and summary.teams_reread == 0
    # brought into scope later: never read, so read now
    assert export(emu, tmp_path).teams_reread == 1


def test_an_interrupted_users_read_resumes_at_the_page_it_stopped(tmp_path, monkeypatch):
    tenant = synthetic_tenant(teams=1, channels=1, messages=20, users=450, seed=3)
    with GraphEmulator(tenant, rate_scale=100) as emu:
        get_json = GraphClient.get_json

        def cut_after_the_first_page(self, url, *args, **kwargs):
            if "/users/delta?$skiptoken=" in url:
                raise GraphUnavailable("the connection dropped")
            return get_json(self, url, *args, **kwargs)

        with monkeypatch.context() as patch:
            patch.setattr(GraphClient, "get_json", cut_after_the_first_page)
            with pytest.raises(GraphUnavailable):
                export(emu, tmp_path)
        assert query(tmp_path, "SELECT COUNT(*) FROM teams_users") == [(200,)]
        summary = export(emu, tmp_path)
        assert summary.users == 250 and emu.counters()["byRoute"]["usersDelta"] == 2
        assert query(tmp_path, "SELECT COUNT(*) FROM teams_users") == [(450,)]
        assert export(emu, tmp_path).directory == "delta"


def test_shared_channels_are_whole_even_where_get_all_messages_leaves_them_out(demo, tmp_path):
    # getAllMessages is documented for standard and private channels: a Graph that keeps to
    # that letter still gives every message of a shared channel, new ones included.
    shared = [(t.team["id"], c) for t in demo.teams for c in t.channels
              if c.channel.get("membershipType") == "shared"]
    assert shared and all(c.messages for _t, c in shared)
    with GraphEmulator(demo, rate_scale=100,
                       all_messages_channels=("standard", "private")) as emu:
        export(emu, tmp_path)
        team_id, channel = shared[0]
        new = emu.add_message(team_id, channel.channel["id"], {
            "body": {"contentType": "text", "content": "after the first export"}})
        export(emu, tmp_path)
    stored = {m for (m,) in query(tmp_path, "SELECT id FROM teams_messages WHERE channel_id = ?",
                                  channel.channel["id"])}
    assert stored == {m["id"] for m in channel.messages} | {new["id"]}
    everything = {m for (m,) in query(tmp_path, "SELECT id FROM teams_messages")}
    assert everything >= {m["id"] for t in demo.teams for c in t.channels for m in c.messages}


@pytest.mark.parametrize("options", [True, False])
def test_a_graph_without_delta_queries_still_gives_every_user_and_team(demo, tmp_path,
                                                                      monkeypatch, caplog,
                                                                      options):
    # Where Graph refuses even a fresh delta query, users are listed in full and every team's
    # details are read again, each export: nothing is missing, only more is read.
    from migrate.export.client import GraphClient
    from migrate.export.errors import GraphRequestError

    def refused(url):
        return GraphRequestError(f"Graph answered 400 BadRequest for {url}: delta not supported")

    batch_get, get_json = GraphClient.batch_get, GraphClient.get_json

    def no_delta_batch(self, requests_, *args, **kwargs):
        answers = batch_get(self, requests_, *args, **kwargs)
        return [refused(r["url"]) if "/delta" in r["url"] else a
                for r, a in zip(requests_, answers, strict=True)]

    def no_delta_get(self, url, *args, **kwargs):
        if "/delta" in url or (not options and url.startswith("/users?")):
            raise refused(url)            # (and, without options, no $select/$top on /users)
        return get_json(self, url, *args, **kwargs)

    monkeypatch.setattr(GraphClient, "batch_get", no_delta_batch)
    monkeypatch.setattr(GraphClient, "get_json", no_delta_get)
    with GraphEmulator(demo, rate_scale=100) as emu, \
            caplog.at_level(logging.WARNING, logger="migrate.export.directory"):
        first = export(emu, tmp_path)
        again = export(emu, tmp_path)
    assert first.users == len(demo.users) and again.users == len(demo.users)
    assert first.teams_reread == again.teams_reread == len(demo.teams)
    assert sum("delta query" in r.getMessage() for r in caplog.records) == 4
    stored = {m for (m,) in query(tmp_path, "SELECT id FROM teams_messages")}
    assert stored >= {m["id"] for t in demo.teams for c in t.channels for m in c.messages}
