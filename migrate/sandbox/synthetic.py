"""Synthetic tenants of any size, built in memory, for tests and benchmarks.

Deterministic for a seed. Shapes follow the demo tenant (Graph objects as the API returns
them); content is plain, since size — not variety — is what these are for. Channel sizes are
uneven (a few busy channels, many quiet ones), as in real tenants.
"""

from __future__ import annotations

import copy
import datetime as dt
import random
import uuid

from migrate.sandbox.slack_org import SlackOrg
from migrate.sandbox.tenant import (
    GraphTenant,
    HostedContent,
    SlackWorkspace,
    TeamsChannelData,
    TeamsChatData,
    TeamsTeamData,
)

BASE = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d4944415478da63f8cfc0f01f0005000201e2d2b1f40000000049454e44ae426082")


def _guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def synthetic_tenant(*, teams: int = 3, channels: int = 6, messages: int = 300, users: int = 20,
                     reply_share: float = 0.4, image_every: int = 0, skew: float = 1.2,
                     chats: int = 0, chat_messages: int = 0, seed: int = 1) -> GraphTenant:
    """`channels` and `messages` are totals over the tenant; every team gets ≥ 1 channel.
    `skew` is the Pareto shape of channel sizes: lower is more uneven. `chats` 1:1, group and
    meeting chats share `chat_messages` (drawn after everything else, so a tenant without
    chats is the same as before)."""
    rng = random.Random(seed)
    tenant_id = _guid(rng)
    people = []
    for i in range(users):
        uid = _guid(rng)
        people.append({"id": uid, "displayName": f"User {i:04d}", "givenName": "User",
                       "surname": f"{i:04d}", "mail": f"user{i:04d}@example.test",
                       "userPrincipalName": f"user{i:04d}@example.test", "otherMails": [],
                       "proxyAddresses": [f"SMTP:user{i:04d}@example.test"], "accountEnabled": True,
                       "userType": "Member", "jobTitle": None, "creationType": None,
                       "externalUserState": None, "mailNickname": f"user{i:04d}"})
    tenant = GraphTenant(tenant_id=tenant_id, display_name="Synthetic", users=people)
    team_list = []
    for t in range(teams):
        team_id = _guid(rng)
        created = BASE + dt.timedelta(minutes=t)
        team_list.append(TeamsTeamData(
            team={"id": team_id, "displayName": f"Team {t:03d}", "description": f"Team {t}",
                  "visibility": "public", "isArchived": False, "createdDateTime": _iso(created),
                  "webUrl": None, "internalId": f"19:{team_id.replace('-', '')}@thread.tacv2",
                  "tenantId": tenant_id, "specialization": "none", "classification": None,
                  "summary": None},
            members=[{"@odata.type": "#microsoft.graph.aadUserConversationMember",
                      "id": _guid(rng), "displayName": p["displayName"], "roles": [],
                      "userId": p["id"], "email": p["mail"], "tenantId": tenant_id,
                      "visibleHistoryStartDateTime": "0001-01-01T00:00:00Z"}
                     for p in rng.sample(people, min(len(people), 8))]))
    channel_list: list[tuple[TeamsTeamData, TeamsChannelData]] = []
    for c in range(max(channels, teams)):
        team = team_list[c % teams]
        cid = f"19:{rng.getrandbits(128):032x}@thread.tacv2"
        name = "General" if c < teams else f"Channel {c:04d}"
        data = TeamsChannelData({"id": cid, "displayName": name, "description": None,
                                 "membershipType": "standard", "createdDateTime": team.team["createdDateTime"],
                                 "email": None, "webUrl": None, "isFavoriteByDefault": None,
                                 "isArchived": False, "tenantId": tenant_id, "layoutType": "post"})
        team.channels.append(data)
        channel_list.append((team, data))
    # Uneven sizes: weights from a heavy-tailed distribution, every channel at least one root.
    weights = [rng.paretovariate(skew) for _ in channel_list]
    total = sum(weights)
    counts = [max(1, int(messages * w / total)) for w in weights]
    counts[0] += messages - sum(counts)
    span_ms = 3 * 365 * 24 * 3600 * 1000  # three years of history in every channel
    used: set[int] = set()
    for (team, channel), count in zip(channel_list, counts, strict=True):
        stamps = sorted(rng.randrange(span_ms) for _ in range(max(count, 1)))
        roots: list[str] = []
        for i, offset in enumerate(stamps):
            while offset in used:  # ids are epoch ms and must stay unique
                offset += 1
            used.add(offset)
            stamp = BASE + dt.timedelta(milliseconds=offset)
            ms = str(int(stamp.timestamp() * 1000))
            reply_to = rng.choice(roots) if roots and rng.random() < reply_share else None
            author = rng.choice(people)
            content = f"<p>Message {i} in {channel.channel['displayName']}</p>"
            if image_every and i % image_every == 0:
                hc = f"hc{ms}"
                path = (f"teams/{team.team['id']}/channels/{channel.channel['id']}/messages/"
                        f"{reply_to or ms}" + (f"/replies/{ms}" if reply_to else ""))
                content += f'<p><img src="https://graph.microsoft.com/v1.0/{path}/hostedContents/{hc}/$value"></p>'
                tenant.hosted_contents.append(HostedContent(ms, hc, "image/png", TINY_PNG))
            channel.messages.append({
                "id": ms, "replyToId": reply_to, "etag": ms, "messageType": "message",
                "createdDateTime": _iso(stamp), "lastModifiedDateTime": _iso(stamp),
                "lastEditedDateTime": None, "deletedDateTime": None, "subject": None,
                "summary": None, "chatId": None, "importance": "normal", "locale": "en-us",
                "webUrl": None, "policyViolation": None, "eventDetail": None,
                "from": {"application": None, "device": None,
                         "user": {"@odata.type": "#microsoft.graph.teamworkUserIdentity",
                                  "id": author["id"], "displayName": author["displayName"],
                                  "userIdentityType": "aadUser", "tenantId": tenant_id}},
                "body": {"contentType": "html", "content": content},
                "channelIdentity": {"teamId": team.team["id"], "channelId": channel.channel["id"]},
                "attachments": [], "mentions": [], "reactions": [], "messageHistory": []})
            if reply_to is None:
                roots.append(ms)
    tenant.teams = team_list
    tenant.chats = _chats(random.Random(f"{seed}-chats"), tenant_id, people, chats, chat_messages,
                          used)
    return tenant


