"""The data a sandbox serves: a Teams tenant (Graph side) and a Slack workspace, on disk or in memory.

On disk, a sandbox folder (e.g. `examples/demo-tenant/`) looks like this; every object is in the
shape the real API returns it, so the emulators serve them as they are:

    graph/tenant.json                {"tenantId": "...", "displayName": "..."}
    graph/users.json                 [user, ...]                       (Graph `user`)
    graph/teams/<team-id>.json       {"team":     team,                (Graph `team`, incl. isArchived)
                                      "group":    {group fields},      (optional: the team's group
                                                   where it differs from the default, e.g.
                                                   "resourceProvisioningOptions": [] for an
                                                   older team the groups filter misses)
                                      "members":  [aadUserConversationMember, ...],
                                      "channels": [{"channel":  channel,
                                                    "members":  [conversationMember, ...],
                                                    "messages": [chatMessage, ...]}]}
                                     messages: roots and replies of the channel in one list, in
                                     any order; a reply carries `replyToId` = its root's id.
                                     `members` of a standard channel may be empty (the team's apply).
    graph/chats/<any-name>.json      {"chat":     chat,                (Graph `chat`: id, topic, chatType
                                                   oneOnOne | group | meeting, createdDateTime,
                                                   lastUpdatedDateTime, webUrl, tenantId,
                                                   onlineMeetingInfo for a meeting chat)
                                      "members":  [aadUserConversationMember, ...],
                                      "messages": [chatMessage, ...]}
                                     `members` are the CURRENT members only: someone who left is
                                     not listed, but their messages stay in `messages`. Messages
                                     carry chatId = the chat's id, channelIdentity and replyToId
                                     null; system events have `from` null and an `eventDetail`
                                     (membersAddedEventMessageDetail, membersDeletedEventMessageDetail…).
                                     Files are read in name order.
    graph/files/index.json           {"hostedContents": [{"messageId", "id", "contentType", "file",
                                                          "chatId"?}],
                                      "driveItems":     [{"driveId", "id", "name", "webUrl",
                                                          "mimeType", "file"}]}
                                     `webUrl` is what `reference` attachments carry as contentUrl;
                                     `file` names the bytes in graph/files/. A hosted content of a
                                     chat message has `chatId` (channel messages have none); its
                                     body refers to it as https://graph.microsoft.com/v1.0/chats/
                                     {chatId}/messages/{messageId}/hostedContents/{id}/$value.
                                     Chat files are OneDrive items listed in driveItems.
    slack/workspace.json             {"team":  {"id", "name", "domain"},
                                      "bot":   {"user_id", "bot_id", "app_id"},
                                      "users": [Slack user, ...],
                                      "channels": [Slack conversation + "members": [user ids]]}

Benchmarks build the same dataclasses in memory instead of reading a folder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Credentials the sandbox accepts unless told otherwise. They are not secrets: they only open
# the local emulators.
SANDBOX_GRAPH_TOKEN = "sandbox-graph-token"  # noqa: S105
SANDBOX_SLACK_TOKEN = "xoxb-sandbox-token"  # noqa: S105

Json = dict[str, Any]


@dataclass
class TeamsChannelData:
    channel: Json
    members: list[Json] = field(default_factory=list)
    messages: list[Json] = field(default_factory=list)


@dataclass
class TeamsTeamData:
    team: Json
    members: list[Json] = field(default_factory=list)
    channels: list[TeamsChannelData] = field(default_factory=list)
    group: Json = field(default_factory=dict)   # group fields that differ from the default


@dataclass
class TeamsChatData:
    chat: Json
    members: list[Json] = field(default_factory=list)     # current members only
    messages: list[Json] = field(default_factory=list)


@dataclass
class HostedContent:
    message_id: str
    id: str
    content_type: str
    data: bytes
    chat_id: str | None = None     # set for a chat message's content, None for a channel's


@dataclass
class DriveItem:
    drive_id: str
    id: str
    name: str
    web_url: str
    mime_type: str
    data: bytes


@dataclass
class GraphTenant:
    tenant_id: str
    display_name: str = "Sandbox tenant"
    users: list[Json] = field(default_factory=list)
    teams: list[TeamsTeamData] = field(default_factory=list)
    hosted_contents: list[HostedContent] = field(default_factory=list)
    drive_items: list[DriveItem] = field(default_factory=list)
    chats: list[TeamsChatData] = field(default_factory=list)


@dataclass
class SlackWorkspace:
    team: Json
    bot: Json
    users: list[Json] = field(default_factory=list)
    channels: list[Json] = field(default_factory=list)


@dataclass
class Sandbox:
    graph: GraphTenant
    slack: SlackWorkspace


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: missing from the sandbox folder") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None


def load_graph_tenant(folder: Path) -> GraphTenant:
    graph = Path(folder) / "graph"
    meta = _read_json(graph / "tenant.json")
    tenant = GraphTenant(
        tenant_id=meta["tenantId"],
        display_name=meta.get("displayName", "Sandbox tenant"),
        users=_read_json(graph / "users.json"),
    )
    for team_file in sorted((graph / "teams").glob("*.json")):
        raw = _read_json(team_file)
        tenant.teams.append(
            TeamsTeamData(
                team=raw["team"],
                group=raw.get("group", {}),
                members=raw.get("members", []),
                channels=[
                    TeamsChannelData(c["channel"], c.get("members", []), c.get("messages", []))
                    for c in raw.get("channels", [])
                ],
            )
        )
    for chat_file in sorted((graph / "chats").glob("*.json")):
        raw = _read_json(chat_file)
        tenant.chats.append(TeamsChatData(raw["chat"], raw.get("members", []),
                                          raw.get("messages", [])))
    index_path = graph / "files" / "index.json"
    if index_path.exists():
        index = _read_json(index_path)
        for h in index.get("hostedContents", []):
            tenant.hosted_contents.append(
                HostedContent(h["messageId"], h["id"], h["contentType"],
                              (graph / "files" / h["file"]).read_bytes(), h.get("chatId"))
            )
        for d in index.get("driveItems", []):
            tenant.drive_items.append(
                DriveItem(d["driveId"], d["id"], d["name"], d["webUrl"], d["mimeType"],
                          (graph / "files" / d["file"]).read_bytes())
            )
    return tenant


def load_slack_workspace(folder: Path) -> SlackWorkspace:
    raw = _read_json(Path(folder) / "slack" / "workspace.json")
    return SlackWorkspace(raw["team"], raw["bot"], raw.get("users", []), raw.get("channels", []))


def load_sandbox(folder: Path) -> Sandbox:
    return Sandbox(load_graph_tenant(folder), load_slack_workspace(folder))


def default_demo_folder() -> Path:
    """examples/demo-tenant in a checkout (the demo is data, committed with its generator)."""
    return Path(__file__).resolve().parents[2] / "examples" / "demo-tenant"
