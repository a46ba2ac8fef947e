"""Event counts over time, in buckets that widen as a run goes on: the scheduler's granted
calls, posts and 429s, drawn as the run report's charts."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Timeline:
    """Counts per bucket of `width` seconds since the first event (the run report's charts).
    Past MAX_BUCKETS the width doubles and neighbours merge: a ten-hour run keeps 240 counts."""

    MAX_BUCKETS = 240
    width: float = 1.0
    start: float | None = None
    series: dict[str, list[int]] = field(default_factory=dict)

    def add(self, name: str, t: float) -> None:
        self.start = t if self.start is None else self.start
        while (i := int(max(0.0, t - self.start) // self.width)) >= self.MAX_BUCKETS:
            self.width *= 2
            self.series = {k: [sum(v[j:j + 2]) for j in range(0, len(v), 2)]
                           for k, v in self.series.items()}
        counts = self.series.setdefault(name, [])
        counts.extend([0] * (i + 1 - len(counts)))
        counts[i] += 1

    def as_dict(self) -> dict:
        size = max(map(len, self.series.values()), default=0)
        return {"bucket_s": self.width,
                "series": {k: v + [0] * (size - len(v)) for k, v in sorted(self.series.items())}}
