"""The Graph emulator over real HTTP with `requests`: paging, limits, enums, throttling, faults,
$batch, files, control operations, and a contract check against the v1.0 schema extract."""

from __future__ import annotations

import base64
import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests

from migrate.sandbox.faults import FaultPlan
from migrate.sandbox.graph_emulator import GraphEmulator
from migrate.sandbox.tenant import (
    SANDBOX_GRAPH_TOKEN,
    DriveItem,
    GraphTenant,
    HostedContent,
    TeamsChannelData,
    TeamsTeamData,
)

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
TENANT = "7f1a5c00-0000-4000-8000-00000000ten7"
TEAM_A = "a1a1a1a1-0000-4000-8000-000000000001"
TEAM_B = "b2b2b2b2-0000-4000-8000-000000000002"
GENERAL = "19:general-a@thread.tacv2"
PRIVATE = "19:private-a@thread.tacv2"
SHARED_CH = "19:shared-a@thread.tacv2"
BUSY = "19:busy-a@thread.tacv2"
ARCHIVED_GENERAL = "19:general-b@thread.tacv2"
BASE = 1_704_067_200_000          # 2024-01-01T00:00:00Z in epoch ms
MINUTE = 60_000
BUSY_ROOT = str(BASE + 10 * 86_400_000)
IMG_ROOT = str(BASE + 11 * 86_400_000)
IMG_REPLY = str(BASE + 11 * 86_400_000 + 5_000)
BIG_REPLIES = 1205
FILE_URL = "https://contoso.sharepoint.com/sites/Eng/Shared%20Documents/General/report.pdf"
FILE_BYTES = bytes(range(256)) * 20
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
AUTH = {"Authorization": f"Bearer {SANDBOX_GRAPH_TOKEN}"}


# ---- a small tenant built in memory ----------------------------------------------------------

def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def uid(i: int) -> str:
    return f"00000000-0000-4000-8000-{i:012d}"


def user(i: int) -> dict:
    return {"id": uid(i), "displayName": f"User {i}", "givenName": "User", "surname": str(i),
            "mail": f"user{i}@contoso.com", "userPrincipalName": f"user{i}@contoso.onmicrosoft.com",
            "jobTitle": None, "businessPhones": [], "mobilePhone": None, "officeLocation": None,
            "preferredLanguage": "en-US", "otherMails": [f"u{i}@example.org"],
            "accountEnabled": True, "userType": "Member"}


def member(i: int, roles: tuple[str, ...] = ()) -> dict:
    return {"@odata.type": "#microsoft.graph.aadUserConversationMember", "id": f"MCMjMSMj{i:04d}",
            "roles": list(roles), "displayName": f"User {i}",
            "visibleHistoryStartDateTime": "0001-01-01T00:00:00Z", "userId": uid(i),
            "email": f"user{i}@contoso.com", "tenantId": TENANT}


def identity(i: int) -> dict:
    return {"@odata.type": "#microsoft.graph.teamworkUserIdentity", "id": uid(i),
            "displayName": f"User {i}", "userIdentityType": "aadUser", "tenantId": TENANT}


def message(ms: int, text: str, author: int = 0, reply_to: int | str | None = None, **extra) -> dict:
    msg = {"id": str(ms), "replyToId": None if reply_to is None else str(reply_to),
           "etag": str(ms), "messageType": "message", "createdDateTime": iso(ms),
           "lastModifiedDateTime": iso(ms), "lastEditedDateTime": None, "deletedDateTime": None,
           "subject": None, "summary": None, "chatId": None, "importance": "normal",
           "locale": "en-us", "webUrl": None, "policyViolation": None, "eventDetail": None,
           "from": {"application": None, "device": None, "user": identity(author)},
           "body": {"contentType": "html", "content": f"<p>{text}</p>"},
           "attachments": [], "mentions": [], "reactions": [], "messageHistory": []}
    msg.update(extra)
    return msg


def channel(cid: str, name: str, kind: str = "standard") -> dict:
    return {"id": cid, "displayName": name, "description": f"{name} channel",
            "membershipType": kind, "createdDateTime": iso(BASE - 86_400_000),
            "isFavoriteByDefault": None, "email": "", "webUrl": f"https://teams.microsoft.com/l/channel/{quote(cid)}",
            "tenantId": TENANT, "isArchived": False, "layoutType": "post"}


def build_tenant() -> GraphTenant:
    general = [message(BASE + i * MINUTE, f"root {i}", author=i % 7) for i in range(45)]
    general[1]["attachments"] = [{"id": "5b8c9d2a-0000-4000-8000-000000000001",
                                  "contentType": "reference", "contentUrl": FILE_URL,
                                  "content": None, "name": "report.pdf", "thumbnailUrl": None,
                                  "teamsAppId": None}]
    general[1]["reactions"] = [{"reactionType": "like", "displayName": "Like",
                                "reactionContentUrl": None, "createdDateTime": iso(BASE + MINUTE + 9),
                                "user": {"application": None, "device": None, "user": identity(3)}}]
    general[2]["body"] = {"contentType": "html", "content": '<p><at id="0">User 4</at> hi</p>'}
    general[2]["mentions"] = [{"id": 0, "mentionText": "User 4",
                               "mentioned": {"application": None, "device": None,
                                             "conversation": None, "user": identity(4)}}]
    general += [message(BASE + 1000 * k + 500, f"reply {k}", author=k, reply_to=BASE) for k in (1, 2, 3)]
    general.append(message(
        BASE + 50 * MINUTE, "", messageType="systemEventMessage", **{"from": None},
        body={"contentType": "html", "content": "<systemEventMessage/>"},
        eventDetail={"@odata.type": "#microsoft.graph.membersAddedEventMessageDetail",
                     "visibleHistoryStartDateTime": "0001-01-01T00:00:00Z",
                     "members": [identity(5)],
                     "initiator": {"application": None, "device": None, "user": identity(0)}}))
    private = [message(BASE + 2 * 86_400_000 + i * MINUTE, f"secret {i}", author=1) for i in range(5)]
    shared = [message(BASE + 3 * 86_400_000 + i * MINUTE, f"shared {i}", author=2) for i in range(2)]
    busy = [message(int(BUSY_ROOT), "busy thread")]
    busy += [message(int(BUSY_ROOT) + 1000 * k, f"busy reply {k}", author=k % 9, reply_to=BUSY_ROOT)
             for k in range(1, BIG_REPLIES + 1)]
    busy.append(message(int(IMG_ROOT), '<img src="hosted">'))
    busy.append(message(int(IMG_REPLY), '<img src="hosted2">', reply_to=IMG_ROOT))
    team_a = TeamsTeamData(
        {"id": TEAM_A, "displayName": "Engineering", "description": "Builds things",
         "visibility": "public", "isArchived": False, "createdDateTime": iso(BASE - 2 * 86_400_000),
         "webUrl": "https://teams.microsoft.com/l/team/x", "internalId": "19:team-a@thread.tacv2",
         "tenantId": TENANT, "classification": None, "specialization": "none",
         "summary": {"ownersCount": 1, "membersCount": 129, "guestsCount": 0}},
        [member(0, ("owner",))] + [member(i) for i in range(1, 130)],
        [TeamsChannelData(channel(GENERAL, "General"), [], general),
         TeamsChannelData(channel(PRIVATE, "Secret", "private"),
                          [member(0, ("owner",)), member(1), member(2)], private),
         TeamsChannelData(channel(SHARED_CH, "Partners", "shared"), [member(0, ("owner",))], shared),
         TeamsChannelData(channel(BUSY, "Busy"), [], busy)])
    team_b = TeamsTeamData(
        {"id": TEAM_B, "displayName": "Old Project", "description": None, "visibility": "private",
         "isArchived": True},
        [member(0, ("owner",))],
        [TeamsChannelData(channel(ARCHIVED_GENERAL, "General"), [],
                          [message(BASE - 86_400_000 + i, f"old {i}") for i in range(3)])])
    return GraphTenant(
        TENANT, "Contoso", users=[user(i) for i in range(250)], teams=[team_a, team_b],
        hosted_contents=[HostedContent(IMG_ROOT, "aWQ9eF8wLWN1cy1kMSsvPQ==", "image/png", PNG),
                         HostedContent(IMG_REPLY, "aWQ9eF8yLWN1cy1kMg==", "image/jpeg", b"\xff\xd8jpeg")],
        drive_items=[DriveItem("b!drive-eng", "01ABCDEF", "report.pdf", FILE_URL, "application/pdf",
                               FILE_BYTES)],
    )


