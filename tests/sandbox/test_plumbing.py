"""The emulators' shared plumbing: token buckets, Retry-After formatting, seeded faults."""

from __future__ import annotations

import pytest

from migrate.sandbox.faults import FaultInjector, FaultPlan
from migrate.sandbox.ratelimit import RateLimiter, format_retry_after


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_admits_burst_then_refuses_with_exact_wait():
    clock = FakeClock()
    limiter = RateLimiter(clock)
    scope = [("channel:C", 1.0, 1.0)]
    assert limiter.check(scope) == 0.0
    assert limiter.check(scope) == pytest.approx(1.0)
    clock.now += 0.25
    assert limiter.check(scope) == pytest.approx(0.75)
    clock.now += 0.75
    assert limiter.check(scope) == 0.0


def test_request_needs_a_token_in_every_scope_and_refusal_costs_nothing():
    clock = FakeClock()
    limiter = RateLimiter(clock)
    team = ("team:T", 4.0, 4.0)
    admitted = sum(limiter.check([(f"channel:{i}", 1.0, 1.0), team]) == 0 for i in range(10))
    assert admitted == 4  # the team's 4/s binds across channels
    # Channel 9 was refused because of the team only, and the refusal took none of its token:
    # as soon as the team has one again (0.25 s at 4/s), channel 9 is admitted.
    clock.now += 0.25
    assert limiter.check([("channel:9", 1.0, 1.0), team]) == 0.0
    assert limiter.check([("channel:9", 1.0, 1.0), team]) == pytest.approx(1.0)


def test_sustained_rate_matches_configured_rate():
    clock = FakeClock()
    limiter = RateLimiter(clock)
    admitted = 0
    for _ in range(10_000):  # 10 s of attempts every millisecond
        if limiter.check([("tenant", 20.0, 20.0)]) == 0.0:
            admitted += 1
        clock.now += 0.001
    assert 200 <= admitted <= 220  # 20/s for 10 s, plus the initial burst


def test_zero_rate_means_unlimited():
    limiter = RateLimiter(FakeClock())
    assert all(limiter.check([("x", 0.0, 1.0)]) == 0.0 for _ in range(100))


@pytest.mark.parametrize("seconds, text", [(30, "30"), (1.2, "2"), (0.25, "0.250"), (0.0001, "0.001")])
def test_retry_after_format(seconds, text):
    assert format_retry_after(seconds) == text


def test_faults_are_reproducible_from_the_seed_and_filtered_by_target():
    plan = FaultPlan(rates={"http_503": 0.2, "reset": 0.1}, only=("messages",))
    a, b = FaultInjector(7, plan), FaultInjector(7, plan)
    draws_a = [a.draw("/v1.0/teams/T/channels/C/messages") for _ in range(200)]
    draws_b = [b.draw("/v1.0/teams/T/channels/C/messages") for _ in range(200)]
    assert draws_a == draws_b
    assert 20 <= draws_a.count("http_503") <= 60 and 5 <= draws_a.count("reset") <= 40
    assert a.draw("/v1.0/users") is None
    assert a.injected == {"http_503": draws_a.count("http_503"), "reset": draws_a.count("reset")}


def test_unknown_fault_kind_is_rejected():
    with pytest.raises(ValueError, match="unknown fault kind"):
        FaultInjector(0, FaultPlan(rates={"meteor": 0.1}))
    with pytest.raises(ValueError, match="between 0 and 1"):
        FaultInjector(0, FaultPlan(rates={"reset": 2}))
