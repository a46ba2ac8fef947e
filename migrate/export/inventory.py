"""The source inventory: every team and channel in scope, as Graph lists them now, or as the
store recorded them. `verify` compares it with Slack, so a team or channel that the export
(or the plan) missed is a reported gap, not a silent absence.

From Graph: `GET /teams` (every team: the groups filter misses older teams whose group lacks
"Team" in resourceProvisioningOptions, https://learn.microsoft.com/graph/api/teams-list) and each
team's channels, twenty teams per `$batch` round trip.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from migrate.config import Settings
from migrate.errors import AuthError
from migrate.export.client import GraphClient
from migrate.export.errors import GraphNotFound
from migrate.export.messages import PREFER_ALL_ENUMS
from migrate.export.records import load_channels, load_teams
from migrate.export.scope import team_in_scope
from migrate.store import Store

BATCH = 20  # requests per $batch, at most (https://learn.microsoft.com/graph/json-batching)


@dataclass(frozen=True)
class SourceChannel:
    team_id: str
    team_name: str
    channel_id: str
    name: str


@dataclass
class SourceInventory:
    origin: str                                   # "graph" or "store"
    teams: dict[str, str] = field(default_factory=dict)        # id → name
    channels: list[SourceChannel] = field(default_factory=list)
    unreadable: dict[str, str] = field(default_factory=dict)   # team id → why no channels

    def channels_of(self, team_id: str) -> list[SourceChannel]:
        return [c for c in self.channels if c.team_id == team_id]


def _in_scope(settings: Settings, team_id: str, name: str) -> bool:
    options = settings.export
    return (team_in_scope(team_id, name, options.include_teams, options.exclude_teams)
            and settings.owns_team(team_id, name))


def from_graph(client: GraphClient, settings: Settings) -> SourceInventory:
    inventory = SourceInventory("graph")
    for team in client.iter_items("/teams"):
        name = team.get("displayName") or team["id"]
        if _in_scope(settings, team["id"], name):
            inventory.teams[team["id"]] = name
    ids = sorted(inventory.teams)
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        answers = client.batch_get([{"url": f"/teams/{t}/channels", "headers": PREFER_ALL_ENUMS}
                                    for t in chunk])
        for team_id, answer in zip(chunk, answers, strict=True):
            if isinstance(answer, AuthError):
                raise answer                            # a missing grant: exit 3, say which
            if isinstance(answer, GraphNotFound):
                inventory.teams.pop(team_id)           # deleted since it was listed
                continue
            if isinstance(answer, Exception):
                inventory.unreadable[team_id] = str(answer)
                continue
            for channel in client.follow(answer, headers=PREFER_ALL_ENUMS):
                inventory.channels.append(SourceChannel(
                    team_id, inventory.teams[team_id], channel["id"],
                    channel.get("displayName") or channel["id"]))
    return inventory


def from_store(store: Store, settings: Settings) -> SourceInventory:
    inventory = SourceInventory("store")
    for team in load_teams(store):
        if _in_scope(settings, team.id, team.display_name):
            inventory.teams[team.id] = team.display_name
    for channel in load_channels(store):
        if channel.team_id in inventory.teams:
            inventory.channels.append(SourceChannel(channel.team_id, inventory.teams[channel.team_id],
                                                    channel.id, channel.display_name))
    with_channels = {c.team_id for c in inventory.channels}
    for team_id in inventory.teams:
        if team_id not in with_channels:
            inventory.unreadable[team_id] = "listed by Graph, but its channels were never read " \
                                            "(see the export warnings)"
    return inventory