def team_a_messages() -> list[dict]:
    return [m for c in build_tenant().teams[0].channels for m in c.messages]


# ---- fixtures and helpers ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def emu():
    with GraphEmulator(build_tenant(), throttle=False) as emulator:
        yield emulator


@pytest.fixture
def fresh():
    with GraphEmulator(build_tenant(), throttle=False) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def http():
    with requests.Session() as session:
        session.headers.update(AUTH)
        yield session


def ch(cid: str) -> str:
    return quote(cid, safe="")


def page_all(http: requests.Session, url: str, headers: dict | None = None) -> tuple[list[dict], int]:
    items, pages = [], 0
    while url:
        r = http.get(url, headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        items += body["value"]
        pages += 1
        url = body.get("@odata.nextLink")
    return items, pages


def assert_error(r: requests.Response, status: int, code: str, contains: str = "") -> dict:
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] == code
    assert contains in err["message"]
    assert {"date", "request-id"} <= err["innerError"].keys()
    assert r.headers["request-id"] == err["innerError"]["request-id"]
    return err


# ---- paging and $top ---------------------------------------------------------------------------

def test_users_paged_to_the_end_with_opaque_absolute_next_links(emu, http):
    items, pages = page_all(http, f"{emu.url}/users")
    assert pages == 3 and len(items) == 250
    assert sorted(u["id"] for u in items) == sorted(uid(i) for i in range(250))
    first = http.get(f"{emu.url}/users?$top=7").json()
    link = first["@odata.nextLink"]
    assert link.startswith(emu.url + "/users?")
    token = parse_qs(urlsplit(link).query)["$skiptoken"][0]
    assert not token.isdigit()  # not an offset a client could fabricate
    items, pages = page_all(http, f"{emu.url}/users?$top=7")
    assert pages == 36 and len({u["id"] for u in items}) == len(items) == 250
    assert page_all(http, f"{emu.url}/users?$top=999")[1] == 1


def test_tampered_or_foreign_skiptoken_is_refused(emu, http):
    link = http.get(f"{emu.url}/users?$top=5").json()["@odata.nextLink"]
    token = parse_qs(urlsplit(link).query)["$skiptoken"][0]
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert_error(http.get(f"{emu.url}/users?$top=5&$skiptoken={forged}"), 400, "BadRequest")
    # a users token does not page team members
    assert_error(http.get(f"{emu.url}/teams/{TEAM_A}/members?$top=5&$skiptoken={token}"), 400, "BadRequest")


@pytest.mark.parametrize("top", ["1000", "0", "-3"])
def test_directory_top_out_of_range(emu, http, top):
    assert_error(http.get(f"{emu.url}/users?$top={top}"), 400, "BadRequest",
                 "Must be between 1 and 999 inclusive")


def test_team_and_channel_members_paging(emu, http):
    items, pages = page_all(http, f"{emu.url}/teams/{TEAM_A}/members?$top=50")
    assert pages == 3 and len({m["id"] for m in items}) == 130
    assert all(m["@odata.type"] == "#microsoft.graph.aadUserConversationMember" for m in items)
    assert items[0]["roles"] == ["owner"] and items[1]["roles"] == []
    default, pages = page_all(http, f"{emu.url}/teams/{TEAM_A}/members")
    assert pages == 2 and len(default) == 130
    private = http.get(f"{emu.url}/teams/{TEAM_A}/channels/{ch(PRIVATE)}/members").json()["value"]
    assert [m["userId"] for m in private] == [uid(0), uid(1), uid(2)]
    # a standard channel without its own list has the team's members
    general, _ = page_all(http, f"{emu.url}/teams/{TEAM_A}/channels/{ch(GENERAL)}/members")
    assert len(general) == 130
    assert_error(http.get(f"{emu.url}/teams/{TEAM_A}/members?$top=1000"), 400, "BadRequest", "999")


def test_channel_roots_paged_newest_first_and_top_limits(emu, http):
    url = f"{emu.url}/teams/{TEAM_A}/channels/{ch(GENERAL)}/messages"
    items, pages = page_all(http, url)
    assert pages == 3 and len(items) == 46  # 45 roots + 1 system event, default page 20
    assert all(m["replyToId"] is None for m in items)
    created = [m["createdDateTime"] for m in items]
    assert created == sorted(created, reverse=True)
    assert page_all(http, url + "?$top=50")[1] == 1
    assert len(http.get(url + "?$top=50").json()["value"]) == 46
    assert_error(http.get(url + "?$top=51"), 400, "BadRequest", "Limit of '50' for Top Query has been exceeded")
    assert_error(http.get(url + "?$filter=subject eq 'x'"), 400, "BadRequest", "Query option 'Filter' is not allowed")


