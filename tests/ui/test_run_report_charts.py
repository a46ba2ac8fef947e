"""The figures behind the run report's charts: the scheduler's timeline of calls, posting
calls and 429s (SchedulerStats.timeline), bounded in size for a run of any length."""

from __future__ import annotations

from migrate.load.scheduler import Timeline

from .hostile import _stats


def test_the_scheduler_counts_posts_and_429s_over_time():
    timeline = _stats().timeline.as_dict()
    series = timeline["series"]
    assert sum(series["posts"]) == 300 and sum(series["calls"]) == 300
    assert sum(series["ratelimited"]) == 10
    first = next(i for i, n in enumerate(series["ratelimited"]) if n)
    assert 55 <= first * timeline["bucket_s"] <= 61          # the burst in the second minute
    assert len({len(v) for v in series.values()}) == 1       # aligned series


def test_a_long_run_keeps_a_bounded_timeline_and_every_count():
    timeline = Timeline()
    for second in range(0, 10 * 3600, 3):                      # ten hours, a post every 3 s
        timeline.add("posts", 5000.0 + second)
    counts = timeline.series["posts"]
    assert len(counts) <= Timeline.MAX_BUCKETS and sum(counts) == 12_000
    assert timeline.width == 256.0                            # about four minutes a bucket
