"""The export's memory is bounded by design, not by the number of teams: at most the page
budget's pages read from Graph and not yet stored, and a bounded number of teams' details
read at once, however many teams stream at the same time."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest

from migrate.config import load_settings
from migrate.export.auth import StaticTokenAuth
from migrate.export.chats import BATCHES_IN_FLIGHT
from migrate.export.client import GraphClient
from migrate.export.errors import GraphUnavailable
from migrate.export.exporter import DETAILS_IN_FLIGHT, TeamsExporter
from migrate.export.messages import MessageReader
from migrate.export.team_history import TeamHistory
from migrate.sandbox.graph_emulator import GraphEmulator
from migrate.sandbox.synthetic import synthetic_tenant
from migrate.sandbox.tenant import SANDBOX_GRAPH_TOKEN
from migrate.store import Store, teams_objects
from migrate.store import writer as writer_module
from migrate.store.runtime import writer_run
from migrate.store.writer import PageBudget, StoreWriter

from .test_export import env_for, stored_messages, tenant_messages

BUDGET = 24          # ≥ 20: a chats $batch takes the places of its 20 first pages at once


class InHand:
    """Pages whose body the client has read, less pages the writer has written."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.most = 0

    def add(self, n: int) -> None:
        with self.lock:
            self.now += n
            self.most = max(self.most, self.now)


def is_message_page(url: str) -> bool:
    return "getAllMessages" in url


def export_with(emu: GraphEmulator, workdir, workers: int):
    settings = load_settings(None, environ=env_for(emu, workdir))
    client = GraphClient(settings.graph, StaticTokenAuth(SANDBOX_GRAPH_TOKEN))
    with writer_run(settings, "export") as ctx:
        return TeamsExporter(client, ctx.store, settings, run_id=ctx.run_id,
                             workers=workers).run()


def counting(monkeypatch, cls, name: str) -> InHand:
    """How many calls of `cls.name` run at once."""
    running = InHand()
    method = getattr(cls, name)

    def counted(self, *args, **kwargs):
        running.add(1)
        try:
            return method(self, *args, **kwargs)
        finally:
            running.add(-1)

    monkeypatch.setattr(cls, name, counted)
    return running


def test_pages_in_hand_never_exceed_the_budget_however_many_teams_stream(tmp_path, monkeypatch):
    tenant = synthetic_tenant(teams=40, channels=40, messages=40 * 160, users=40, chats=12,
                              chat_messages=400, seed=5)
    monkeypatch.setattr(writer_module, "PAGES_IN_HAND", BUDGET)
    in_hand = InHand()
    get_json, batch_get = GraphClient.get_json, GraphClient.batch_get

    def counting_get_json(self, url, *args, **kwargs):
        page = get_json(self, url, *args, **kwargs)
        if is_message_page(url):
            in_hand.add(1)
        return page

    def counting_batch_get(self, calls, *args, **kwargs):
        answers = batch_get(self, calls, *args, **kwargs)
        in_hand.add(sum(1 for call in calls if is_message_page(call["url"])))
        return answers

    store_rows = teams_objects.store_message_rows

    def slow_store(store, rows):     # a slow disk: without the budget, pages pile up
        time.sleep(0.003)
        stored = store_rows(store, rows)
        in_hand.add(-1)
        return stored

    details = counting(monkeypatch, TeamsExporter, "export_team")
    budgets: list[PageBudget] = []
    writer_init = StoreWriter.__init__

    def recording_init(self, *args, **kwargs):
        writer_init(self, *args, **kwargs)
        budgets.append(self.budget)

    monkeypatch.setattr(GraphClient, "get_json", counting_get_json)
    monkeypatch.setattr(GraphClient, "batch_get", counting_batch_get)
    monkeypatch.setattr(teams_objects, "store_message_rows", slow_store)
    monkeypatch.setattr(StoreWriter, "__init__", recording_init)

    with GraphEmulator(tenant, rate_scale=1000) as emu:
        summary = export_with(emu, tmp_path, workers=64)

    assert set(stored_messages(tmp_path)) >= tenant_messages(tenant)   # all of it, and chats
    assert summary.teams == 40 and summary.chat_readers == 40
    assert in_hand.now == 0
    assert in_hand.most <= BUDGET                   # the bound
    assert in_hand.most >= BUDGET // 2              # and the test pressed against it
    [budget] = budgets
    assert budget.limit == BUDGET and budget.peak <= BUDGET and budget.taken == 0
    assert 1 < details.most <= DETAILS_IN_FLIGHT     # 40 teams' details, a few at a time