def _chats(rng: random.Random, tenant_id: str, people: list[dict], count: int, messages: int,
           used: set[int]) -> list[TeamsChatData]:
    """1:1s, group chats (up to 12 people: some larger than a Slack group DM) and meeting
    chats; each message from a current member."""
    out: list[TeamsChatData] = []
    for n in range(count if len(people) >= 2 else 0):
        kind = ("oneOnOne", "group", "meeting")[n % 3]
        size = 2 if kind == "oneOnOne" else rng.randint(3, min(12, len(people)))
        members = rng.sample(people, size)
        chat_id = (f"19:{members[0]['id']}_{members[1]['id']}@unq.gbl.spaces" if kind == "oneOnOne"
                   else f"19:{'meeting_' if kind == 'meeting' else ''}{rng.getrandbits(128):032x}@thread.v2")
        created = _iso(BASE + dt.timedelta(hours=n))
        out.append(TeamsChatData(
            chat={"id": chat_id, "topic": None if kind == "oneOnOne" else f"Chat {n:04d}",
                  "createdDateTime": created, "lastUpdatedDateTime": created, "chatType": kind,
                  "webUrl": None, "tenantId": tenant_id, "onlineMeetingInfo": None,
                  "isHiddenForAllMembers": False},
            members=[{"@odata.type": "#microsoft.graph.aadUserConversationMember",
                      "id": _guid(rng), "roles": ["owner"], "displayName": p["displayName"],
                      "visibleHistoryStartDateTime": "0001-01-01T00:00:00Z", "userId": p["id"],
                      "email": p["mail"], "tenantId": tenant_id} for p in members]))
    span_ms = 3 * 365 * 24 * 3600 * 1000
    for i in range(messages if out else 0):
        chat = out[i % len(out)]
        offset = rng.randrange(span_ms)
        while offset in used:
            offset += 1
        used.add(offset)
        stamp = BASE + dt.timedelta(milliseconds=offset)
        ms = str(int(stamp.timestamp() * 1000))
        author = rng.choice(chat.members)
        chat.messages.append({
            "id": ms, "replyToId": None, "etag": ms, "messageType": "message",
            "createdDateTime": _iso(stamp), "lastModifiedDateTime": _iso(stamp),
            "lastEditedDateTime": None, "deletedDateTime": None, "subject": None, "summary": None,
            "chatId": chat.chat["id"], "importance": "normal", "locale": "en-us", "webUrl": None,
            "policyViolation": None, "eventDetail": None,
            "from": {"application": None, "device": None,
                     "user": {"@odata.type": "#microsoft.graph.teamworkUserIdentity",
                              "id": author["userId"], "displayName": author["displayName"],
                              "userIdentityType": "aadUser", "tenantId": tenant_id}},
            "body": {"contentType": "html", "content": f"<p>Chat message {i}</p>"},
            "channelIdentity": None, "attachments": [], "mentions": [], "reactions": [],
            "messageHistory": []})
    return out


