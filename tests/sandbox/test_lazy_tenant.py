"""The lazily generated tenant (`migrate sandbox --synthetic N`): the real exporter reads it
exactly, pages are deterministic and correct, and 10,000,000 messages cost no memory."""

from __future__ import annotations

import json
import os
import sqlite3
from urllib.parse import quote

import pytest
import requests

from migrate.config import load_settings
from migrate.export.auth import StaticTokenAuth
from migrate.export.client import GraphClient
from migrate.export.exporter import TeamsExporter
from migrate.sandbox.graph_odata import iso_from_millis
from migrate.sandbox.lazy_routes import LazyGraphEmulator
from migrate.sandbox.lazy_skeleton import shape_of
from migrate.sandbox.lazy_tenant import LazyTenant
from migrate.sandbox.synthetic_sandbox import start_synthetic_sandbox
from migrate.sandbox.tenant import SANDBOX_GRAPH_TOKEN, SANDBOX_SLACK_TOKEN
from migrate.store.runtime import writer_run

AUTH = {"Authorization": f"Bearer {SANDBOX_GRAPH_TOKEN}"}


def export(emu: LazyGraphEmulator, workdir, **extra: str):
    env = {"MIGRATE_GRAPH_URL": emu.url, "MIGRATE_GRAPH_TOKEN": SANDBOX_GRAPH_TOKEN,
           "MIGRATE_GRAPH_RATE_SCALE": str(emu.rate_scale), "MIGRATE_WORKDIR": str(workdir), **extra}
    settings = load_settings(None, environ=env)
    client = GraphClient(settings.graph, StaticTokenAuth(SANDBOX_GRAPH_TOKEN))
    with writer_run(settings, "export") as ctx:
        return TeamsExporter(client, ctx.store, settings, run_id=ctx.run_id, workers=8).run()


def every_message(gen: LazyTenant) -> list[dict]:
    return [m for team in gen.teams for m in gen.team_messages(team, 0, team.count)]


def get(emu: LazyGraphEmulator, path: str, **headers: str) -> requests.Response:
    url = path if path.startswith("http") else emu.url + path
    return requests.get(url, headers={**AUTH, **headers}, timeout=30)


def page(emu: LazyGraphEmulator, path: str) -> str:
    """A page's text with the emulator's own address taken out."""
    return get(emu, path).text.replace(emu.origin, "")


