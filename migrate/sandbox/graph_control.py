"""The Graph emulator's control operations (/_control/…, no auth): test hooks for counters
and faults, and changes standing in for Teams users — messages, channels, members, the
directory (users, teams) and its delta tokens; chats' own are graph_chat_resources.chat_control.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from migrate.sandbox.faults import FaultPlan
from migrate.sandbox.graph_chat_resources import chat_control

if TYPE_CHECKING:
    from migrate.sandbox.graph_emulator import GraphEmulator
    from migrate.sandbox.graph_store import GraphStore


def control(app: GraphEmulator, parts: list[str], method: str, data: Any) -> tuple[int, Any] | None:
    """(status, body) of the control operation `method /_control/<parts>`, or None if there is
    none. Unknown teams, channels or messages raise KeyError; bad bodies ValueError."""
    if parts == ["counters"] and method == "GET":
        return 200, app.counters()
    if parts == ["counters", "reset"] and method == "POST":
        app.reset_counters()
        return 200, app.counters()
    if parts == ["faults"] and method == "POST":
        plan = FaultPlan(dict(data.get("rates") or {}), tuple(data.get("only") or ()))
        app.configure_faults(int(data.get("seed", 0)), plan)
        return 200, {"seed": int(data.get("seed", 0)), "rates": plan.rates, "only": list(plan.only)}
    if parts == ["messages"] and method == "POST":
        return 201, app.add_message(_need(data, "teamId"), _need(data, "channelId"),
                                    _need(data, "message"))
    if len(parts) == 4 and parts[0] == "messages" and method == "PATCH":
        return 200, app.edit_message(*parts[1:], data)
    if len(parts) == 4 and parts[0] == "messages" and method == "DELETE":
        return 200, app.delete_message(*parts[1:])
    if parts == ["channels"] and method == "POST":
        return 201, app.add_channel(_need(data, "teamId"), _need(data, "channel"),
                                    data.get("members") or [])
    if parts == ["members"] and method == "POST":
        return 201, app.add_member(_need(data, "teamId"), _need(data, "member"),
                                   data.get("channelId"))
    return (_directory_control(app.store, parts, method, data)
            or chat_control(app, parts, method, data))


def _directory_control(store: GraphStore, parts: list[str], method: str, data: Any
                       ) -> tuple[int, Any] | None:
    """Changes to users, teams and team membership, which the delta routes report:
    POST /_control/users {"user"}, PATCH|DELETE /_control/users/{id}, POST /_control/teams
    {"team", "members"?, "channels"?: [{"channel", "members"?}]}, PATCH /_control/teams/{id},
    DELETE /_control/members/{teamId}[/{channelId}]/{userId}, POST /_control/delta
    {"tokenSeconds"?: lifetime of delta tokens, "resync"?: true = 410 for every token}."""
    if parts == ["users"] and method == "POST":
        return 201, dict(store.add_user(_need(data, "user")))
    if len(parts) == 2 and parts[0] == "users" and method == "PATCH":
        return 200, dict(store.update_user(parts[1], data))
    if len(parts) == 2 and parts[0] == "users" and method == "DELETE":
        return 200, dict(store.delete_user(parts[1]))
    if parts == ["teams"] and method == "POST":
        return 201, dict(store.add_team(_need(data, "team"), data.get("members") or [],
                                        data.get("channels") or [], data.get("group")))
    if len(parts) == 2 and parts[0] == "teams" and method == "PATCH":
        return 200, dict(store.update_team(parts[1], data))
    if len(parts) in (3, 4) and parts[0] == "members" and method == "DELETE":
        channel = parts[2] if len(parts) == 4 else None
        return 200, store.remove_member(parts[1], parts[-1], channel)
    if parts == ["delta"] and method == "POST":
        with store.lock:
            if data.get("tokenSeconds") is not None:
                store.changes.token_seconds = float(data["tokenSeconds"])
            if data.get("resync"):
                store.changes.resync()
            return 200, {"tokenSeconds": store.changes.token_seconds,
                         "resetBefore": store.changes.reset_before}
    return None


def _need(data: Any, key: str) -> Any:
    if not isinstance(data, dict) or data.get(key) is None:
        raise ValueError(f"the request body needs {key!r}")
    return data[key]
