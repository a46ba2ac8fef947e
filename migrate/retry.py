"""How both clients retry, declared once (as dlt's retry policy): a bounded number of attempts,
jittered exponential backoff under a cap, and the server's Retry-After when it gives one — in
seconds, decimal seconds (emulators at a rate scale send those) or an HTTP date (RFC 9110
§10.2.3).

The Graph client retries 429s, 5xx, resets and timeouts; the Slack client retries only calls
that are safe to repeat (its 429s go to the scheduler, which owns every wait there).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import tenacity

T = TypeVar("T")


def parse_retry_after(value: Any, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After value; None when absent or unreadable."""
    if value is None:
        return None
    if isinstance(value, list | tuple):
        value = value[0] if value else None
        if value is None:
            return None
    text = str(value).strip()
    if not text:
        return None
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())


def retry_after_of(headers: Mapping[str, Any] | None) -> float | None:
    """Retry-After from a header mapping whatever the case of its name."""
    for key, value in dict(headers or {}).items():
        if str(key).lower() == "retry-after":
            return parse_retry_after(value)
    return None


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int                   # tries in all, the first included
    backoff_cap: float = 60.0       # seconds, the longest single wait
    multiplier: float = 0.5         # the first backoff, doubled at each attempt
    retry_after_cap: float = 3600.0  # a Retry-After longer than this is not believed

    def replace(self, **changes: Any) -> RetryPolicy:
        """This policy with some of its fields changed: a variant of a client's one policy
        (a quicker one for a single check) stays visibly derived from it."""
        return dataclasses.replace(self, **changes)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """The wait before attempt `attempt + 1` (0-based) when it is not jittered ($batch
        rounds, downloads): the server's Retry-After when given, else the backoff."""
        if retry_after is not None:
            return min(retry_after, self.retry_after_cap)
        return min(self.backoff_cap, self.multiplier * 2 ** attempt)

    def _wait(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            return min(float(retry_after), self.retry_after_cap)
        return tenacity.wait_random_exponential(multiplier=self.multiplier,
                                                max=self.backoff_cap)(state)

    def retrying(self, retry_on: type[BaseException] | tuple[type[BaseException], ...], *,
                 sleep: Callable[[float], None],
                 before_sleep: Callable[[tenacity.RetryCallState], None] | None = None
                 ) -> tenacity.Retrying:
        """A tenacity Retrying for exceptions of `retry_on` (an exception's `retry_after`
        attribute, when set, is the wait); the last one is re-raised."""
        return tenacity.Retrying(retry=tenacity.retry_if_exception_type(retry_on),
                                 stop=tenacity.stop_after_attempt(self.attempts),
                                 wait=self._wait, sleep=sleep, before_sleep=before_sleep,
                                 reraise=True)

    def run(self, fn: Callable[[], T], *,
            retry_on: type[BaseException] | tuple[type[BaseException], ...],
            sleep: Callable[[float], None],
            wait: Callable[[int, BaseException], float] | None = None,
            before_sleep: Callable[[BaseException, float], None] | None = None,
            wait_after_last: bool = False) -> T:
        """Call `fn` until it returns, at most `attempts` times, retrying exceptions of
        `retry_on`; any other exception, and the last of the retried ones, propagates as is.

        The wait after failed attempt n (0-based) is `wait(n, exception)`; by default the
        exception's `retry_after` when set, else jittered backoff. `before_sleep(exception,
        seconds)` hears of each wait before it is slept. With `wait_after_last` the last
        failure is waited for too (counted and slept) before it propagates."""

        def wait_for(state: tenacity.RetryCallState) -> float:
            if wait is None:
                return self._wait(state)
            return wait(state.attempt_number - 1, _failure(state))

        def tell(state: tenacity.RetryCallState) -> None:
            if before_sleep is not None:
                before_sleep(_failure(state), state.upcoming_sleep)

        def wait_then_raise(state: tenacity.RetryCallState) -> Any:
            tell(state)
            sleep(state.upcoming_sleep)
            raise _failure(state)

        retrying = tenacity.Retrying(retry=tenacity.retry_if_exception_type(retry_on),
                                     stop=tenacity.stop_after_attempt(self.attempts),
                                     wait=wait_for, sleep=sleep, before_sleep=tell, reraise=True,
                                     retry_error_callback=wait_then_raise if wait_after_last
                                     else None)
        return retrying(fn)


def _failure(state: tenacity.RetryCallState) -> BaseException:
    exc = state.outcome.exception() if state.outcome else None
    assert exc is not None  # tenacity waits only after an attempt that raised
    return exc
