"""Shared channels where a tenant's getAllMessages leaves them out.

getAllMessages is documented for a team's standard and private channels
(https://learn.microsoft.com/graph/api/channel-getallmessages); whether shared channels come too
is not said. After each getAllMessages export, a shared channel it gave no message of is asked
for one directly. If Graph has one there, this tenant's getAllMessages leaves shared channels
out: the store remembers it, and from then on their teams are read again on every export and
their history read channel by channel (stored by id, so nothing is stored twice).
"""

from __future__ import annotations

from collections.abc import Iterator

from migrate.export.client import GraphClient
from migrate.export.errors import GraphNotFound, GraphRequestError, GraphUnavailable
from migrate.export.messages import PREFER_ALL_ENUMS
from migrate.store import Store
from migrate.store import teams_objects as teams_store

SHARED = ("shared", "unknownFutureValue")   # membership types of a shared channel
SCOPE = "quirks:shared-channels-apart"       # the store's memory (an export checkpoint)


class SharedChannels:
    def __init__(self, client: GraphClient, store: Store, run_id: int | None) -> None:
        self.client = client
        self.store = store
        self.run_id = run_id
        self.apart = store.checkpoint(SCOPE) is not None   # known to be left out

    def read_apart(self, membership_type: str | None) -> bool:
        """Is this channel's history read channel by channel (beside getAllMessages)?"""
        return self.apart and membership_type in SHARED

    def teams(self) -> set[str]:
        """The teams read again on every export: those with a shared channel, once known apart."""
        if not self.apart:
            return set()
        return {team for team, _channel in teams_store.channels_of_types(self.store, SHARED)}

    def found_apart(self, team_ids: set[str]) -> bool:
        """After a getAllMessages export: does Graph hold messages of a shared channel of these
        teams that the export gave none of? If so it is remembered, and True."""
        if self.apart:
            return False
        for team_id, channel_id in teams_store.channels_of_types(self.store, SHARED, empty=True):
            if team_id not in team_ids:
                continue
            try:
                probe = self.client.get_json(f"/teams/{team_id}/channels/{channel_id}/messages"
                                             "?$top=1", headers=PREFER_ALL_ENUMS)
            except (GraphNotFound, GraphRequestError, GraphUnavailable):
                continue              # gone, or unreadable: its team's next read says so
            if probe.get("value"):
                self.store.save_checkpoint(SCOPE, next_link=None, watermark=None,
                                           status="complete", run_id=self.run_id)
                self.apart = True
                return True
        return False

    def channels(self, team_ids: set[str]) -> Iterator[tuple[str, str]]:
        """(team id, channel id) of every shared channel of these teams."""
        for team_id, channel_id in teams_store.channels_of_types(self.store, SHARED):
            if team_id in team_ids:
                yield team_id, channel_id