def test_replies_and_single_messages(emu, http):
    base = f"{emu.url}/teams/{TEAM_A}/channels/{ch(GENERAL)}/messages"
    replies, _ = page_all(http, f"{base}/{BASE}/replies?$top=2")
    assert [r["id"] for r in replies] == [str(BASE + 3500), str(BASE + 2500), str(BASE + 1500)]
    assert all(r["replyToId"] == str(BASE) for r in replies)
    one = http.get(f"{base}/{BASE + MINUTE}").json()
    assert one["id"] == str(BASE + MINUTE) and one["attachments"][0]["contentUrl"] == FILE_URL
    assert one["channelIdentity"] == {"teamId": TEAM_A, "channelId": GENERAL}
    reply = http.get(f"{base}/{BASE}/replies/{BASE + 2500}").json()
    assert reply["replyToId"] == str(BASE)
    assert_error(http.get(f"{base}/{BASE + 2500}"), 404, "NotFound")  # a reply is not a root
    assert_error(http.get(f"{base}/{BASE}/replies/{BASE + MINUTE}"), 404, "NotFound")
    assert_error(http.get(f"{base}/{BASE}/replies?$top=51"), 400, "BadRequest", "Limit of '50'")


def test_raw_and_percent_encoded_channel_ids(emu, http):
    raw = http.get(f"{emu.url}/teams/{TEAM_A}/channels/{GENERAL}/messages?$top=3").json()
    enc = http.get(f"{emu.url}/teams/{TEAM_A}/channels/{ch(GENERAL)}/messages?$top=3").json()
    assert [m["id"] for m in raw["value"]] == [m["id"] for m in enc["value"]]
    assert http.get(raw["@odata.nextLink"]).status_code == 200


def test_expand_replies_beyond_1000_has_replies_next_link(emu, http):
    url = f"{emu.url}/teams/{TEAM_A}/channels/{ch(BUSY)}/messages?$expand=replies"
    roots = {m["id"]: m for m in http.get(url).json()["value"]}
    busy = roots[BUSY_ROOT]
    assert len(busy["replies"]) == 1000 and busy["replies@odata.count"] == BIG_REPLIES
    rest, pages = page_all(http, busy["replies@odata.nextLink"])
    assert pages == 5
    ids = [r["id"] for r in busy["replies"] + rest]
    expected = {str(int(BUSY_ROOT) + 1000 * k) for k in range(1, BIG_REPLIES + 1)}
    assert len(ids) == len(set(ids)) == BIG_REPLIES and set(ids) == expected
    small = roots[IMG_ROOT]
    assert [r["id"] for r in small["replies"]] == [IMG_REPLY]
    assert "replies@odata.nextLink" not in small


# ---- $select, teams, groups, channels, enums --------------------------------------------------

DEFAULT_USER_KEYS = {"businessPhones", "displayName", "givenName", "id", "jobTitle", "mail",
                     "mobilePhone", "officeLocation", "preferredLanguage", "surname",
                     "userPrincipalName"}


def test_users_default_properties_and_select(emu, http):
    value = http.get(f"{emu.url}/users?$top=3").json()["value"]
    assert all(set(u) == DEFAULT_USER_KEYS for u in value)  # no otherMails/accountEnabled
    value = http.get(f"{emu.url}/users?$top=3&$select=id,otherMails,accountEnabled").json()["value"]
    assert value[0] == {"id": uid(0), "otherMails": ["u0@example.org"], "accountEnabled": True}
    by_upn = http.get(f"{emu.url}/users/USER5@contoso.onmicrosoft.com?$select=id,mail").json()
    assert by_upn["id"] == uid(5) and set(by_upn) == {"@odata.context", "id", "mail"}
    assert http.get(f"{emu.url}/users/{uid(6)}").json()["displayName"] == "User 6"
    assert_error(http.get(f"{emu.url}/users?$select=id,shoeSize"), 400, "BadRequest", "shoeSize")
    assert_error(http.get(f"{emu.url}/users/{uid(999)}"), 404, "Request_ResourceNotFound")


def test_teams_list_groups_and_team(emu, http):
    teams = http.get(f"{emu.url}/teams").json()["value"]
    assert [t["id"] for t in teams] == [TEAM_A, TEAM_B]
    a = teams[0]
    assert (a["displayName"], a["description"], a["visibility"]) == ("Engineering", "Builds things", "public")
    assert all(v is None for k, v in a.items() if k not in ("id", "displayName", "description", "visibility"))
    assert http.get(f"{emu.url}/teams?$select=id,displayName").json()["value"][1] == \
        {"id": TEAM_B, "displayName": "Old Project"}
    groups = http.get(f"{emu.url}/groups", params={
        "$filter": "resourceProvisioningOptions/Any(x:x eq 'Team')",
        "$select": "id,displayName,resourceProvisioningOptions,mail"}).json()["value"]
    assert groups[0] == {"id": TEAM_A, "displayName": "Engineering",
                         "resourceProvisioningOptions": ["Team"], "mail": "Engineering@contoso.onmicrosoft.com"}
    assert_error(http.get(f"{emu.url}/groups", params={"$filter": "mailEnabled eq true"}), 400, "BadRequest")
    team_b = http.get(f"{emu.url}/teams/{TEAM_B}").json()
    assert team_b["isArchived"] is True and team_b["id"] == TEAM_B


def test_evolvable_enums_need_the_prefer_header(emu, http):
    prefer = {"Prefer": "include-unknown-enum-members"}
    plain = {c["id"]: c["membershipType"] for c in
             http.get(f"{emu.url}/teams/{TEAM_A}/channels").json()["value"]}
    assert plain == {GENERAL: "standard", PRIVATE: "private", SHARED_CH: "unknownFutureValue",
                     BUSY: "standard"}
    opted = {c["id"]: c["membershipType"] for c in
             http.get(f"{emu.url}/teams/{TEAM_A}/channels", headers=prefer).json()["value"]}
    assert opted[SHARED_CH] == "shared"
    one = f"{emu.url}/teams/{TEAM_A}/channels/{ch(SHARED_CH)}"
    assert http.get(one).json()["membershipType"] == "unknownFutureValue"
    assert http.get(one, headers={"Prefer": "odata.maxpagesize=5, include-unknown-enum-members"}
                    ).json()["membershipType"] == "shared"
    sys_id = str(BASE + 50 * MINUTE)
    msgs = f"{emu.url}/teams/{TEAM_A}/channels/{ch(GENERAL)}/messages?$top=50"
    kinds = {m["id"]: m["messageType"] for m in http.get(msgs).json()["value"]}
    assert kinds[sys_id] == "unknownFutureValue" and kinds[str(BASE)] == "message"
    kinds = {m["id"]: m["messageType"] for m in http.get(msgs, headers=prefer).json()["value"]}
    assert kinds[sys_id] == "systemEventMessage"
    everything, _ = page_all(http, f"{emu.url}/teams/{TEAM_A}/channels/getAllMessages?$top=50")
    assert {m["messageType"] for m in everything} == {"message", "unknownFutureValue"}


