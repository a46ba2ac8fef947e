"""Timestamps are compared as instants: Graph trims fractional zeros and may send 7 digits."""

from __future__ import annotations

import datetime as dt

from migrate.timestamps import EPOCH_MIN, instant_or_min, parse_instant


def test_graph_spellings_of_the_same_instant_are_equal():
    same = ["2024-03-05T14:32:07.080Z", "2024-03-05T14:32:07.08Z", "2024-03-05T14:32:07.0800000Z",
            "2024-03-05T15:32:07.08+01:00"]
    assert len({parse_instant(s) for s in same}) == 1
    assert parse_instant("2024-03-05T14:32:07.3Z") > parse_instant("2024-03-05T14:32:07.08Z")
    # As text, "…07Z" sorts after "…07.5Z" ('Z' > '.'): the instants say otherwise.
    assert parse_instant("2024-03-05T14:32:07Z") < parse_instant("2024-03-05T14:32:07.5Z")


def test_naive_stamps_are_utc_and_bad_ones_are_none():
    assert parse_instant("2024-03-05T14:32:07") == dt.datetime(2024, 3, 5, 14, 32, 7, tzinfo=dt.UTC)
    for bad in (None, "", "  ", "yesterday", 42):
        assert parse_instant(bad) is None
    assert instant_or_min("nonsense") == EPOCH_MIN