def test_shape_is_proportionate():
    assert shape_of(10_000_000).users == 333_333 and shape_of(20_000_000).users == 350_000
    assert shape_of(10_000_000).teams == 500 and shape_of(1_000).teams == 3
    assert shape_of(1_000).users == 50
    gen = LazyTenant(200_000, seed=5)
    assert sum(t.count for t in gen.teams) == 200_000
    assert sum(gen.chat_count) == 20_000 and len(gen.chat_kind) == gen.users_count // 3
    channels = [c for t in gen.teams for c in t.channels]
    assert 6 <= len(channels) / len(gen.teams) <= 10
    sizes = sorted(c.count for c in channels)
    assert sizes[-1] > 10 * sizes[len(sizes) // 2]      # a few busy channels, many quiet ones
    assert {c.membership for c in channels} == {"standard", "private", "shared"}


def test_people_can_be_fixed_so_only_history_grows():
    small, large = LazyTenant(50_000, seed=2, people=400), LazyTenant(500_000, seed=2, people=400)
    assert small.users_count == large.users_count == 400
    assert sum(t.count for t in large.teams) == 500_000 and len(large.chat_kind) == 400 // 3
    members = {u for t in large.teams for u in t.members}
    assert max(members) < 400
    with pytest.raises(ValueError):
        LazyTenant(1_000, people=1)


@pytest.mark.parametrize("method", ["getAllMessages", "per-channel"])
def test_the_exporter_stores_exactly_the_generated_tenant(tmp_path, method):
    n = 20_000 if method == "getAllMessages" else 6_000
    gen = LazyTenant(n, seed=3)
    with LazyGraphEmulator(gen, rate_scale=1000) as emu:
        summary = export(emu, tmp_path, MIGRATE_EXPORT_METHOD=method)
    messages = every_message(gen)
    chat_total = sum(gen.chat_count)
    assert summary.found["messages"] == n and summary.found["chat_messages"] == chat_total
    assert summary.users == gen.users_count and summary.teams == len(gen.teams)
    assert summary.chats_read == len(gen.chat_kind)
    conn = sqlite3.connect(tmp_path / "state.db")
    rows = conn.execute("SELECT channel_id, id, raw FROM teams_messages").fetchall()
    channel_rows = [(c, i, json.loads(raw)) for c, i, raw in rows if c.endswith("@thread.tacv2")]
    assert len(channel_rows) == n and len(rows) == n + chat_total
    assert {(c, i) for c, i, _ in channel_rows} == {
        (m["channelIdentity"]["channelId"], m["id"]) for m in messages}
    stored = {(c, i) for c, i, _ in channel_rows}
    replies = [(c, m["replyToId"]) for c, _, m in channel_rows if m.get("replyToId")]
    assert 0.3 < len(replies) / n < 0.5
    assert all(key in stored for key in replies)    # every reply's root is in its channel
    images = sum(1 for m in messages if "hostedContents" in m["body"]["content"])
    files = sum(1 for m in messages if m["attachments"])
    assert images and files
    assert summary.files == {"downloaded": images + files}
    assert any(m["lastEditedDateTime"] for m in messages)
    assert any(m["deletedDateTime"] for m in messages)
    assert any(m["reactions"] for m in messages)
    assert all(m["lastModifiedDateTime"] >= m["createdDateTime"] for m in messages)


def test_pages_are_deterministic_and_depend_on_the_seed():
    first = LazyTenant(30_000, seed=11)
    with LazyGraphEmulator(first) as a, LazyGraphEmulator(LazyTenant(30_000, seed=11)) as b, \
            LazyGraphEmulator(LazyTenant(30_000, seed=12)) as c:
        team = first.teams[1].id
        for path in (f"/teams/{team}/channels/getAllMessages?$top=50", "/users?$top=20",
                     f"/teams/{team}/members"):
            assert page(a, path) == page(b, path)
        assert page(a, "/users?$top=5") != page(c, "/users?$top=5")
        assert page(a, "/teams") != page(c, "/teams")


def test_top_is_limited_and_windows_page_exactly_once():
    gen = LazyTenant(20_000, seed=4)
    team = gen.teams[0]
    messages = gen.team_messages(team, 0, team.count)
    lo, hi = messages[100]["lastModifiedDateTime"], messages[420]["lastModifiedDateTime"]
    want = [m["id"] for m in messages if lo < m["lastModifiedDateTime"] < hi]
    with LazyGraphEmulator(gen, rate_scale=1000) as emu:
        base = f"/teams/{team.id}/channels/getAllMessages"
        assert get(emu, f"{base}?$top=51").status_code == 400
        url = f"{base}?$top=7&$filter=" + quote(
            f"lastModifiedDateTime gt {lo} and lastModifiedDateTime lt {hi}")
        got, pages = [], 0
        while url:
            page = get(emu, url, Prefer="include-unknown-enum-members").json()
            assert len(page["value"]) <= 7
            got += [m["id"] for m in page["value"]]
            url, pages = page.get("@odata.nextLink"), pages + 1
        assert got == want and pages == -(-len(want) // 7)
        # users page with nextLinks, each once
        url, ids = "/users?$top=999", []
        while url:
            page = get(emu, url).json()
            ids += [u["id"] for u in page["value"]]
            url = page.get("@odata.nextLink")
        assert len(ids) == len(set(ids)) == gen.users_count
        # a user's chats and their getAllMessages
        user = next(u for u in range(gen.users_count) if gen.user_chat_list(u))
        uid = gen.user_id(user)
        chats = get(emu, f"/users/{uid}/chats").json()["value"]
        assert {c["id"] for c in chats} == {gen.chat_id(k) for k in gen.user_chat_list(user)}
        url, got = f"/users/{uid}/chats/getAllMessages?$top=3", []
        while url:
            page = get(emu, url).json()
            got += [(m["chatId"], m["id"]) for m in page["value"]]
            url = page.get("@odata.nextLink")
        assert len(got) == len(set(got)) == sum(gen.chat_count[k] for k in gen.user_chat_list(user))
        # read-only
        assert requests.post(f"{emu.origin}/_control/messages", json={
            "teamId": team.id, "channelId": team.channels[0].id, "message": {}},
            timeout=10).status_code == 400


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads RSS from /proc")
def test_ten_million_messages_are_built_and_served_without_materialising_them():
    before = _rss_mb()
    gen = LazyTenant(10_000_000, seed=1)
    with LazyGraphEmulator(gen, rate_scale=1000) as emu:
        team = max(gen.teams, key=lambda t: t.count)
        assert team.count > 100_000
        base = f"/teams/{team.id}/channels/getAllMessages"
        first = get(emu, f"{base}?$top=50").json()
        assert len(first["value"]) == 50 and "@odata.nextLink" in first
        assert len(get(emu, first["@odata.nextLink"]).json()["value"]) == 50
        last_ms = gen.team_modified_ms(team, team.count - 30)
        last = get(emu, f"{base}?$top=50&$filter=lastModifiedDateTime ge "
                   f"{iso_from_millis(last_ms)}").json()
        assert len(last["value"]) == 30 and "@odata.nextLink" not in last
        users = get(emu, "/users?$top=999&$select=id,mail").json()
        assert users["value"][0]["mail"] == "user0000000@example.test"
        assert get(emu, f"/users/user{gen.users_count - 1:07d}@example.test").status_code == 200
    assert _rss_mb() - before < 200


def test_synthetic_sandbox_serves_both_sides():
    with start_synthetic_sandbox(3_000, seed=2, rate_scale=100) as sandbox:
        env = sandbox.env()
        assert env["MIGRATE_TENANT_ID"] == sandbox.data.graph.tenant_id
        users = requests.get(env["MIGRATE_GRAPH_URL"] + "/users?$top=999", headers=AUTH,
                             timeout=10).json()["value"]
        found = 0
        for user in users[:20]:
            answer = requests.post(env["MIGRATE_SLACK_URL"] + "users.lookupByEmail",
                                   headers={"Authorization": f"Bearer {SANDBOX_SLACK_TOKEN}"},
                                   data={"email": user["mail"]}, timeout=10).json()
            found += bool(answer.get("ok"))
        assert 12 <= found < 20
