"""The Slack scheduler (DESIGN §5) on a fake clock: per-channel and workspace pacing, longest-first
interleaving up to the ceiling, Retry-After honoured exactly, method buckets that do not block
posting, the deadline and fatal errors. One small threaded test runs on the real clock."""

from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

import pytest

from migrate.errors import AuthError
from migrate.load.client import SlackRateLimited
from migrate.load.limits import SlackLimits, ceiling_seconds
from migrate.load.scheduler import MARGIN, POSTING, FakeClock, RealClock, Scheduler

POST = "chat.postMessage"
CREATE = "conversations.create"


class Call(NamedTuple):
    t: float        # when the Slack call started (clock time inside fn)
    channel: str
    item: int       # index of the item in its lane
    method: str


class FakeLane:
    """One channel's calls, in order. Every attempt of a call is logged from inside fn, so the
    log holds the times calls actually started (a 429'd attempt and its retry both appear).
    `fail` maps an item index to an exception its first attempt raises."""

    def __init__(self, scheduler: Scheduler, channel: str, methods: list[str], log: list[Call],
                 *, fail: dict[int, BaseException] | None = None, latency: float = 0.0) -> None:
        self.scheduler, self.channel, self.methods, self.log = scheduler, channel, methods, log
        self.fail = dict(fail or {})
        self.latency = latency  # fake seconds each call takes
        self.index = 0
        self.in_flight = 0
        self.overlaps = 0  # steps that started while another step of this lane was running

    def next_call(self) -> tuple[str, str | None] | None:
        if self.index >= len(self.methods):
            return None
        method = self.methods[self.index]
        return method, (self.channel if method in POSTING else None)

    def remaining(self) -> int:
        return sum(1 for m in self.methods[self.index:] if m in POSTING)

    def step(self) -> None:
        self.in_flight += 1
        self.overlaps += self.in_flight > 1
        try:
            method, channel = self.next_call()  # type: ignore[misc]
            item = self.index
            self.scheduler.call(method, channel, lambda: self._do(method, item))
            self.index += 1
        finally:
            self.in_flight -= 1

    def _do(self, method: str, item: int) -> None:
        clock = self.scheduler.clock
        self.log.append(Call(clock.now(), self.channel, item, method))
        exc = self.fail.pop(item, None)  # fail once: the retry succeeds
        if self.latency:
            clock.sleep(self.latency)  # type: ignore[attr-defined]
        if exc is not None:
            raise exc


def scheduler(per_channel: float = 1.0, workspace: float = 5.0, *, clock=None,
              **per_minute: float) -> Scheduler:
    """A scheduler (on a fake clock unless given one); method rates are given per minute like Slack's tiers
    (keyword names use '_' for '.': conversations_create=20)."""
    per_method = {"conversations.info": 50 / 60}
    per_method.update({k.replace("_", "."): v / 60 for k, v in per_minute.items()})
    limits = SlackLimits(per_method=per_method, post_per_channel=per_channel,
                         post_workspace=workspace)
    return Scheduler(limits, clock=clock or FakeClock())


def posts(n: int) -> list[str]:
    return [POST] * n


def gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in zip(times, times[1:], strict=False)]


def by_channel(log: list[Call]) -> dict[str, list[Call]]:
    out: dict[str, list[Call]] = defaultdict(list)
    for call in log:
        out[call.channel].append(call)
    return out


def run(sched: Scheduler, lanes: list[FakeLane]) -> tuple[bool, float]:
    """Run single-threaded (deterministic on the fake clock); returns (finished, seconds)."""
    start = sched.clock.now()
    finished = sched.run(lanes, workers=1)
    return finished, sched.clock.now() - start


# ---------------------------------------------------------------------------- pacing


def test_posts_in_one_channel_are_paced_at_the_channel_rate():
    sched, log = scheduler(per_channel=2.0, workspace=100.0), []
    assert run(sched, [FakeLane(sched, "C1", posts(10), log)])[0]
    spacing = gaps([c.t for c in log])
    assert len(spacing) == 9
    assert min(spacing) > 1 / 2.0  # strictly under the rate: jitter must not overtake it
    assert spacing == pytest.approx([MARGIN / 2.0] * 9)  # ...and no slower than 1 % under it
    assert sched.stats.calls[POST] == 10


def test_workspace_cap_binds_not_one_channel():
    sched, log = scheduler(per_channel=1.0, workspace=5.0), []
    lanes = [FakeLane(sched, f"C{i}", posts(20), log) for i in range(10)]
    finished, took = run(sched, lanes)
    assert finished and len(log) == 200
    ceiling = ceiling_seconds({f"C{i}": 20 for i in range(10)}, sched.limits)
    assert ceiling == pytest.approx(40.0)  # 200 posts / 5 per s: the workspace binds
    assert took == pytest.approx(ceiling, rel=0.03)
    assert min(gaps(sorted(c.t for c in log))) >= 1 / 5.0 - 1e-9
    for calls in by_channel(log).values():
        assert min(gaps([c.t for c in calls])) >= 1.0 - 1e-9
        assert [c.item for c in calls] == list(range(20))


