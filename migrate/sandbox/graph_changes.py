"""The Graph emulator's change log of directory objects: what `/users/delta` and `/groups/delta`
replay (graph_delta.py).

Every mutation of a user or of a team's group (control operations, graph_store.py) appends one
entry with a new sequence number; a delta token remembers the sequence number it was issued at,
and the next round reports every object with an entry after it. Entries are never rewritten,
so the changes between two sequence numbers are stable while a round is paged.

Only what the real service tracks is logged (https://learn.microsoft.com/graph/delta-query-groups,
https://learn.microsoft.com/graph/api/group-delta):
a group's own properties and its members and owners. Channels, channel membership (private and
shared channels) and messages are Teams objects, not directory objects: they never appear in
`/groups/delta`.
"""

from __future__ import annotations

import uuid
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]
# "For directory objects, the limit is seven days"
# (https://learn.microsoft.com/graph/delta-query-overview, "Token duration").
TOKEN_SECONDS = 7 * 86_400
USERS, GROUPS = "users", "groups"


@dataclass(frozen=True)
class Change:
    seq: int
    kind: str                    # USERS or GROUPS
    object_id: str
    properties: tuple[str, ...] = ()        # properties set by this change ("*": created)
    removed: str | None = None              # "changed" (restorable) or "deleted" (gone)
    # relationship name ("members", "owners") → ((user id, added?), ...)
    links: tuple[tuple[str, tuple[tuple[str, bool], ...]], ...] = ()


@dataclass
class Net:
    """What a round reports for one object: the net effect of its changes in the window."""

    created: bool = False
    properties: set[str] = field(default_factory=set)
    removed: str | None = None
    links: dict[str, dict[str, bool]] = field(default_factory=dict)   # rel → user id → added?


class DirectoryLog:
    def __init__(self) -> None:
        self.seq = 0
        self.entries: list[Change] = []
        # A token names the log it was issued by: after an emulator restart the state it
        # points into is gone, which Graph answers as syncStateNotFound.
        self.instance = uuid.uuid4().hex[:12]
        # Tokens issued before this sequence number get 410 Gone ("Synchronization reset",
        # https://learn.microsoft.com/graph/delta-query-overview); moved by the control API.
        self.reset_before = 0
        self.token_seconds: float = TOKEN_SECONDS
        # kind → ((seq, count), sorted ids): the first round's keyset, rebuilt on a change
        self.sorted_ids: dict[str, tuple[tuple[int, int], list[str]]] = {}

    def record(self, kind: str, object_id: str, *, properties: tuple[str, ...] = (),
               removed: str | None = None,
               links: dict[str, list[tuple[str, bool]]] | None = None) -> None:
        """Append one change (callers hold the store's lock)."""
        self.seq += 1
        packed = tuple((rel, tuple(pairs)) for rel, pairs in sorted((links or {}).items()) if pairs)
        self.entries.append(Change(self.seq, kind, object_id, tuple(properties), removed, packed))

    def resync(self) -> int:
        """Every token issued so far must start over (410 Gone)."""
        self.reset_before = self.seq + 1
        self.seq += 1
        return self.seq

    def changes(self, kind: str, after: int, upto: int) -> dict[str, Net]:
        """Net changes of `kind` objects with after < seq <= upto, by object id."""
        start = bisect_right(self.entries, after, key=lambda c: c.seq)
        end = bisect_right(self.entries, upto, key=lambda c: c.seq)
        out: dict[str, Net] = {}
        for change in self.entries[start:end]:
            if change.kind != kind:
                continue
            net = out.setdefault(change.object_id, Net())
            if change.removed:
                net.removed = change.removed
                continue
            net.removed = None            # re-created after a removal in the same window
            if "*" in change.properties:
                net.created = True
            net.properties.update(change.properties)
            for rel, pairs in change.links:
                for user_id, added in pairs:
                    net.links.setdefault(rel, {})[user_id] = added
        return out