def test_primary_channel_and_all_channels_all_members(emu, http):
    assert http.get(f"{emu.url}/teams/{TEAM_A}/primaryChannel").json()["id"] == GENERAL
    every = http.get(f"{emu.url}/teams/{TEAM_A}/allChannels").json()["value"]
    assert [c["id"] for c in every] == [GENERAL, PRIVATE, SHARED_CH, BUSY]
    members = http.get(f"{emu.url}/teams/{TEAM_A}/channels/{PRIVATE}/allMembers").json()["value"]
    assert len(members) == 3


# ---- getAllMessages ------------------------------------------------------------------------------

def _window(lo_ms: int | None, hi_ms: int | None, lo_incl: bool, hi_incl: bool) -> set[tuple[str, str]]:
    out = set()
    for c in build_tenant().teams[0].channels:
        for m in c.messages:
            t = int(m["id"])  # lastModified == created == id in the test data
            if lo_ms is not None and (t < lo_ms or (t == lo_ms and not lo_incl)):
                continue
            if hi_ms is not None and (t > hi_ms or (t == hi_ms and not hi_incl)):
                continue
            out.add((c.channel["id"], m["id"]))
    return out


def test_get_all_messages_pages_every_root_and_reply(emu, http):
    items, pages = page_all(http, f"{emu.url}/teams/{TEAM_A}/channels/getAllMessages?$top=50")
    keys = [(m["channelIdentity"]["channelId"], m["id"]) for m in items]
    assert len(keys) == len(set(keys)) == len(team_a_messages()) == 1264
    assert pages == 26
    replies = [m for m in items if m["replyToId"]]
    assert len(replies) == 3 + BIG_REPLIES + 1
    default = http.get(f"{emu.url}/teams/{TEAM_A}/channels/getAllMessages").json()
    assert len(default["value"]) == 20
    assert_error(http.get(f"{emu.url}/teams/{TEAM_A}/channels/getAllMessages?$top=51"), 400,
                 "BadRequest", "Limit of '50'")


@pytest.mark.parametrize("op_lo,op_hi", [("gt", "lt"), ("ge", "le"), ("gt", None), (None, "le")])
def test_get_all_messages_modified_window(emu, http, op_lo, op_hi):
    lo, hi = BASE + 10 * MINUTE, BASE + 2 * 86_400_000 + 2 * MINUTE
    clauses = []
    if op_lo:
        clauses.append(f"lastModifiedDateTime {op_lo} {iso(lo)}")
    if op_hi:
        clauses.append(f"lastModifiedDateTime {op_hi} {iso(hi)}")
    url = f"{emu.url}/teams/{TEAM_A}/channels/getAllMessages"
    items, _ = page_all(http, f"{url}?$top=13&$filter={quote(' and '.join(clauses))}")
    got = [(m["channelIdentity"]["channelId"], m["id"]) for m in items]
    expected = _window(lo if op_lo else None, hi if op_hi else None, op_lo == "ge", op_hi == "le")
    assert len(got) == len(set(got)) and set(got) == expected and expected
    stamps = [m["lastModifiedDateTime"] for m in items]
    assert stamps == sorted(stamps)


def test_get_all_messages_filter_errors(emu, http):
    url = f"{emu.url}/teams/{TEAM_A}/channels/getAllMessages"
    assert_error(http.get(url, params={"$filter": "createdDateTime gt 2024-01-01T00:00:00Z"}), 400,
                 "BadRequest", "The entity property 'createdDateTime' and operationKind 'GreaterThan' "
                 "is not allowed in $filter query.")
    assert_error(http.get(url, params={"$filter": "lastModifiedDateTime eq 2024-01-01T00:00:00Z"}),
                 400, "BadRequest", "operationKind 'Equal'")
    assert_error(http.get(url, params={"$filter": "lastModifiedDateTime gt '2024-01-01T00:00:00Z'"}),
                 400, "BadRequest", "incompatible types")
    assert_error(http.get(url, params={"$filter": "lastModifiedDateTime gt yesterday"}), 400, "BadRequest")


# ---- auth, errors, headers -----------------------------------------------------------------------

def test_missing_or_wrong_token_is_401(emu):
    r = requests.get(f"{emu.url}/users")
    err = assert_error(r, 401, "InvalidAuthenticationToken")
    assert {"date", "request-id", "client-request-id"} <= err["innerError"].keys()
    r = requests.get(f"{emu.url}/users", headers={"Authorization": "Bearer not-the-token"})
    assert_error(r, 401, "InvalidAuthenticationToken")
    r = requests.get(f"{emu.url}/users", headers={"Authorization": f"Basic {SANDBOX_GRAPH_TOKEN}"})
    assert r.status_code == 401


def test_other_tokens_can_be_configured():
    with GraphEmulator(build_tenant(), tokens=("alpha", "beta"), throttle=False) as emu:
        assert requests.get(f"{emu.url}/teams", headers={"Authorization": "Bearer beta"}).ok
        assert requests.get(f"{emu.url}/teams", headers=AUTH).status_code == 401


def test_request_id_headers_and_client_request_id_echo(emu, http):
    r = http.get(f"{emu.url}/teams", headers={"client-request-id": "my-correlation-id"})
    assert r.headers["client-request-id"] == "my-correlation-id" and r.headers["request-id"]
    r = http.get(f"{emu.url}/teams/nope", headers={"client-request-id": "abc"})
    assert r.json()["error"]["innerError"]["client-request-id"] == "abc"