def synthetic_workspace(tenant: GraphTenant, *, matched_share: float = 0.9, seed: int = 1) -> SlackWorkspace:
    """A Slack workspace holding most of the tenant's users (by email)."""
    rng = random.Random(seed)
    users = [{"id": "U0BOT", "team_id": "T0SYNTH", "name": "migrator", "real_name": "migrator",
              "deleted": False, "is_bot": True, "is_app_user": False, "profile": {"real_name": "migrator"}}]
    for i, person in enumerate(tenant.users):
        if rng.random() < matched_share:
            users.append({"id": f"U{i:08d}", "team_id": "T0SYNTH", "name": f"user{i}",
                          "real_name": person["displayName"], "deleted": False, "is_bot": False,
                          "is_restricted": False, "is_ultra_restricted": False, "is_app_user": False,
                          "profile": {"email": person["mail"], "real_name": person["displayName"],
                                      "display_name": person["displayName"],
                                      "image_72": f"https://avatars.example.test/{i}.png"}})
    return SlackWorkspace(team={"id": "T0SYNTH", "name": "Synthetic", "domain": "synthetic"},
                          bot={"user_id": "U0BOT", "bot_id": "B0BOT", "app_id": "A0BOT"},
                          users=users, channels=[])


def synthetic_org(tenant: GraphTenant, *, workspaces: int = 2, matched_share: float = 0.9,
                  multi_share: float = 0.25, seed: int = 1) -> SlackOrg:
    """An Enterprise Grid org of `workspaces` empty workspaces (T0SYNTH0, T0SYNTH1, …; tokens
    slack_org.workspace_token(team id), plus the org token SANDBOX_SLACK_ORG_TOKEN) holding
    most of the tenant's users by email. Users are org users (W… ids), each a member of a home
    workspace and, `multi_share` of them, of every workspace. One app is installed on the org:
    its bot user W0BOT is in every workspace (an org-wide install's bot_user_id is a W… id,
    https://api.slack.com/enterprise/apps/reference)."""
    if workspaces < 1:
        raise ValueError(f"an org needs at least one workspace, got {workspaces}")
    rng = random.Random(f"{seed}-org")
    enterprise = {"id": "E0SYNTH", "name": "Synthetic Org", "domain": "synthetic-org"}
    teams = [{"id": f"T0SYNTH{k}", "name": f"Synthetic {k}", "domain": f"synthetic-{k}"}
             for k in range(workspaces)]
    team_ids = [t["id"] for t in teams]
    bot = {"user_id": "W0BOT", "bot_id": "B0BOT", "app_id": "A0BOT", "name": "migrator"}
    members: list[list[dict]] = [[] for _ in teams]

    def org_user(uid: str, in_teams: list[str], fields: dict) -> dict:
        # A Grid user object names its org and workspaces (enterprise_user,
        # https://docs.slack.dev/reference/objects/user-object); team_id is its home workspace.
        return {"id": uid, "team_id": in_teams[0], **fields,
                "enterprise_user": {"id": uid, "enterprise_id": enterprise["id"],
                                    "enterprise_name": enterprise["name"], "is_admin": False,
                                    "is_owner": False, "teams": list(in_teams)}}

    bot_user = org_user("W0BOT", team_ids, {
        "name": "migrator", "real_name": "migrator", "deleted": False, "is_bot": True,
        "is_app_user": False, "profile": {"real_name": "migrator", "bot_id": "B0BOT"}})
    for team_members in members:
        team_members.append(bot_user)
    for i, person in enumerate(tenant.users):
        if rng.random() >= matched_share:
            continue
        home = i % workspaces
        everywhere = rng.random() < multi_share
        in_teams = [team_ids[home]] + ([t for t in team_ids if t != team_ids[home]]
                                       if everywhere else [])
        user = org_user(f"W{i:08d}", in_teams, {
            "name": f"user{i}", "real_name": person["displayName"], "deleted": False,
            "is_bot": False, "is_restricted": False, "is_ultra_restricted": False,
            "is_app_user": False,
            "profile": {"email": person["mail"], "real_name": person["displayName"],
                        "display_name": person["displayName"],
                        "image_72": f"https://avatars.example.test/{i}.png"}})
        for k, team_id in enumerate(team_ids):
            if team_id in in_teams:
                members[k].append(user)
    return SlackOrg(enterprise, [
        SlackWorkspace(team=team, bot=dict(bot), users=copy.deepcopy(team_members), channels=[])
        for team, team_members in zip(teams, members, strict=True)])