def test_longest_first_keeps_the_busiest_channel_posting_from_the_start():
    # 31 channels want to post at once, so the workspace binds early; the big channel is listed
    # last so that only the longest-first rule (not list order) can start it at once.
    sched, log = scheduler(per_channel=1.0, workspace=5.0), []
    sizes = {**{f"small{i}": 10 for i in range(30)}, "big": 100}
    lanes = [FakeLane(sched, name, posts(n), log) for name, n in sizes.items()]
    start = sched.clock.now()
    finished, took = run(sched, lanes)
    assert finished
    ceiling = ceiling_seconds(sizes, sched.limits)
    assert ceiling == pytest.approx(100.0)  # max(100 / 1, 400 / 5)
    assert took == pytest.approx(ceiling, rel=0.03)
    big = [c.t for c in by_channel(log)["big"]]
    assert big[0] == start  # the big channel posts first...
    assert max(gaps(big)) == pytest.approx(MARGIN)  # ...and never falls behind its own rate


# ---------------------------------------------------------------------------- 429s


def test_retry_after_is_honoured_exactly_and_slows_the_bucket():
    sched, log = scheduler(per_channel=1.0, workspace=5.0), []
    lane = FakeLane(sched, "C1", posts(40), log,
                    fail={3: SlackRateLimited(POST, 2.5)})
    assert run(sched, [lane])[0]
    limited, retry = [c.t for c in log if c.item == 3]
    assert retry - limited >= 2.5
    assert retry - limited == pytest.approx(2.5)  # exactly Retry-After, not a backoff on top
    assert sched.stats.ratelimited[POST] == 1
    assert sched.stats.throttled_s == pytest.approx(2.5)
    assert sched.stats.calls[POST] == 41  # the 429'd attempt was a granted call too
    # After the 429 the channel goes slower than nominal, then recovers step by step.
    after = gaps([c.t for c in log if c.item >= 3][1:])
    assert after[0] > 1.4 * MARGIN
    assert all(b <= a + 1e-9 for a, b in zip(after, after[1:], strict=False))
    assert after[-1] == pytest.approx(MARGIN)


@pytest.mark.parametrize("method", [POST, "users.info"])
def test_missing_retry_after_waits_a_fallback(method):
    # users.info at 600/min paces 0.1 s apart: only the fallback can explain a ≥ 1 s wait.
    sched, log = scheduler(users_info=600), []
    lane = FakeLane(sched, "C1", [method] * 3, log, fail={1: SlackRateLimited(method, None)})
    assert run(sched, [lane])[0]
    limited, retry = [c.t for c in log if c.item == 1]
    assert retry - limited >= 1.0
    assert sched.stats.ratelimited[method] == 1
    assert sched.stats.throttled_s >= 1.0


# ---------------------------------------------------------------------------- method buckets


def test_a_slow_method_bucket_spaces_its_calls_without_holding_up_posts():
    # Three lanes start with conversations.create (Tier 2, 20/min) while one lane only posts.
    sched, log = scheduler(per_channel=1.0, workspace=5.0, conversations_create=20), []
    lanes = [FakeLane(sched, f"new{i}", [CREATE] + posts(5), log) for i in range(3)]
    lanes.append(FakeLane(sched, "busy", posts(20), log))
    start = sched.clock.now()
    assert run(sched, lanes)[0]
    creates = [c.t for c in log if c.method == CREATE]
    assert len(creates) == 3
    assert min(gaps(creates)) >= 3.0
    busy = [c.t for c in by_channel(log)["busy"]]
    assert busy[0] == start
    assert max(gaps(busy)) == pytest.approx(MARGIN)  # posts flowed while creates waited
    assert busy[-1] < creates[-1] + 19 * MARGIN  # the busy lane did not queue behind creates


def test_setup_calls_are_not_starved_while_the_workspace_binds():
    # 15 existing channels keep the workspace busy; 15 new ones need conversations.create first.
    # The creates use their own bucket (3 s apart, 45 s in all), so the ceiling stays reachable.
    sched, log = scheduler(per_channel=1.0, workspace=5.0, conversations_create=20), []
    sizes = {**{f"old{i}": 20 for i in range(15)}, **{f"new{i}": 5 for i in range(15)}}
    lanes = [FakeLane(sched, name, ([CREATE] if name.startswith("new") else []) + posts(n), log)
             for name, n in sizes.items()]
    start = sched.clock.now()
    finished, took = run(sched, lanes)
    assert finished
    assert min(c.t for c in log if c.method == CREATE) == start
    assert took == pytest.approx(ceiling_seconds(sizes, sched.limits), rel=0.03)  # 75 s


# ---------------------------------------------------------------------------- stopping


def test_deadline_stops_the_run():
    sched, log = scheduler(per_channel=1.0), []
    sched.deadline = sched.clock.now() + 5.5
    finished, _ = run(sched, [FakeLane(sched, "C1", posts(20), log)])
    assert finished is False
    assert sched.stop_reason == "deadline"
    assert 5 <= len(log) < 20