def test_team_streams_are_read_workers_at_a_time_however_many_teams(tmp_path, monkeypatch):
    tenant = synthetic_tenant(teams=30, channels=30, messages=30 * 60, users=12, seed=8)
    streams = counting(monkeypatch, TeamsExporter, "export_team_messages")
    threads: list[int] = []
    run_jobs = TeamsExporter._run_jobs
    monkeypatch.setattr(TeamsExporter, "_run_jobs", staticmethod(
        lambda jobs: (threads.append(len(jobs)), run_jobs(jobs))))
    with GraphEmulator(tenant, rate_scale=1000) as emu:
        summary = export_with(emu, tmp_path, workers=6)
    assert set(stored_messages(tmp_path)) == tenant_messages(tenant)
    assert summary.teams == 30 and summary.teams_reread == 30
    assert 1 < streams.most <= 6
    assert threads[0] <= 6 + DETAILS_IN_FLIGHT + BATCHES_IN_FLIGHT   # not one per team


def test_places_are_granted_in_arrival_order_so_a_batch_is_not_starved():
    budget = PageBudget(4)
    assert budget.take(3) == 3
    order: list[str] = []
    batch = threading.Thread(target=lambda: (budget.take(4), order.append("batch")))
    batch.start()
    while not budget._waiting:
        time.sleep(0.001)
    single = threading.Thread(target=lambda: (budget.take(1), order.append("single")))
    single.start()
    time.sleep(0.05)
    assert order == []                   # one place is free, but the batch came first
    budget.give_back(3)
    batch.join(timeout=5)
    assert order == ["batch"]
    budget.give_back(4)
    single.join(timeout=5)
    assert order == ["batch", "single"] and budget.taken == 1
    budget.give_back(1)
    assert budget.take(99) == 4          # never more than the whole budget


def test_a_page_whose_reading_fails_gives_its_place_back(tmp_path):
    store = Store.open(tmp_path)

    class FailingClient:
        def iter_pages(self, url, *, headers=None, priority=None, admit=None):
            admit()                       # the answer's headers came, then its body broke off
            raise GraphUnavailable("the body broke off, past every retry")

    with StoreWriter(store, pages_in_hand=2) as writer:
        reader = MessageReader(FailingClient(), store, run_id=None, since=None, writer=writer,
                               window_end="2024-01-01T00:00:00Z", overlap=dt.timedelta(0))
        errors = []
        for _ in range(3):               # without the place back, the third would wait forever
            TeamHistory(reader, "T", spawn=lambda job: job(), finished=errors.append).start()
        assert [type(e) for e in errors] == [GraphUnavailable] * 3
        assert writer.budget.taken == 0
    store.close()


def test_pages_of_a_failed_write_give_their_places_back(tmp_path):
    store = Store.open(tmp_path)
    writer = StoreWriter(store, pages_in_hand=2)
    hand = writer.hand()
    hand.take(2)

    def failing() -> None:
        raise RuntimeError("disk full")

    writer.submit(failing, pages=hand.hand_over())
    writer.submit(lambda: None, pages=hand.hand_over())
    with pytest.raises(RuntimeError):
        writer.close()
    assert writer.budget.taken == 0 and hand.held == 0
    store.close()