def test_not_found_shapes(emu, http):
    assert_error(http.get(f"{emu.url}/teams/nope"), 404, "NotFound")
    assert_error(http.get(f"{emu.url}/teams/{TEAM_A}/channels/{ch('19:nope@thread.tacv2')}/messages"),
                 404, "NotFound")
    assert_error(http.get(f"{emu.url}/teams/{TEAM_A}/channels/{ch(GENERAL)}/messages/123"), 404, "NotFound")
    assert_error(http.get(f"{emu.url}/drives/b!drive-eng/items/nope"), 404, "itemNotFound")
    unknown_share = "u!" + base64.urlsafe_b64encode(b"https://contoso.sharepoint.com/x").decode().rstrip("=")
    assert_error(http.get(f"{emu.url}/shares/{unknown_share}/driveItem"), 404, "itemNotFound")
    assert_error(http.get(f"{emu.url}/shares/garbage/driveItem"), 400, "invalidRequest")
    assert_error(http.get(f"{emu.url}/teams/{TEAM_A}/nonsense"), 400, "BadRequest",
                 "Resource not found for the segment 'nonsense'")
    assert http.post(f"{emu.url}/teams", json={}).status_code == 405


# ---- throttling and faults -----------------------------------------------------------------------

def test_per_channel_rate_gives_429_with_retry_after_then_succeeds():
    with GraphEmulator(build_tenant(), rate_scale=5) as emu, requests.Session() as s:
        s.headers.update(AUTH)
        url = f"{emu.url}/teams/{TEAM_A}/channels/{ch(PRIVATE)}/messages"
        statuses = [s.get(url).status_code for _ in range(6)]
        assert statuses == [200] * 5 + [429]  # burst = one second's worth at 5 rps
        r = s.get(url)
        assert r.status_code == 429
        wait = float(r.headers["Retry-After"])
        assert 0 < wait <= 0.2
        err = r.json()["error"]
        assert err["code"] == "TooManyRequests" and err["message"] == "Please retry again later."
        assert err["innerError"]["code"] == "429" and err["innerError"]["status"] == "429"
        assert err["innerError"]["message"] == "Please retry after"
        # another channel of the team is not affected by this channel's bucket
        assert s.get(f"{emu.url}/teams/{TEAM_A}/channels/{ch(SHARED_CH)}/messages").status_code == 200
        time.sleep(wait)
        assert s.get(url).status_code == 200
        counters = emu.counters()
        assert counters["throttled"] == 2 and counters["byStatus"]["429"] == 2


def test_team_cap_of_four_per_second_spans_channels():
    with GraphEmulator(build_tenant(), rate_scale=1) as emu, requests.Session() as s:
        s.headers.update(AUTH)
        statuses = [s.get(f"{emu.url}/teams/{TEAM_A}/channels/{ch(c)}/messages").status_code
                    for c in (GENERAL, PRIVATE, SHARED_CH, BUSY)]
        assert statuses == [200] * 4
        r = s.get(f"{emu.url}/teams/{TEAM_A}/members")  # same team, another route
        assert r.status_code == 429 and 0 < float(r.headers["Retry-After"]) <= 0.25
        assert s.get(f"{emu.url}/teams/{TEAM_B}/members").status_code == 200


def test_throttle_false_never_429():
    with GraphEmulator(build_tenant(), rate_scale=1, throttle=False) as emu, requests.Session() as s:
        s.headers.update(AUTH)
        url = f"{emu.url}/teams/{TEAM_A}/channels/{ch(PRIVATE)}/messages"
        assert {s.get(url).status_code for _ in range(10)} == {200}


def _outcomes(emu: GraphEmulator, n: int) -> list:
    out = []
    for _ in range(n):
        try:
            r = requests.get(f"{emu.url}/teams/{TEAM_A}/channels/{ch(GENERAL)}/messages", headers=AUTH,
                             timeout=5)
            out.append(r.status_code)
        except requests.ConnectionError:
            out.append("reset")
    return out


def test_faults_are_reproducible_with_a_seed(fresh):
    plan = FaultPlan({"http_503": 0.25, "http_504": 0.15, "reset": 0.15})
    fresh.configure_faults(7, plan)
    first = _outcomes(fresh, 40)
    fresh.configure_faults(7, plan)
    assert _outcomes(fresh, 40) == first
    assert {200, 503, 504, "reset"} <= set(first)
    faults = fresh.counters()["faults"]
    assert faults["http_503"] == 2 * first.count(503) and faults["reset"] == 2 * first.count("reset")
    fresh.configure_faults(8, plan)
    assert _outcomes(fresh, 40) != first


def test_fault_bodies_and_429_without_retry_after_over_control_api(fresh):
    ctl = f"{fresh.origin}/_control/faults"
    r = requests.post(ctl, json={"seed": 1, "rates": {"429_no_retry_after": 1.0}, "only": ["/messages"]})
    assert r.status_code == 200
    r = requests.get(f"{fresh.url}/teams/{TEAM_A}/channels/{ch(GENERAL)}/messages", headers=AUTH)
    assert r.status_code == 429 and "Retry-After" not in r.headers
    assert r.json()["error"]["code"] == "TooManyRequests"
    assert requests.get(f"{fresh.url}/teams", headers=AUTH).status_code == 200  # not in `only`
    requests.post(ctl, json={"seed": 1, "rates": {"http_503": 1.0}})
    assert_error(requests.get(f"{fresh.url}/teams", headers=AUTH), 503, "serviceNotAvailable")
    requests.post(ctl, json={"seed": 1, "rates": {"http_504": 1.0}})
    assert requests.get(f"{fresh.url}/teams", headers=AUTH).status_code == 504
    assert requests.post(ctl, json={"seed": 1, "rates": {"meteor": 1.0}}).status_code == 400
    requests.post(ctl, json={"seed": 1, "rates": {"drop_after_processing": 1.0}})
    with pytest.raises(requests.ConnectionError):  # served and counted, but the answer is lost
        requests.get(f"{fresh.url}/users", headers=AUTH)
    assert fresh.counters()["byRoute"]["users"] == 1
    requests.post(ctl, json={"seed": 1, "rates": {}})
    assert requests.get(f"{fresh.url}/teams", headers=AUTH).status_code == 200
    counters = requests.get(f"{fresh.origin}/_control/counters").json()
    assert counters["faults"] == {"429_no_retry_after": 1, "http_503": 1, "http_504": 1,
                                  "drop_after_processing": 1}


# ---- $batch ----------------------------------------------------------------------------------------

