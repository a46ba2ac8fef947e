"""The client-side pacer on a fake clock: exact spacing, shared scopes, holds after a 429."""

from __future__ import annotations

import threading

import pytest

from migrate.export.pacing import Pacer


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


def test_single_scope_is_spaced_by_its_interval():
    t = FakeTime()
    pacer = Pacer(t.clock, t.sleep)
    starts = []
    for _ in range(5):
        pacer.acquire([("channel:C", 2.0, 1.0)])
        starts.append(t.now)
    assert starts == pytest.approx([0.0, 0.5, 1.0, 1.5, 2.0])
    assert pacer.waited == pytest.approx(2.0)


def test_burst_lets_the_first_requests_through_at_once():
    pacer = Pacer(lambda: 0.0, lambda s: None)
    starts = [pacer.reserve([("tenant", 10.0, 4.0)]) for _ in range(6)]
    assert starts[:4] == [0.0] * 4
    assert starts[4] == pytest.approx(0.1) and starts[5] == pytest.approx(0.2)


def test_shared_team_scope_binds_across_channels():
    pacer = Pacer(lambda: 0.0, lambda s: None)
    starts = [pacer.reserve([(f"channel:{i}", 1.0, 1.0), ("team:T", 4.0, 1.0)]) for i in range(8)]
    assert starts == pytest.approx([0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75])


def test_unlimited_scope_is_ignored():
    pacer = Pacer(lambda: 0.0, lambda s: None)
    assert [pacer.reserve([("x", 0, 1)]) for _ in range(3)] == [0.0, 0.0, 0.0]


def test_hold_pushes_the_next_slot_after_retry_after():
    t = FakeTime()
    pacer = Pacer(t.clock, t.sleep)
    pacer.acquire([("channel:C", 1.0, 1.0)])
    pacer.hold("channel:C", until=30.0)
    pacer.acquire([("channel:C", 1.0, 1.0)])
    assert t.now == pytest.approx(30.0)


def test_idle_scope_does_not_bank_unlimited_credit():
    t = FakeTime()
    pacer = Pacer(t.clock, t.sleep)
    pacer.acquire([("c", 1.0, 2.0)])
    t.now = 100.0  # idle for a long time: only `burst` requests may go at once
    starts = [pacer.reserve([("c", 1.0, 2.0)]) for _ in range(3)]
    assert starts == pytest.approx([100.0, 100.0, 101.0])


def test_waiting_on_a_shared_scope_does_not_book_the_other_scopes_ahead():
    t = FakeTime()
    pacer = Pacer(t.clock, t.sleep)
    for _ in range(10):  # fill the slow tenant-wide scope 10 s ahead
        pacer.reserve([("tenant:team", 1.0, 1.0)])
    # A request of team T needs the slow scope: it waits ~10 s but books team T only then...
    pacer.acquire([("tenant:team", 1.0, 1.0), ("team:T", 4.0, 1.0)])
    assert t.now == pytest.approx(10.0)
    # ...so team T's own bucket was free the whole time (here: right away at t=10).
    assert pacer.reserve([("team:T", 4.0, 1.0)]) == pytest.approx(10.25)


def test_priority_gate_serves_the_most_work_first():
    import threading
    import time as real_time

    from migrate.export.pacing import PriorityGate

    gate = PriorityGate(rate=20.0)  # a slot every 50 ms
    gate.acquire(0)  # take the first slot so the others queue up
    order: list[int] = []
    lock = threading.Lock()

    def waiter(priority: int) -> None:
        gate.acquire(priority)
        with lock:
            order.append(priority)

    threads = [threading.Thread(target=waiter, args=(p,)) for p in (1, 5, 3, 9)]
    for thread in threads:
        thread.start()
        real_time.sleep(0.005)  # all four wait before the next slot (50 ms) opens
    for thread in threads:
        thread.join(timeout=5)
    assert order == [9, 5, 3, 1]