@pytest.mark.parametrize("retry_after", [None, 30.0], ids=["pacing", "retry-after"])
def test_no_call_starts_after_the_deadline(retry_after):
    sched, log = scheduler(per_channel=1.0), []
    deadline = sched.deadline = sched.clock.now() + 5.5
    fail = {2: SlackRateLimited(POST, retry_after)} if retry_after else None
    run(sched, [FakeLane(sched, "C1", posts(20), log, fail=fail)])
    assert sched.stop_reason == "deadline"
    last = max(c.t for c in log)
    assert last < deadline, f"a call started {last - deadline:.2f} s after the deadline"


def test_finishing_work_is_not_reported_as_a_deadline_stop():
    # Each call takes 0.6 s: the third and last post starts before the deadline, ends after it.
    sched, log = scheduler(per_channel=1.0), []
    deadline = sched.deadline = sched.clock.now() + 2.5
    lane = FakeLane(sched, "C1", posts(3), log, latency=0.6)
    finished, _ = run(sched, [lane])
    assert lane.next_call() is None and max(c.t for c in log) < deadline  # all done in time
    assert finished is True
    assert sched.stop_reason is None


def test_a_fatal_error_in_one_lane_propagates_and_stops_the_others():
    sched, log = scheduler(per_channel=1.0, workspace=5.0), []
    failing = FakeLane(sched, "bad", posts(10), log, fail={2: AuthError("token revoked")})
    other = FakeLane(sched, "good", posts(20), log)
    with pytest.raises(AuthError, match="token revoked"):
        sched.run([failing, other], workers=1)
    assert sched.stop_reason == "fatal"
    failed_at = next(c.t for c in log if c.channel == "bad" and c.item == 2)
    assert all(c.t <= failed_at for c in log)  # nothing called after the fatal error
    assert failing.index == 2 and other.index < 20


# ---------------------------------------------------------------------------- threads


def test_threaded_run_keeps_order_and_channel_spacing_on_the_real_clock():
    # 20 posts/s per channel, a workspace cap far above it: without per-channel pacing four
    # workers would post a channel's items ~2.5 ms apart. Takes about 0.25 s.
    rate, n = 20.0, 6
    sched, log = scheduler(per_channel=rate, workspace=400.0, clock=RealClock()), []
    lanes = [FakeLane(sched, f"C{i}", posts(n), log) for i in range(4)]
    assert sched.run(lanes, workers=4) is True
    assert all(lane.overlaps == 0 for lane in lanes)  # one call in flight per lane
    channels = by_channel(log)
    assert set(channels) == {f"C{i}" for i in range(4)}
    for calls in channels.values():
        assert [c.item for c in calls] == list(range(n))
        # 10 ms of slack for thread wake-up jitter between the grant and the log entry.
        assert min(gaps([c.t for c in calls])) >= 1 / rate - 0.010



class TickingClock(FakeClock):
    """A clock that moves a little every time it is read, as a real one does between looks:
    more than a workspace slot at a high rate scale."""

    def now(self) -> float:
        self.t += 0.01
        return self.t


def test_lanes_due_together_never_live_lock_on_a_moving_clock():
    # Two channels both due, on a clock that moves between the scheduler's looks: reading it
    # afresh at each look made each lane seem later than the other, forever (seen at rate scale
    # 400). The pick now judges every lane at one instant.
    import threading

    sched = scheduler(per_channel=1000.0, workspace=2000.0, clock=TickingClock())
    log: list[Call] = []
    lanes = [FakeLane(sched, c, posts(20), log) for c in ("a", "b", "c")]
    done: list[bool] = []
    worker = threading.Thread(target=lambda: done.append(sched.run(lanes, workers=1)), daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "the scheduler live-locked"
    assert done == [True] and len(log) == 60


def test_lanes_fed_while_running_are_all_done_and_the_run_waits_for_the_feed():
    """A channel planned while others are still exported joins the running import: the run
    keeps going while the feed is open (even with nothing to do), takes every lane it is fed,
    and ends once the feed closes and they are done."""
    import threading

    from migrate.load.feed import LaneFeed

    sched, log = scheduler(per_channel=50.0, workspace=400.0, clock=RealClock()), []
    feed = LaneFeed()
    first = [FakeLane(sched, "C0", [CREATE, *posts(3)], log)]
    later = [FakeLane(sched, f"C{i}", [CREATE, *posts(3)], log) for i in range(1, 4)]
    result: list[bool] = []
    runner = threading.Thread(target=lambda: result.append(sched.run(first, workers=3, feed=feed)))
    runner.start()
    for lane in later:                       # arriving one by one, after C0 is long done
        threading.Event().wait(0.15)
        assert runner.is_alive()             # an open feed keeps the run waiting for more
        feed.add(lane)
    threading.Event().wait(0.15)
    assert runner.is_alive()
    feed.close()
    runner.join(5)
    assert not runner.is_alive() and result == [True]
    channels = by_channel(log)
    assert sorted(channels) == ["C0", "C1", "C2", "C3"]
    for calls in channels.values():
        assert [c.item for c in calls] == [0, 1, 2, 3]