def test_batch_of_20_and_limits(emu, http):
    reqs = [{"id": str(i), "method": "GET", "url": f"/users/{uid(i)}?$select=id"} for i in range(19)]
    reqs.append({"id": "ch", "method": "GET", "url": f"teams/{TEAM_A}/channels",
                 "headers": {"Prefer": "include-unknown-enum-members"}})
    r = http.post(f"{emu.url}/$batch", json={"requests": reqs})
    assert r.status_code == 200
    responses = {x["id"]: x for x in r.json()["responses"]}
    assert len(responses) == 20 and all(x["status"] == 200 for x in responses.values())
    assert responses["3"]["body"]["id"] == uid(3)
    assert "shared" in {c["membershipType"] for c in responses["ch"]["body"]["value"]}
    # the envelope's headers are not the items' headers
    plain = http.post(f"{emu.url}/$batch", headers={"Prefer": "include-unknown-enum-members"},
                      json={"requests": [{"id": "1", "method": "GET", "url": f"/teams/{TEAM_A}/channels"}]})
    assert "shared" not in {c["membershipType"] for c in plain.json()["responses"][0]["body"]["value"]}
    too_many = reqs + [{"id": "21", "method": "GET", "url": "/teams"}]
    assert_error(http.post(f"{emu.url}/$batch", json={"requests": too_many}), 400, "BadRequest")
    dup = [{"id": "1", "method": "GET", "url": "/teams"}] * 2
    assert_error(http.post(f"{emu.url}/$batch", json={"requests": dup}), 400, "BadRequest")
    assert requests.post(f"{emu.url}/$batch", json={"requests": reqs[:1]}).status_code == 401


def test_batch_depends_on_and_binary_items(emu, http):
    hc = ch("aWQ9eF8wLWN1cy1kMSsvPQ==")
    reqs = [{"id": "a", "method": "GET", "url": "/teams/nope"},
            {"id": "b", "method": "GET", "url": "/teams", "dependsOn": ["a"]},
            {"id": "c", "method": "GET",
             "url": f"/teams/{TEAM_A}/channels/{ch(BUSY)}/messages/{IMG_ROOT}/hostedContents/{hc}/$value"}]
    out = {x["id"]: x for x in http.post(f"{emu.url}/$batch", json={"requests": reqs}).json()["responses"]}
    assert out["a"]["status"] == 404 and out["b"]["status"] == 424
    assert out["c"]["headers"]["Content-Type"] == "image/png"
    assert base64.b64decode(out["c"]["body"]) == PNG


def test_batch_items_are_throttled_one_by_one():
    with GraphEmulator(build_tenant(), rate_scale=1) as emu:
        url = f"/teams/{TEAM_A}/channels/{ch(PRIVATE)}/messages"
        reqs = [{"id": str(i), "method": "GET", "url": url} for i in range(3)]
        r = requests.post(f"{emu.url}/$batch", headers=AUTH, json={"requests": reqs})
        assert r.status_code == 200  # the envelope succeeds even when items are throttled
        out = {x["id"]: x for x in r.json()["responses"]}
        assert out["0"]["status"] == 200
        for i in ("1", "2"):
            assert out[i]["status"] == 429 and out[i]["headers"]["Retry-After"] == "1"
            assert out[i]["body"]["error"]["code"] == "TooManyRequests"
        counters = emu.counters()
        assert counters["batchItems"] == 3 and counters["throttled"] == 2
        assert counters["byRoute"]["messages"] == 3 and counters["byRoute"]["batch"] == 1


# ---- files -------------------------------------------------------------------------------------------

def share_token(url: str) -> str:
    return "u!" + base64.b64encode(url.encode()).decode().rstrip("=").replace("/", "_").replace("+", "-")


