"""Seeded fault injection shared by the emulators.

A `FaultPlan` maps fault kinds to probabilities; `FaultInjector.draw` decides, from a seeded
random generator, which fault (if any) hits the next request. The same seed and the same
request sequence give the same faults, so a failing test can be replayed.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

# Kinds understood by both emulators (each emulator documents which it uses):
#   "http_500", "http_503", "http_504"   answer with that status and the service's error body
#   "reset"                              close the connection without answering
#   "429_no_retry_after"                 429 without a Retry-After header (Graph, old reports)
#   "drop_after_processing"              do the work, then close the connection (Slack posts)
#   "empty_page"                         (Graph) a page with no items whose nextLink leads on to
#                                        the page asked for (paging docs: a page may be empty)
#   "repeat_item"                        (Graph) a page that holds one of its items twice (a
#                                        message may come again while paging: read by id)
FAULT_KINDS = (
    "http_500",
    "http_503",
    "http_504",
    "reset",
    "429_no_retry_after",
    "drop_after_processing",
    "empty_page",
    "repeat_item",
)


@dataclass
class FaultPlan:
    rates: dict[str, float] = field(default_factory=dict)
    # Only requests whose path/method name contains one of these strings are eligible
    # (empty: every request). Lets a test hit only chat.postMessage, say.
    only: tuple[str, ...] = ()

    def validate(self) -> None:
        for kind, rate in self.rates.items():
            if kind not in FAULT_KINDS:
                raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(FAULT_KINDS)}")
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"fault rate for {kind} must be between 0 and 1, got {rate}")


class FaultInjector:
    def __init__(self, seed: int = 0, plan: FaultPlan | None = None) -> None:
        self._lock = threading.Lock()
        self.configure(seed, plan or FaultPlan())
        self.injected: dict[str, int] = {}

    def configure(self, seed: int, plan: FaultPlan) -> None:
        plan.validate()
        with self._lock:
            self._random = random.Random(seed)
            self.plan = plan

    def draw(self, target: str) -> str | None:
        """The fault to inject for a request to `target`, or None."""
        plan = self.plan
        if not plan.rates:
            return None
        if plan.only and not any(s in target for s in plan.only):
            return None
        with self._lock:
            roll = self._random.random()
            acc = 0.0
            for kind in FAULT_KINDS:
                acc += plan.rates.get(kind, 0.0)
                if roll < acc:
                    self.injected[kind] = self.injected.get(kind, 0) + 1
                    return kind
        return None
