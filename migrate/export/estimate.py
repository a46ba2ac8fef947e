"""How long the export at the start of the next `migrate run` will take.

After a full export (the one `migrate plan` makes), the next is incremental: one $batch opening
the directory and the teams listing, then, side by side, a first page of every team's message
stream (TEAMS_IN_FLIGHT at once) and the first pages of the people's chat streams (20 per
$batch, BATCHES_IN_FLIGHT at once). Each of those is a round trip; their number, not Graph's limits, sets the time, unless there are so many
teams that the tenant's 200 requests/s for getAllMessages does
(https://learn.microsoft.com/graph/throttling-limits).

The round trip is a constant, not this machine's measure, so the same data gives the same
plan: a page of channel messages took ≈0.28 s against Graph (≈180 messages/s read page after
page, measured from outside on a fresh tenant, issue 16).
"""

from __future__ import annotations

import math

from migrate.export.chats import BATCHES_IN_FLIGHT, PEOPLE_PER_BATCH
from migrate.export.exporter import TEAMS_IN_FLIGHT
from migrate.export.routes import classify

GRAPH_ROUND_TRIP_S = 0.28
FIXED_ROUNDS = 1            # the opening $batch
ALL_MESSAGES_RATE = classify("/teams/x/channels/getAllMessages").tenant_rate


def export_left_seconds(teams: int, chat_readers: int, rate_scale: float = 1.0) -> float:
    """The next run's incremental export of `teams` teams and `chat_readers` people's chats."""
    if not teams and not chat_readers:
        return 0.0
    rounds = FIXED_ROUNDS + max(math.ceil(teams / TEAMS_IN_FLIGHT),
                                math.ceil(chat_readers / (PEOPLE_PER_BATCH * BATCHES_IN_FLIGHT)))
    return max(rounds * GRAPH_ROUND_TRIP_S, teams / (ALL_MESSAGES_RATE * rate_scale))