def test_shares_drive_item_and_302_download(emu, http):
    token = share_token(FILE_URL)
    item = http.get(f"{emu.url}/shares/{token}/driveItem").json()
    assert (item["id"], item["name"], item["size"]) == ("01ABCDEF", "report.pdf", len(FILE_BYTES))
    assert item["file"]["mimeType"] == "application/pdf"
    assert item["parentReference"]["driveId"] == "b!drive-eng"
    direct = requests.get(item["@microsoft.graph.downloadUrl"])  # no Authorization
    assert direct.content == FILE_BYTES
    r = http.get(f"{emu.url}/shares/{token}/driveItem/content", allow_redirects=False)
    assert r.status_code == 302
    location = r.headers["Location"]
    assert location.startswith(emu.origin + "/_download/")
    got = requests.get(location)
    assert got.status_code == 200 and got.content == FILE_BYTES
    assert got.headers["Content-Type"] == "application/pdf"
    part = requests.get(location, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == FILE_BYTES[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(FILE_BYTES)}"
    tail = requests.get(location, headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == FILE_BYTES[-10:]
    assert requests.get(location, headers={"Range": f"bytes={len(FILE_BYTES)}-"}).status_code == 416
    assert requests.get(location[:-4] + "abcd").status_code == 401  # tampered URL
    followed = http.get(f"{emu.url}/shares/{token}/driveItem/content")  # requests follows the 302
    assert followed.content == FILE_BYTES


def test_drive_item_by_id_and_content(emu, http):
    item = http.get(f"{emu.url}/drives/b!drive-eng/items/01ABCDEF").json()
    assert item["webUrl"] == FILE_URL
    r = http.get(f"{emu.url}/drives/b!drive-eng/items/01ABCDEF/content", allow_redirects=False)
    assert r.status_code == 302
    assert requests.get(r.headers["Location"]).content == FILE_BYTES


def test_hosted_contents(emu, http):
    base = f"{emu.url}/teams/{TEAM_A}/channels/{ch(BUSY)}/messages/{IMG_ROOT}"
    listing = http.get(f"{base}/hostedContents").json()["value"]
    assert listing == [{"id": "aWQ9eF8wLWN1cy1kMSsvPQ==", "contentBytes": None, "contentType": None}]
    r = http.get(f"{base}/hostedContents/{ch(listing[0]['id'])}/$value")
    assert r.status_code == 200 and r.content == PNG and r.headers["Content-Type"] == "image/png"
    r = http.get(f"{base}/replies/{IMG_REPLY}/hostedContents/{ch('aWQ9eF8yLWN1cy1kMg==')}/%24value")
    assert r.content == b"\xff\xd8jpeg" and r.headers["Content-Type"] == "image/jpeg"
    assert_error(http.get(f"{base}/hostedContents/nope/$value"), 404, "NotFound")


# ---- control operations, incremental sync --------------------------------------------------------

def test_control_changes_show_up_in_a_modified_window(fresh):
    ctl, graph = f"{fresh.origin}/_control", f"{fresh.url}/teams/{TEAM_A}/channels"
    since = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    time.sleep(0.002)
    new = requests.post(f"{ctl}/messages", json={"teamId": TEAM_A, "channelId": GENERAL, "message": {
        "body": {"contentType": "text", "content": "fresh"}, "from": {"user": identity(3)}}})
    assert new.status_code == 201
    root = new.json()
    assert root["id"].isdigit() and root["createdDateTime"].endswith("Z")
    assert (root["messageType"], root["locale"], root["importance"]) == ("message", "en-us", "normal")
    assert root["channelIdentity"] == {"teamId": TEAM_A, "channelId": GENERAL}
    reply = fresh.add_message(TEAM_A, GENERAL, {"replyToId": root["id"], "body": {"content": "re"}})
    assert int(reply["id"]) > int(root["id"])
    old_id = str(BASE + 5 * MINUTE)
    old = requests.get(f"{graph}/{ch(GENERAL)}/messages/{old_id}", headers=AUTH).json()
    edited = requests.patch(f"{ctl}/messages/{TEAM_A}/{ch(GENERAL)}/{old_id}",
                            json={"body": {"contentType": "html", "content": "<p>changed</p>"}}).json()
    assert edited["lastEditedDateTime"] and edited["etag"] != old["etag"]
    reacted = fresh.edit_message(TEAM_A, GENERAL, str(BASE + 6 * MINUTE), {"reactions": [
        {"reactionType": "💯", "displayName": "Hundred points", "reactionContentUrl": None,
         "createdDateTime": iso(BASE), "user": {"user": identity(1)}}]})
    assert reacted["lastEditedDateTime"] is None and reacted["lastModifiedDateTime"] > since
    deleted_id = str(BASE + 7 * MINUTE)
    r = requests.delete(f"{ctl}/messages/{TEAM_A}/{GENERAL}/{deleted_id}")
    assert r.status_code == 200
    window, _ = page_all(requests.Session(), f"{graph}/getAllMessages?$filter=" +
                         quote(f"lastModifiedDateTime gt {since}"), headers=AUTH)
    by_id = {m["id"]: m for m in window}
    assert set(by_id) == {root["id"], reply["id"], old_id, str(BASE + 6 * MINUTE), deleted_id}
    assert by_id[reply["id"]]["replyToId"] == root["id"]
    assert by_id[old_id]["body"]["content"] == "<p>changed</p>"
    gone = requests.get(f"{graph}/{ch(GENERAL)}/messages/{deleted_id}", headers=AUTH).json()
    assert gone["body"]["content"] == "" and gone["deletedDateTime"]
    listed = requests.get(f"{graph}/{ch(GENERAL)}/messages?$top=50", headers=AUTH).json()["value"]
    assert deleted_id in {m["id"] for m in listed} and listed[0]["id"] == root["id"]
    replies = requests.get(f"{graph}/{ch(GENERAL)}/messages/{root['id']}/replies", headers=AUTH).json()
    assert [m["id"] for m in replies["value"]] == [reply["id"]]
    assert requests.delete(f"{ctl}/messages/{TEAM_A}/{GENERAL}/999").status_code == 404
    assert requests.post(f"{ctl}/messages", json={"teamId": TEAM_A}).status_code == 400


def test_control_channels_and_members(fresh):
    ctl = f"{fresh.origin}/_control"
    r = requests.post(f"{ctl}/channels", json={"teamId": TEAM_A, "channel": {
        "displayName": "Launch", "membershipType": "private"}, "members": [member(7, ("owner",))]})
    assert r.status_code == 201
    new = r.json()
    assert new["id"].startswith("19:") and new["createdDateTime"].endswith("Z")
    channels = requests.get(f"{fresh.url}/teams/{TEAM_A}/channels", headers=AUTH).json()["value"]
    assert new["id"] in {c["id"] for c in channels}
    assert requests.post(f"{ctl}/members", json={"teamId": TEAM_A, "channelId": new["id"],
                                                 "member": {"userId": uid(8), "displayName": "User 8"}}).ok
    members = requests.get(f"{fresh.url}/teams/{TEAM_A}/channels/{ch(new['id'])}/members",
                           headers=AUTH).json()["value"]
    assert [m["userId"] for m in members] == [uid(7), uid(8)]
    assert members[1]["@odata.type"] == "#microsoft.graph.aadUserConversationMember" and members[1]["id"]
    fresh.add_member(TEAM_A, {"userId": uid(200), "displayName": "User 200", "roles": ["guest"]})
    team_members, _ = page_all(requests.Session(), f"{fresh.url}/teams/{TEAM_A}/members", headers=AUTH)
    assert len(team_members) == 131 and team_members[-1]["roles"] == ["guest"]
    new_msg = fresh.add_message(TEAM_A, new["id"], {"body": {"content": "first"}})
    got = requests.get(f"{fresh.url}/teams/{TEAM_A}/channels/{ch(new['id'])}/messages", headers=AUTH)
    assert [m["id"] for m in got.json()["value"]] == [new_msg["id"]]
    assert requests.post(f"{ctl}/channels", json={"teamId": "nope", "channel": {"displayName": "x"}}
                         ).status_code == 404


def test_pages_stay_stable_when_messages_arrive_while_paging(fresh):
    url = f"{fresh.url}/teams/{TEAM_A}/channels/{ch(GENERAL)}/messages?$top=10"
    seen, pages = [], 0
    while url:
        body = requests.get(url, headers=AUTH).json()
        seen += [m["id"] for m in body["value"]]
        if pages == 0:  # a new root arrives after the first page
            fresh.add_message(TEAM_A, GENERAL, {"body": {"content": "late"}})
        pages += 1
        url = body.get("@odata.nextLink")
    assert len(seen) == len(set(seen)) == 46  # nothing missing, nothing twice


def test_counters_and_reset(fresh):
    requests.get(f"{fresh.url}/teams", headers=AUTH)
    requests.get(f"{fresh.url}/users?$top=1", headers=AUTH)
    requests.get(f"{fresh.url}/users", headers={})
    counters = fresh.counters()
    assert counters["requests"] == 3
    assert counters["byRoute"] == {"teams": 1, "users": 1}
    assert counters["byStatus"] == {"200": 2, "401": 1}
    assert requests.post(f"{fresh.origin}/_control/counters/reset").ok
    assert fresh.counters()["requests"] == 0 and fresh.counters()["byRoute"] == {}


def test_large_tenant_indexes_serve_deep_pages_quickly():
    """60,000 messages in 400 channels: load once, then deep pages cost no tenant scan."""
    teams = []
    for t in range(10):
        channels = []
        for c in range(40):
            start = BASE + (t * 40 + c) * 10_000_000
            msgs = [message(start + i * 1000, "m") for i in range(100)]
            msgs += [message(start + 200_000 + i * 1000, "r", reply_to=start) for i in range(50)]
            channels.append(TeamsChannelData(channel(f"19:c{t}-{c}@thread.tacv2", f"c{c}"), [], msgs))
        teams.append(TeamsTeamData({"id": f"team-{t}", "displayName": f"T{t}"}, [], channels))
    tenant = GraphTenant(TENANT, teams=teams)
    began = time.perf_counter()
    with GraphEmulator(tenant, throttle=False) as emu, requests.Session() as s:
        s.headers.update(AUTH)
        loaded = time.perf_counter() - began
        url = f"{emu.url}/teams/team-9/channels/getAllMessages?$top=50&$filter=" + quote(
            f"lastModifiedDateTime ge {iso(BASE + 399 * 10_000_000)}")
        items, pages = page_all(s, url)
        assert len(items) == 150 and pages == 3
        began = time.perf_counter()
        for _ in range(20):
            assert s.get(f"{emu.url}/teams/team-9/channels/{ch('19:c9-39@thread.tacv2')}/messages"
                         ).status_code == 200
        per_request = (time.perf_counter() - began) / 20
    assert loaded < 10 and per_request < 0.05, (loaded, per_request)


# ---- contract: payloads only carry what the v1.0 schema declares ---------------------------------

EDM_CHECKS = {
    "Edm.String": lambda v: isinstance(v, str),
    "Edm.Boolean": lambda v: isinstance(v, bool),
    "Edm.Int32": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "Edm.Int64": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "Edm.Double": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "Edm.Binary": lambda v: isinstance(v, str),
    "Edm.Guid": lambda v: isinstance(v, str),
    "Edm.DateTimeOffset": lambda v: isinstance(v, str) and re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,7})?(Z|[+-]\d\d:\d\d)", v) is not None,
}
# Open properties that real payloads carry beyond the CSDL (reference §5.1, §9).
OPEN_PROPERTIES = {"identity": {"tenantId"}}


