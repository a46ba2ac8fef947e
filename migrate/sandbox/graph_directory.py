"""The directory side of the Graph emulator's tenant state: users and the teams' groups.

Lookups (a user by id or userPrincipalName, a team's group and its members and owners) and the
control operations that change them (users added, changed, deleted; teams created and
changed; team membership, which is group membership). Each change is logged in `changes` for
the delta routes (graph_changes.py, graph_delta.py); channel and message changes (graph_store.py)
are not directory changes.
"""

from __future__ import annotations

import re
import threading
import uuid
from typing import TYPE_CHECKING, Any

from migrate.sandbox.graph_changes import GROUPS, USERS, DirectoryLog
from migrate.sandbox.graph_odata import iso_from_millis
from migrate.sandbox.tenant import TeamsChannelData, TeamsTeamData

if TYPE_CHECKING:
    from migrate.sandbox.graph_store import TeamState

Json = dict[str, Any]


class GraphDirectory:
    """Mixed into graph_store.GraphStore, whose lock, indexes, `_load_team`, `_require` and
    `_now_ms` it uses; a LazyStore borrows its lookups."""

    lock: threading.RLock
    users: list[Json]
    users_by_id: dict[str, Json]
    users_by_upn: dict[str, Json]
    changes: DirectoryLog
    domain: str
    teams_by_id: dict[str, TeamState]

    def user(self, key: str) -> Json | None:
        return self.users_by_id.get(key) or self.users_by_upn.get(key.lower())

    def group_json(self, state: TeamState) -> Json:
        """The Microsoft 365 group behind a team; a team's id is its group's id
        (https://learn.microsoft.com/graph/teams-list-all-teams)."""
        team = state.team
        nickname = re.sub(r"[^A-Za-z0-9]", "", team.get("displayName") or "") or team["id"][:8]
        return {"id": team["id"], "displayName": team.get("displayName"),
                "description": team.get("description"), "visibility": team.get("visibility"),
                "mail": team.get("mail") or f"{nickname}@{self.domain}", "mailNickname": nickname,
                "mailEnabled": True, "securityEnabled": False, "groupTypes": ["Unified"],
                "createdDateTime": team.get("createdDateTime"),
                "resourceProvisioningOptions": ["Team"], **state.group}

    @staticmethod
    def group_links(state: TeamState) -> dict[str, list[str]]:
        """The group's members and owners (user ids): the team's members, owners by role."""
        members = list(dict.fromkeys(m["userId"] for m in state.members if m.get("userId")))
        owners = list(dict.fromkeys(m["userId"] for m in state.members
                                    if m.get("userId") and "owner" in (m.get("roles") or [])))
        return {"members": members, "owners": owners}

    def _log_links(self, team_id: str, members: list[Json], *, added: bool) -> None:
        """Team membership is group membership: log it for /groups/delta (members@delta).
        Channel membership is not (it belongs to Teams, not to the directory)."""
        users = [m["userId"] for m in members if m.get("userId")]
        owners = [m["userId"] for m in members if m.get("userId") and "owner" in (m.get("roles") or [])]
        if users:
            self.changes.record(GROUPS, team_id, links={
                "members": [(u, added) for u in users], "owners": [(u, added) for u in owners]})

    def add_user(self, user: Json) -> Json:
        with self.lock:
            user_id = str(user.get("id") or uuid.uuid4())
            if user_id in self.users_by_id:
                raise ValueError(f"user {user_id} already exists")
            new = {"businessPhones": [], "otherMails": [], "proxyAddresses": [], "imAddresses": [],
                   **user, "id": user_id}
            self.users.append(new)
            self._index_user(None, new)
            self.changes.record(USERS, user_id, properties=("*",))
            return new

    def update_user(self, user_id: str, changes: Json) -> Json:
        with self.lock:
            old = self.users_by_id.get(user_id)
            if old is None:
                raise KeyError(f"no user {user_id}")
            if "id" in changes:
                raise ValueError("cannot change id")
            new = {**old, **changes}   # a new dict: readers may hold the old one
            self.users[self.users.index(old)] = new
            self._index_user(old, new)
            self.changes.record(USERS, user_id, properties=tuple(changes))
            return new

    def delete_user(self, user_id: str) -> Json:
        """Delete a user: restorable for 30 days, which delta reports as
        `"@removed": {"reason": "changed"}`
        (https://learn.microsoft.com/graph/delta-query-overview)."""
        with self.lock:
            old = self.users_by_id.get(user_id)
            if old is None:
                raise KeyError(f"no user {user_id}")
            self.users.remove(old)
            self._index_user(old, None)
            self.changes.record(USERS, user_id, removed="changed")
            return old

    def _index_user(self, old: Json | None, new: Json | None) -> None:
        if old is not None:
            self.users_by_id.pop(old["id"], None)
            if old.get("userPrincipalName"):
                self.users_by_upn.pop(old["userPrincipalName"].lower(), None)
        if new is not None:
            self.users_by_id[new["id"]] = new
            if new.get("userPrincipalName"):
                self.users_by_upn[new["userPrincipalName"].lower()] = new

    def add_team(self, team: Json, members: list[Json], channels: list[Json],
                 group: Json | None = None) -> Json:
        """Create a team (and its group) with members and channels ({"channel", "members"});
        without channels it gets a General channel, as every team has."""
        with self.lock:
            stamp = iso_from_millis(self._now_ms())
            data = {"id": str(uuid.uuid4()), "createdDateTime": stamp, "visibility": "private",
                    "description": None, **team}
            if not data.get("displayName"):
                raise ValueError("a team needs a displayName")
            specs = channels or [{"channel": {"displayName": "General"}}]
            state = self._load_team(TeamsTeamData(
                data, list(members),
                [TeamsChannelData({"createdDateTime": stamp, **c["channel"]}, list(c.get("members") or []))
                 for c in specs], dict(group or {})))
            links = self.group_links(state)
            self.changes.record(GROUPS, data["id"], properties=("*",), links={
                rel: [(u, True) for u in ids] for rel, ids in links.items()})
            return state.team

    def update_team(self, team_id: str, changes: Json) -> Json:
        """PATCH a team (displayName, description, visibility, isArchived…). Its group's
        properties follow the team's, so a change to them shows in /groups/delta."""
        with self.lock:
            state = self._require(team_id, None)[0]
            fixed = {"id", "createdDateTime"} & changes.keys()
            if fixed:
                raise ValueError(f"cannot change {', '.join(sorted(fixed))}")
            before = self.group_json(state)
            state.team = {**state.team, **changes}
            after = self.group_json(state)
            changed = tuple(k for k in after if after[k] != before.get(k))
            if changed:
                self.changes.record(GROUPS, team_id, properties=changed)
            return state.team
