"""Typed records from the store: the only place that reads the raw Graph JSON of users, teams,
channels and memberships (DESIGN §2: raw Graph dicts never leave the Graph adapter).

Every loader returns its records in a stable order (by id), so everything built from them
(the Plan, its reports) is deterministic.
"""

from __future__ import annotations

import json
from typing import Any

from migrate.model import (
    TeamsChannel,
    TeamsChannelId,
    TeamsMember,
    TeamsTeam,
    TeamsTeamId,
    TeamsUser,
    TeamsUserId,
)
from migrate.store import Store

Json = dict[str, Any]


def _strings(value: Any) -> tuple[str, ...]:
    """A Graph string collection (otherMails, proxyAddresses, roles): null and blanks dropped."""
    if not isinstance(value, list):
        return ()
    return tuple(s.strip() for s in value if isinstance(s, str) and s.strip())


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def teams_user(raw: Json) -> TeamsUser:
    """A Graph `user` → TeamsUser. A user without a displayName is named by an address."""
    mail = _text(raw.get("mail"))
    upn = _text(raw.get("userPrincipalName"))
    enabled = raw.get("accountEnabled")
    return TeamsUser(
        id=TeamsUserId(raw["id"]),
        display_name=_text(raw.get("displayName")) or mail or upn or raw["id"],
        mail=mail,
        user_principal_name=upn,
        other_mails=_strings(raw.get("otherMails")),
        proxy_addresses=_strings(raw.get("proxyAddresses")),
        user_type=_text(raw.get("userType")) or "Member",
        account_enabled=True if enabled is None else bool(enabled),
    )


def teams_team(raw: Json) -> TeamsTeam:
    return TeamsTeam(
        id=TeamsTeamId(raw["id"]),
        display_name=_text(raw.get("displayName")) or raw["id"],
        description=_text(raw.get("description")),
        visibility=_text(raw.get("visibility")),
        is_archived=bool(raw.get("isArchived")),
        created_at=_text(raw.get("createdDateTime")),
    )


def teams_channel(raw: Json, team_id: str) -> TeamsChannel:
    return TeamsChannel(
        id=TeamsChannelId(raw["id"]),
        team_id=TeamsTeamId(team_id),
        display_name=_text(raw.get("displayName")) or raw["id"],
        description=_text(raw.get("description")),
        membership_type=_text(raw.get("membershipType")) or "standard",
        created_at=_text(raw.get("createdDateTime")),
    )


def teams_member(raw: Json) -> TeamsMember | None:
    """A conversationMember → TeamsMember; None for members without an Entra user id
    (anonymous guests, phone users, …), who cannot be matched to anyone."""
    user_id = _text(raw.get("userId"))
    if user_id is None:
        return None
    return TeamsMember(user_id=TeamsUserId(user_id), display_name=_text(raw.get("displayName")),
                       roles=_strings(raw.get("roles")))


def load_teams_users(store: Store) -> list[TeamsUser]:
    return [teams_user(json.loads(row["raw"]))
            for row in store.query("SELECT raw FROM teams_users ORDER BY id")]


def load_teams(store: Store) -> list[TeamsTeam]:
    return [teams_team(json.loads(row["raw"]))
            for row in store.query("SELECT raw FROM teams_teams ORDER BY id")]


def load_channels(store: Store) -> list[TeamsChannel]:
    return [teams_channel(json.loads(row["raw"]), row["team_id"])
            for row in store.query("SELECT team_id, raw FROM teams_channels ORDER BY team_id, id")]


def _members(store: Store, table: str, key: str) -> dict[str, list[TeamsMember]]:
    out: dict[str, list[TeamsMember]] = {}
    seen: set[tuple[str, str]] = set()
    for row in store.query(f"SELECT {key} AS owner, raw FROM {table} ORDER BY {key}, user_id, "
                           "membership_id"):
        member = teams_member(json.loads(row["raw"]))
        members = out.setdefault(row["owner"], [])
        if member is not None and (row["owner"], member.user_id) not in seen:
            seen.add((row["owner"], member.user_id))
            members.append(member)
    return out


def load_team_members(store: Store) -> dict[TeamsTeamId, list[TeamsMember]]:
    """Members per team (Entra users only, each once, by user id)."""
    return {TeamsTeamId(k): v
            for k, v in _members(store, "teams_team_members", "team_id").items()}


def load_channel_members(store: Store) -> dict[TeamsChannelId, list[TeamsMember]]:
    """A channel's own members (private and shared channels; standard ones use the team's)."""
    return {TeamsChannelId(k): v
            for k, v in _members(store, "teams_channel_members", "channel_id").items()}