class SchemaChecker:
    def __init__(self, schema: dict) -> None:
        self.types = schema["types"]

    def chain(self, name: str) -> list[str]:
        out = []
        while name:
            out.append(name)
            name = self.types.get(name, {}).get("baseType")
        return out

    def properties(self, name: str) -> dict:
        props: dict = {}
        for t in self.chain(name):
            props.update(self.types[t].get("navigationProperties", {}))
            props.update(self.types[t].get("properties", {}))
        return props

    def check(self, value, type_name: str, path: str) -> None:
        if type_name.startswith("Edm."):
            check = EDM_CHECKS.get(type_name)
            assert check is None or check(value), f"{path}: {value!r} is not {type_name}"
            return
        spec = self.types.get(type_name)
        if spec is None:  # a type the extract leaves out (e.g. file, itemReference)
            assert isinstance(value, dict), f"{path}: expected an object of {type_name}"
            return
        if spec["kind"] == "enum":
            assert value in spec["members"], f"{path}: {value!r} is not a {type_name}"
            return
        assert isinstance(value, dict), f"{path}: expected an object of {type_name}"
        odata_type = value.get("@odata.type")
        if odata_type:
            sub = odata_type.rsplit(".", 1)[-1]
            assert sub in self.types and type_name in self.chain(sub), f"{path}: {sub} is not a {type_name}"
            type_name = sub
        props = self.properties(type_name)
        open_props = set().union(*(OPEN_PROPERTIES.get(t, set()) for t in self.chain(type_name)))
        for key, item in value.items():
            if key.startswith("@") or "@odata." in key or "@microsoft.graph." in key:
                continue
            where = f"{path}.{key}"
            if key not in props:
                assert key in open_props, f"{where} is not declared on {type_name}"
                continue
            decl = props[key]
            if item is None:
                assert decl.get("nullable", True), f"{where} is null but not nullable"
                continue
            if decl.get("collection"):
                assert isinstance(item, list), f"{where} should be a collection"
                for i, element in enumerate(item):
                    self.check(element, decl["type"], f"{where}[{i}]")
            else:
                self.check(item, decl["type"], where)


@pytest.fixture(scope="module")
def schema_checker() -> SchemaChecker:
    path = SHARED / "contracts" / "graph-teams-schemas.json"
    if not SHARED.is_dir():
        pytest.skip(f"../shared is absent: {SHARED} holds the v1.0 schema extract (CI has it)")
    return SchemaChecker(json.loads(path.read_text(encoding="utf-8")))


def test_payloads_match_the_v1_schema(emu, http, schema_checker):
    prefer = {"Prefer": "include-unknown-enum-members"}
    all_user_fields = ",".join(user(0))
    payloads = [
        (http.get(f"{emu.url}/users/{uid(1)}").json(), "user"),
        (http.get(f"{emu.url}/users/{uid(1)}?$select={all_user_fields}").json(), "user"),
        *[(t, "team") for t in http.get(f"{emu.url}/teams").json()["value"]],
        (http.get(f"{emu.url}/teams/{TEAM_A}").json(), "team"),
        *[(g, "group") for g in http.get(f"{emu.url}/groups").json()["value"]],
        *[(c, "channel") for c in http.get(f"{emu.url}/teams/{TEAM_A}/channels", headers=prefer).json()["value"]],
        *[(m, "conversationMember") for m in http.get(f"{emu.url}/teams/{TEAM_A}/members?$top=5").json()["value"]],
        *[(m, "chatMessage") for m in http.get(
            f"{emu.url}/teams/{TEAM_A}/channels/{ch(GENERAL)}/messages?$top=50&$expand=replies",
            headers=prefer).json()["value"]],
        *[(m, "chatMessage") for m in http.get(
            f"{emu.url}/teams/{TEAM_A}/channels/getAllMessages?$top=50").json()["value"]],
        (http.get(f"{emu.url}/teams/{TEAM_A}/channels/{ch(BUSY)}/messages/{IMG_ROOT}/replies/{IMG_REPLY}").json(),
         "chatMessage"),
        *[(h, "chatMessageHostedContent") for h in http.get(
            f"{emu.url}/teams/{TEAM_A}/channels/{ch(BUSY)}/messages/{IMG_ROOT}/hostedContents").json()["value"]],
        (http.get(f"{emu.url}/shares/{share_token(FILE_URL)}/driveItem").json(), "driveItem"),
    ]
    kinds = {t for _, t in payloads}
    assert {"user", "team", "channel", "conversationMember", "chatMessage", "driveItem"} <= kinds
    assert any(p.get("replyToId") for p, t in payloads if t == "chatMessage")
    for payload, type_name in payloads:
        schema_checker.check(payload, type_name, type_name)
    # the checker itself refuses what the schema does not declare
    with pytest.raises(AssertionError):
        schema_checker.check({"id": "x", "shoeSize": 42}, "user", "user")
    with pytest.raises(AssertionError):
        schema_checker.check({"id": "x", "isArchived": "no"}, "team", "team")
