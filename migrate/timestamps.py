"""Timestamps as instants, in one place.

Graph writes `2024-03-05T14:32:07.08Z`: it trims trailing zeros of the fraction (`.08Z`, `.3Z`,
none at all) and some payloads carry seven digits; the store and the ledger write milliseconds
with `Z`. Compared as text these sort wrongly, so every comparison goes through `parse_instant`.
"""

from __future__ import annotations

import datetime as dt
import re

_LONG_FRACTION = re.compile(r"(\.\d{6})\d+")   # Python reads at most microseconds
EPOCH_MIN = dt.datetime.min.replace(tzinfo=dt.UTC)


def parse_instant(stamp: str | None) -> dt.datetime | None:
    """An aware datetime (naive stamps are UTC), or None when empty or unreadable."""
    if not isinstance(stamp, str) or not stamp.strip():
        return None
    try:
        moment = dt.datetime.fromisoformat(_LONG_FRACTION.sub(r"\1", stamp.strip().replace("Z", "+00:00")))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def instant_or_min(stamp: str | None) -> dt.datetime:
    """For sorting and comparing: unknown stamps count as the earliest instant."""
    return parse_instant(stamp) or EPOCH_MIN
