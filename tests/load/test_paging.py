"""The Slack cursor paginator: every page in order, through the scheduler, and a cursor Slack
hands back twice ends the listing instead of looping forever."""

from __future__ import annotations

from migrate.load.paging import SlackCursor
from migrate.retry import RetryPolicy, parse_retry_after, retry_after_of


class Admit:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None]] = []

    def call(self, method, channel, fn):
        self.calls.append((method, channel))
        return fn()


def pages(cursors: dict[str, tuple[list[int], str]]):
    asked: list[str] = []

    def fetch(cursor: str) -> dict:
        asked.append(cursor)
        items, following = cursors[cursor]
        return {"messages": items, "response_metadata": {"next_cursor": following}}
    return fetch, asked


def test_every_page_in_order_through_the_scheduler():
    fetch, asked = pages({"": ([1, 2], "a"), "a": ([], "b"), "b": ([3], "")})
    admit = Admit()
    cursor = SlackCursor(admit, "conversations.history", fetch, channel="C1")
    assert list(cursor.items("messages")) == [1, 2, 3]     # an empty page does not end it
    assert asked == ["", "a", "b"] and admit.calls == [("conversations.history", "C1")] * 3
    assert not cursor.repeated


def test_a_repeated_cursor_ends_the_listing():
    fetch, asked = pages({"": ([1], "a"), "a": ([2], "b"), "b": ([3], "a")})
    cursor = SlackCursor(Admit(), "users.list", fetch)
    assert list(cursor.items("messages")) == [1, 2, 3]
    assert asked == ["", "a", "b"] and cursor.repeated


def test_one_retry_after_parser_for_both_sides():
    assert parse_retry_after("30") == 30.0 and parse_retry_after("0.25") == 0.25
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0   # in the past
    assert retry_after_of({"retry-after": ["2"]}) == 2.0 and retry_after_of({}) is None
    policy = RetryPolicy(attempts=4, backoff_cap=3.0)
    assert [policy.delay(a) for a in range(4)] == [0.5, 1.0, 2.0, 3.0]
    assert policy.delay(0, retry_after=7.5) == 7.5
