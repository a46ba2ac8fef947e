"""A team's history read as several lastModifiedDateTime windows at once: complete, side by
side, resumable part by part, and cut where the messages are."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import time
from urllib.parse import parse_qs, unquote, urlsplit

from migrate.config import load_settings
from migrate.export.auth import StaticTokenAuth
from migrate.export.client import GraphClient
from migrate.export.errors import GraphUnavailable
from migrate.export.exporter import TeamsExporter
from migrate.export.messages import parse_iso
from migrate.export.team_history import MAX_PARTS, OVERLAP, StreamQueue, cut_window
from migrate.sandbox.graph_emulator import GraphEmulator
from migrate.sandbox.synthetic import synthetic_tenant
from migrate.sandbox.tenant import SANDBOX_GRAPH_TOKEN
from migrate.store.runtime import writer_run

from .test_export import env_for, stored_messages, tenant_messages


class SpyClient(GraphClient):
    """Counts the getAllMessages streams open at once, and can break one part's stream."""

    def __init__(self, *args, fail_in_part: str | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lock = threading.Lock()
        self.open = self.peak = 0
        self.first_urls: list[str] = []
        self.pages: dict[str, int] = {}       # pages read, by stream (its first url)
        self.fail_in_part = fail_in_part     # a part's `lt` bound: its second page fails

    def iter_pages(self, url, **kwargs):
        if "getAllMessages" not in url:
            yield from super().iter_pages(url, **kwargs)
            return
        with self.lock:
            self.open += 1
            self.peak = max(self.peak, self.open)
            self.first_urls.append(url)
        try:
            for number, page in enumerate(super().iter_pages(url, **kwargs)):
                with self.lock:
                    self.pages[url] = number + 1
                if number == 1 and self.fail_in_part and self.fail_in_part in unquote(url):
                    raise GraphUnavailable("the connection broke, past every retry")
                yield page
        finally:
            with self.lock:
                self.open -= 1


def export(emu, workdir, *, now=None, **client_options):
    settings = load_settings(None, environ=env_for(emu, workdir))
    client = SpyClient(settings.graph, StaticTokenAuth(SANDBOX_GRAPH_TOKEN), **client_options)
    with writer_run(settings, "export") as ctx:
        options = {"now": now} if now else {}
        summary = TeamsExporter(client, ctx.store, settings, run_id=ctx.run_id, workers=8,
                                **options).run()
    return summary, client


def checkpoints(workdir) -> dict[str, tuple]:
    conn = sqlite3.connect(workdir / "state.db")
    rows = conn.execute("SELECT scope, status, watermark, next_link FROM export_checkpoints "
                        "WHERE scope LIKE 'messages:team:%' OR scope LIKE 'parts:%'").fetchall()
    conn.close()
    return {scope: tuple(rest) for scope, *rest in rows}


def one_big_team(messages=1500, seed=3):
    return synthetic_tenant(teams=1, channels=6, messages=messages, users=12, seed=seed)


def export_with_a_part_broken(emu, workdir, now):
    """An export whose longest part breaks off after its first page (the team's pass stays
    open with that part's checkpoint), found by a probe export of the same tenant."""
    _summary, probe = export(emu, workdir / "probe", now=lambda: now)
    longest = max(probe.first_urls[1:], key=lambda url: probe.pages[url])
    assert probe.pages[longest] >= 3
    broken = parse_qs(urlsplit(longest).query)["$filter"][0].split(" lt ")[-1]
    return export(emu, workdir, fail_in_part=f"lt {broken}", now=lambda: now)[0]


def test_cuts_cover_the_window_and_overlap_at_every_cut():
    start, end = "2000-01-01T00:00:00Z", "2024-01-01T00:00:00Z"
    parts = cut_window(start, end, "2023-01-01T00:00:00Z", pages_left=30)
    assert len(parts) == 8                                  # ~4 pages each
    assert parts[0][0] == start and parts[-1][1] == end
    for (_a, before), (after, _b) in zip(parts, parts[1:], strict=False):
        assert parse_iso(before) - parse_iso(after) == OVERLAP
    assert parse_iso(parts[1][0]) > parse_iso("2023-01-01T00:00:00Z")   # cut where it is
    assert len(cut_window(start, end, None, float("inf"))) == MAX_PARTS
    assert cut_window(start, end, None, pages_left=3) == [(start, end)]   # not worth it
    # Two seconds of history cannot be cut finer than its bounds allow.
    assert cut_window(start, "2023-01-01T00:00:03Z", "2023-01-01T00:00:00Z", 100) == [
        (start, "2023-01-01T00:00:03Z")]


def test_a_big_team_is_read_as_parts_side_by_side_and_stored_exactly(tmp_path):
    tenant = one_big_team()
    with GraphEmulator(tenant, rate_scale=100, latency=0.02) as emu:
        summary, client = export(emu, tmp_path)
        pages = emu.counters()["byRoute"]["getAllMessages"]
    assert set(stored_messages(tmp_path)) == tenant_messages(tenant)
    assert summary.messages_new == len(tenant_messages(tenant))
    assert client.peak > 1                       # parts of the one team were read at once
    parts = len(client.first_urls) - 1
    assert 2 <= parts <= MAX_PARTS
    whole_pages = -(-summary.messages_new // 50)
    assert pages <= whole_pages + 2 * parts      # a cut costs at most its one shared page
    team_id = tenant.teams[0].team["id"]
    scopes = checkpoints(tmp_path)
    assert scopes == {f"messages:team:{team_id}": ("complete", scopes[f"messages:team:{team_id}"][1],
                                                    None)}     # the parts are gone


def test_a_part_that_fails_is_resumed_alone_and_the_pass_completes(tmp_path):
    tenant = one_big_team()
    team_id = tenant.teams[0].team["id"]
    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    with GraphEmulator(tenant, rate_scale=100) as emu:
        first = export_with_a_part_broken(emu, tmp_path, now)
        assert first.warnings.get("team_unreadable") == 1
        scopes = checkpoints(tmp_path)
        team = scopes[f"messages:team:{team_id}"]
        assert team[0] == "in_progress" and team[1] is None   # no watermark: nothing skipped
        unfinished = [s for s, (status, *_rest) in scopes.items()
                      if s.startswith("parts:") and status != "complete"]
        assert len(unfinished) == 1
        assert len(stored_messages(tmp_path)) < len(tenant_messages(tenant))
        second, client = export(emu, tmp_path, now=lambda: now + dt.timedelta(hours=1))
    assert set(stored_messages(tmp_path)) == tenant_messages(tenant)
    assert len(client.first_urls) == 1            # the broken part alone, from its next page
    assert "skiptoken" in client.first_urls[0].lower() or "$skip" in client.first_urls[0]
    assert second.warnings == {}
    assert checkpoints(tmp_path)[f"messages:team:{team_id}"][0] == "complete"
    assert not [s for s in checkpoints(tmp_path) if s.startswith("parts:")]


def test_a_continuation_token_graph_refuses_restarts_the_pass_instead_of_sticking(tmp_path):
    # A stored part's link whose skiptoken Graph no longer takes (400: it expired, or broke):
    # that export reads the team channel by channel instead and forgets the link; the next one
    # reads the window afresh from the last complete pass — never asking for the dead link.
    tenant = one_big_team()
    team_id = tenant.teams[0].team["id"]
    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    with GraphEmulator(tenant, rate_scale=100) as emu:
        export_with_a_part_broken(emu, tmp_path, now)
        conn = sqlite3.connect(tmp_path / "state.db")
        (scope, link), = conn.execute(
            "SELECT scope, next_link FROM export_checkpoints WHERE scope LIKE 'parts:%' "
            "AND status != 'complete'").fetchall()
        dead = link.replace("skiptoken=", "skiptoken=0", 1)
        assert dead != link
        conn.execute("UPDATE export_checkpoints SET next_link = ? WHERE scope = ?", (dead, scope))
        conn.commit()
        conn.close()
        refused, client = export(emu, tmp_path, now=lambda: now + dt.timedelta(hours=1))
        assert dead in client.first_urls
        assert refused.warnings == {"all_messages_refused": 1} and refused.unread == 0
        assert set(stored_messages(tmp_path)) == tenant_messages(tenant)
        assert not [s for s in checkpoints(tmp_path) if s.startswith("parts:")]
        again, client = export(emu, tmp_path, now=lambda: now + dt.timedelta(hours=2))
    assert dead not in client.first_urls
    assert again.warnings == {}
    assert set(stored_messages(tmp_path)) == tenant_messages(tenant)
    assert checkpoints(tmp_path)[f"messages:team:{team_id}"][0] == "complete"


def test_a_history_crowded_into_seconds_is_cut_where_it_is(tmp_path):
    tenant = one_big_team(messages=900, seed=5)
    recent = dt.datetime(2026, 12, 1, 12, 0, 0, tzinfo=dt.UTC)
    for channel in tenant.teams[0].channels:
        for message in channel.messages:      # every change within the last 30 seconds
            stamp = parse_iso(message["lastModifiedDateTime"])
            moved = recent + dt.timedelta(milliseconds=(stamp.timestamp() * 1000) % 30_000)
            message["lastModifiedDateTime"] = moved.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    with GraphEmulator(tenant, rate_scale=100, latency=0.02) as emu:
        _summary, client = export(emu, tmp_path, now=lambda: recent + dt.timedelta(seconds=31))
    assert set(stored_messages(tmp_path)) == tenant_messages(tenant)
    assert len(client.first_urls) - 1 >= 4 and client.peak > 1


def test_the_stream_queue_keeps_each_team_under_its_limit_and_ends_when_all_is_done():
    queue = StreamQueue(limit=lambda key: 2)
    lock = threading.Lock()
    running: dict[str, int] = {}
    peak: dict[str, int] = {}
    done: list[str] = []

    def job(key: str, spawn: int = 0):
        def run() -> None:
            with lock:
                running[key] = running.get(key, 0) + 1
                peak[key] = max(peak.get(key, 0), running[key])
            for _ in range(spawn):            # a job may add more while it runs
                queue.add(key, job(key), first=True)
            time.sleep(0.02)
            with lock:
                running[key] -= 1
                done.append(key)
        return run

    queue.add("big", job("big", spawn=6))
    for key in ("a", "b", "c"):
        queue.add(key, job(key))
    workers = [threading.Thread(target=queue.work) for _ in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=10)
    assert not any(w.is_alive() for w in workers)
    assert sorted(done) == sorted(["big"] * 7 + ["a", "b", "c"])
    assert peak["big"] == 2
