"""The Graph emulator's chats over real HTTP with `requests`: per-user getAllMessages (once per
current member), its filters and paging, chats, members, messages, hosted contents,
permissions, throttling, control operations and the on-disk format."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from migrate.sandbox.graph_emulator import GraphEmulator
from migrate.sandbox.graph_odata import encode_sharing_url
from migrate.sandbox.tenant import (
    SANDBOX_GRAPH_TOKEN,
    DriveItem,
    GraphTenant,
    HostedContent,
    TeamsChatData,
    load_graph_tenant,
)
from tests.sandbox.test_graph_emulator import SHARED, SchemaChecker

TENANT = "7f1a5c00-0000-4000-8000-0000000c4a75"
ONE = "19:00000000-0000-4000-8000-000000000001_00000000-0000-4000-8000-000000000002@unq.gbl.spaces"
GROUP = "19:group0000000000000000000000000001@thread.v2"
MEETING = "19:meeting_Njk0ZjA0YjAtM2Y1Zi00@thread.v2"
BASE = 1_735_689_600_000          # 2025-01-01T00:00:00Z in epoch ms
MINUTE = 60_000
GROUP_SIZE = 30                   # current members of GROUP: users 0..29 except 3, plus 30
GROUP_TEXTS = 60
BOT_MSG = str(BASE + 2 * 86_400_000)
LEFT_EVENT = str(BASE + 2 * 86_400_000 + MINUTE)
IMG_MSG = str(BASE + 3 * 86_400_000)
HOSTED_ID = "aWQ9eF8wLXdldS1kMTAtYWJj"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 30
CHAT_FILE = ("https://contoso-my.sharepoint.com/personal/user1_contoso_com/Documents/"
             "Microsoft%20Teams%20Chat%20Files/%E8%A6%8B%E7%A9%8D%E3%82%82%E3%82%8A.csv")
CSV = "品名,数量\n".encode()
AUTH = {"Authorization": f"Bearer {SANDBOX_GRAPH_TOKEN}"}
PREFER = {"Prefer": "include-unknown-enum-members"}


# ---- a small tenant with chats, in memory -----------------------------------------------------

def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def uid(i: int) -> str:
    return f"00000000-0000-4000-8000-{i:012d}"


def user(i: int) -> dict:
    return {"id": uid(i), "displayName": f"User {i}", "mail": f"user{i}@contoso.com",
            "userPrincipalName": f"user{i}@contoso.onmicrosoft.com", "userType": "Member"}


def member(i: int) -> dict:
    return {"@odata.type": "#microsoft.graph.aadUserConversationMember", "id": f"Y2hhdC0{i:04d}",
            "roles": ["owner"], "displayName": f"User {i}",
            "visibleHistoryStartDateTime": "0001-01-01T00:00:00Z", "userId": uid(i),
            "email": f"user{i}@contoso.com", "tenantId": TENANT}


def identity(i: int) -> dict:
    return {"@odata.type": "#microsoft.graph.teamworkUserIdentity", "id": uid(i),
            "displayName": f"User {i}", "userIdentityType": "aadUser", "tenantId": TENANT}


def message(chat_id: str, ms: int, text: str, author: int | None = 0, **extra) -> dict:
    msg = {"id": str(ms), "replyToId": None, "etag": str(ms), "messageType": "message",
           "createdDateTime": iso(ms), "lastModifiedDateTime": iso(ms), "lastEditedDateTime": None,
           "deletedDateTime": None, "subject": None, "summary": None, "chatId": chat_id,
           "importance": "normal", "locale": "en-us", "webUrl": None, "channelIdentity": None,
           "policyViolation": None, "eventDetail": None,
           "from": None if author is None else {"application": None, "device": None,
                                                "user": identity(author)},
           "body": {"contentType": "html", "content": f"<p>{text}</p>"},
           "attachments": [], "mentions": [], "reactions": [], "messageHistory": []}
    msg.update(extra)
    return msg


def chat(cid: str, kind: str, topic: str | None, **extra) -> dict:
    return {"id": cid, "topic": topic, "createdDateTime": iso(BASE - 86_400_000),
            "lastUpdatedDateTime": iso(BASE - 86_400_000), "chatType": kind,
            "webUrl": f"https://teams.microsoft.com/l/chat/{quote(cid)}/0?tenantId={TENANT}",
            "tenantId": TENANT, **extra}


def build_tenant() -> GraphTenant:
    one = [message(ONE, BASE + i * MINUTE, f"dm {i}", author=1 + i % 2) for i in range(3)]
    one[1]["attachments"] = [{"id": "6a1b2c3d-0000-4000-8000-000000000001",
                              "contentType": "reference", "contentUrl": CHAT_FILE,
                              "content": None, "name": "見積もり.csv", "thumbnailUrl": None,
                              "teamsAppId": None}]
    # user 3 wrote in the group, then left it: not a member, messages kept
    group = [message(GROUP, BASE + 86_400_000 + i * MINUTE, f"group {i}", author=i % 5)
             for i in range(GROUP_TEXTS)]
    group.append(message(GROUP, int(BOT_MSG), "build passed", author=None, **{"from": {
        "application": {"@odata.type": "#microsoft.graph.teamworkApplicationIdentity",
                        "id": "b0b0b0b0-0000-4000-8000-00000000b0b0", "displayName": "CI",
                        "applicationIdentityType": "bot"}, "device": None, "user": None}}))
    group.append(message(
        GROUP, int(LEFT_EVENT), "", author=None, messageType="systemEventMessage",
        body={"contentType": "html", "content": "<systemEventMessage/>"},
        eventDetail={"@odata.type": "#microsoft.graph.membersDeletedEventMessageDetail",
                     "members": [identity(3)],
                     "initiator": {"application": None, "device": None, "user": identity(3)}}))
    group.append(message(GROUP, int(IMG_MSG), (
        f'<img src="https://graph.microsoft.com/v1.0/chats/{GROUP}/messages/{IMG_MSG}'
        f'/hostedContents/{HOSTED_ID}/$value">'), author=2))
    meeting = [message(MEETING, BASE + 4 * 86_400_000 + i * MINUTE, f"meet {i}", author=(1, 3)[i % 2])
               for i in range(4)]
    group_members = [member(i) for i in range(GROUP_SIZE + 1) if i != 3]
    return GraphTenant(
        TENANT, "Contoso", users=[user(i) for i in range(40)],
        chats=[
            TeamsChatData(chat(ONE, "oneOnOne", None), [member(1), member(2)], one),
            TeamsChatData(chat(GROUP, "group", "Release crew"), group_members, group),
            TeamsChatData(chat(MEETING, "meeting", "Weekly sync", onlineMeetingInfo={
                "calendarEventId": None, "joinWebUrl": "https://teams.microsoft.com/l/meetup-join/x",
                "organizer": identity(1)}), [member(1), member(3)], meeting),
        ],
        hosted_contents=[HostedContent(IMG_MSG, HOSTED_ID, "image/png", PNG, chat_id=GROUP)],
        drive_items=[DriveItem("b!onedrive-user1", "01CHATFILE", "見積もり.csv", CHAT_FILE, "text/csv",
                               CSV)],
    )


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


def authed() -> requests.Session:
    session = requests.Session()
    session.headers.update(AUTH)
    return session


def q(value: str) -> str:
    return quote(value, safe="")


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


def all_messages(emu: GraphEmulator, http: requests.Session, who: str, flt: str | None = None,
                 top: int = 50) -> list[dict]:
    url = f"{emu.url}/users/{who}/chats/getAllMessages?$top={top}"
    if flt is not None:
        url += "&$filter=" + q(flt)
    return page_all(http, url)[0]


def assert_error(r: requests.Response, status: int, code: str, contains: str = "") -> dict:
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] == code and contains in err["message"], err
    return err


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# ---- getAllMessages: who sees what ---------------------------------------------------------------

def test_each_user_gets_the_messages_of_their_current_chats(emu, http):
    tenant = build_tenant()
    ids = {c.chat["id"]: {m["id"] for m in c.messages} for c in tenant.chats}
    mine = all_messages(emu, http, uid(1))
    assert {(m["chatId"], m["id"]) for m in mine} == {
        (c, i) for c in (ONE, GROUP, MEETING) for i in ids[c]}
    assert len(mine) == sum(len(ids[c]) for c in (ONE, GROUP, MEETING))
    # user 3 left the group: only the meeting chat, though they wrote in the group
    left = all_messages(emu, http, uid(3))
    assert {m["chatId"] for m in left} == {MEETING}
    assert any(m["from"] and m["from"]["user"] and m["from"]["user"]["id"] == uid(3)
               for m in all_messages(emu, http, uid(2)) if m["chatId"] == GROUP)
    # the UPN addresses the same user; someone in no chat gets an empty list
    assert len(all_messages(emu, http, "user1@contoso.onmicrosoft.com")) == len(mine)
    assert all_messages(emu, http, uid(39)) == []
    for m in mine:
        assert m["channelIdentity"] is None and m["replyToId"] is None and m["chatId"]


def test_a_group_message_comes_back_once_per_member_asked_about(emu, http):
    seen: dict[tuple[str, str], int] = {}
    members = [i for i in range(GROUP_SIZE + 1) if i != 3]
    for i in members + [3, 39]:
        for m in all_messages(emu, http, uid(i)):
            seen[(m["chatId"], m["id"])] = seen.get((m["chatId"], m["id"]), 0) + 1
    group_counts = {n for (c, _), n in seen.items() if c == GROUP}
    assert group_counts == {len(members)}
    assert {n for (c, _), n in seen.items() if c == ONE} == {2}


def test_ordered_by_modification_and_paged_with_signed_next_links(emu, http):
    items, pages = page_all(http, f"{emu.url}/users/{uid(1)}/chats/getAllMessages?$top=7")
    assert pages == -(-len(items) // 7)
    stamps = [m["lastModifiedDateTime"] for m in items]
    assert stamps == sorted(stamps)
    assert len({(m["chatId"], m["id"]) for m in items}) == len(items)
    first = http.get(f"{emu.url}/users/{uid(1)}/chats/getAllMessages?$top=7").json()
    link = first["@odata.nextLink"]
    assert link.startswith(emu.url) and "$skiptoken=" in link
    assert_error(http.get(link[:-3] + "xyz"), 400, "BadRequest")
    assert_error(http.get(link.replace(uid(1), uid(2))), 400, "BadRequest")  # another user's token
    default = http.get(f"{emu.url}/users/{uid(1)}/chats/getAllMessages").json()
    assert len(default["value"]) == 20
    assert len(http.get(f"{emu.url}/users/{uid(1)}/chats/getAllMessages?$top=50").json()["value"]) == 50
    assert_error(http.get(f"{emu.url}/users/{uid(1)}/chats/getAllMessages?$top=51"), 400,
                 "BadRequest", "Limit of '50'")
    assert_error(http.get(f"{emu.url}/users/{uid(1)}/chats/getAllMessages?$orderby=id"), 400,
                 "BadRequest")
    assert_error(http.get(f"{emu.url}/users/nobody@contoso.onmicrosoft.com/chats/getAllMessages"),
                 404, "Request_ResourceNotFound")


def test_modified_range_filter(emu, http):
    lo, hi = BASE + 86_400_000 + 10 * MINUTE, BASE + 86_400_000 + 20 * MINUTE
    got = all_messages(emu, http, uid(1), f"lastModifiedDateTime gt {iso(lo)} and "
                                          f"lastModifiedDateTime lt {iso(hi)}")
    assert [m["id"] for m in got] == [str(BASE + 86_400_000 + i * MINUTE) for i in range(11, 20)]
    got = all_messages(emu, http, uid(2), f"lastModifiedDateTime ge {iso(BASE + 2 * 86_400_000)}")
    assert [m["id"] for m in got] == [BOT_MSG, LEFT_EVENT, IMG_MSG]


def test_sender_filters_and_or(emu, http):
    def senders(flt: str) -> set:
        out = set()
        for m in all_messages(emu, http, uid(1), flt):
            frm = m["from"] or {}
            out.add((frm.get("user") or {}).get("id") or (frm.get("application") or {}).get("id")
                    or m["messageType"])
        return out

    assert senders(f"from/user/id eq '{uid(3)}'") == {uid(3)}
    assert senders(f"lastModifiedDateTime gt {iso(BASE)} and "
                   f"(from/user/id eq '{uid(3)}' or from/user/id eq '{uid(4)}')") == {uid(3), uid(4)}
    assert senders("from/application/applicationIdentityType eq 'bot'") == {
        "b0b0b0b0-0000-4000-8000-00000000b0b0"}
    assert senders("from/user/userIdentityType eq 'aadUser'") == {uid(i) for i in range(5)}
    events = all_messages(emu, http, uid(1), "messageType eq 'systemEventMessage'")
    assert [m["id"] for m in events] == [LEFT_EVENT]
    assert events[0]["messageType"] == "unknownFutureValue"  # without the Prefer header
    others = all_messages(emu, http, uid(1), "messageType ne 'systemEventMessage'")
    assert LEFT_EVENT not in {m["id"] for m in others}
    assert len(others) == len(all_messages(emu, http, uid(1))) - 1
    # a filter that keeps few messages still pages to the end
    few, _ = page_all(http, f"{emu.url}/users/{uid(1)}/chats/getAllMessages?$top=2&$filter="
                      + q(f"from/user/id eq '{uid(3)}'"))
    assert len(few) == GROUP_TEXTS // 5 + 2


@pytest.mark.parametrize("flt", [
    "chatId eq 'x'",
    f"from/user/id ne '{uid(1)}'",
    "from/user/displayName eq 'User 1'",
    "lastModifiedDateTime gt 2025-01-01T00:00:00Z or messageType eq 'message'",
    "(from/user/id eq 'a' or from/user/id eq 'b'",
    "lastModifiedDateTime eq 2025-01-01T00:00:00Z",
    "messageType eq systemEventMessage",
])
def test_unsupported_filters_are_400(emu, http, flt):
    r = http.get(f"{emu.url}/users/{uid(1)}/chats/getAllMessages?$filter={q(flt)}")
    assert_error(r, 400, "BadRequest")


# ---- chats, members, messages, hosted contents ----------------------------------------------------

def test_user_chats_filter_and_expand_members_capped_at_25(emu, http):
    chats = http.get(f"{emu.url}/users/{uid(1)}/chats").json()["value"]
    assert [c["id"] for c in chats] == [ONE, GROUP, MEETING]
    assert [c["id"] for c in http.get(f"{emu.url}/users/{uid(3)}/chats").json()["value"]] == [MEETING]
    by_type = q("chatType eq 'group'")
    groups = http.get(f"{emu.url}/users/{uid(1)}/chats?$filter={by_type}")
    assert [c["id"] for c in groups.json()["value"]] == [GROUP]
    expanded = http.get(f"{emu.url}/users/{uid(1)}/chats?$expand=members&$top=50").json()["value"]
    by_id = {c["id"]: c for c in expanded}
    assert len(by_id[GROUP]["members"]) == 25 and len(by_id[ONE]["members"]) == 2
    members = http.get(f"{emu.url}/chats/{q(GROUP)}/members").json()["value"]
    assert len(members) == GROUP_SIZE and uid(3) not in {m["userId"] for m in members}
    preview = http.get(f"{emu.url}/users/{uid(1)}/chats?$expand=lastMessagePreview").json()["value"]
    assert {c["id"]: c["lastMessagePreview"]["id"] for c in preview}[GROUP] == IMG_MSG
    paged, pages = page_all(http, f"{emu.url}/users/{uid(1)}/chats?$top=2")
    assert pages == 2 and [c["id"] for c in paged] == [ONE, GROUP, MEETING]
    assert_error(http.get(f"{emu.url}/users/{uid(1)}/chats?$top=51"), 400, "BadRequest")
    by_topic = q("topic eq 'x'")
    assert_error(http.get(f"{emu.url}/users/{uid(1)}/chats?$filter={by_topic}"),
                 400, "BadRequest")
    assert_error(http.get(f"{emu.url}/users/{uid(1)}/chats?$expand=messages"), 400, "BadRequest")
    assert_error(http.get(f"{emu.url}/users/{uid(99)}/chats"), 404, "Request_ResourceNotFound")


def test_chat_messages_and_hosted_contents(emu, http):
    got = http.get(f"{emu.url}/chats/{q(MEETING)}").json()
    assert got["chatType"] == "meeting" and got["onlineMeetingInfo"]["organizer"]["id"] == uid(1)
    assert_error(http.get(f"{emu.url}/chats/{q('19:nope@thread.v2')}"), 404, "NotFound")
    items, pages = page_all(http, f"{emu.url}/chats/{q(GROUP)}/messages?$top=50")
    assert pages == 2 and len(items) == GROUP_TEXTS + 3
    stamps = [m["lastModifiedDateTime"] for m in items]
    assert stamps == sorted(stamps, reverse=True)   # newest first
    assert_error(http.get(f"{emu.url}/chats/{q(GROUP)}/messages?$top=51"), 400, "BadRequest")
    by_created = http.get(f"{emu.url}/chats/{q(GROUP)}/messages?$orderby=createdDateTime desc"
                          f"&$filter={q('createdDateTime lt ' + iso(int(BOT_MSG)))}").json()["value"]
    assert by_created[0]["id"] == str(BASE + 86_400_000 + (GROUP_TEXTS - 1) * MINUTE)
    # the filter is ignored without an $orderby on the same property (api/chat-list-messages)
    ignored = http.get(f"{emu.url}/chats/{q(GROUP)}/messages?$filter="
                       f"{q('createdDateTime lt ' + iso(BASE))}").json()["value"]
    assert ignored[0]["id"] == IMG_MSG
    assert_error(http.get(f"{emu.url}/chats/{q(GROUP)}/messages?$orderby=createdDateTime asc"),
                 400, "BadRequest")
    one = http.get(f"{emu.url}/chats/{q(GROUP)}/messages/{LEFT_EVENT}", headers=PREFER).json()
    assert one["messageType"] == "systemEventMessage" and one["from"] is None
    assert one["eventDetail"]["@odata.type"] == "#microsoft.graph.membersDeletedEventMessageDetail"
    assert_error(http.get(f"{emu.url}/chats/{q(ONE)}/messages/{LEFT_EVENT}"), 404, "NotFound")
    base = f"{emu.url}/chats/{q(GROUP)}/messages/{IMG_MSG}/hostedContents"
    assert http.get(base).json()["value"] == [{"id": HOSTED_ID, "contentBytes": None,
                                               "contentType": None}]
    r = http.get(f"{base}/{q(HOSTED_ID)}/$value")
    assert r.status_code == 200 and r.content == PNG and r.headers["Content-Type"] == "image/png"
    assert http.get(f"{base}/{q(HOSTED_ID)}").json()["id"] == HOSTED_ID
    # the body's own URL, rebased on the emulator, answers the same bytes
    src = items[0]["body"]["content"].split('"')[1]
    assert http.get(src.replace("https://graph.microsoft.com/v1.0", emu.url)).content == PNG
    assert_error(http.get(f"{base}/other/$value"), 404, "NotFound")
    assert http.get(f"{emu.url}/chats/{q(ONE)}/messages/{BASE}/hostedContents").json()["value"] == []


def test_a_chat_file_with_a_non_ascii_name_downloads_through_shares(emu, http):
    att = http.get(f"{emu.url}/chats/{q(ONE)}/messages/{BASE + MINUTE}").json()["attachments"][0]
    r = http.get(f"{emu.url}/shares/{encode_sharing_url(att['contentUrl'])}/driveItem/content")
    assert r.status_code == 200 and r.content == CSV
    disposition = r.headers["Content-Disposition"]
    assert "filename*=UTF-8''%E8%A6%8B%E7%A9%8D%E3%82%82%E3%82%8A.csv" in disposition


def test_chat_routes_in_batch_and_counted(fresh):
    body = {"requests": [
        {"id": "1", "method": "GET", "url": f"/users/{uid(2)}/chats/getAllMessages?$top=5"},
        {"id": "2", "method": "GET", "url": f"/chats/{q(ONE)}/members"},
        {"id": "3", "method": "GET", "url": f"/chats/{q(GROUP)}/messages/{IMG_MSG}/hostedContents/"
                                            f"{q(HOSTED_ID)}/$value"},
    ]}
    r = requests.post(f"{fresh.url}/$batch", json=body, headers=AUTH).json()["responses"]
    by_id = {x["id"]: x for x in r}
    assert {x["status"] for x in r} == {200}
    assert len(by_id["1"]["body"]["value"]) == 5 and len(by_id["2"]["body"]["value"]) == 2
    assert by_id["3"]["headers"]["Content-Type"] == "image/png"
    assert fresh.counters()["byRoute"] == {"batch": 1, "chatsGetAllMessages": 1, "chatMembers": 1,
                                           "chatHostedContentValue": 1}


# ---- permissions and throttling ------------------------------------------------------------------

def test_403_names_chat_read_all_when_it_is_not_granted():
    perms = {"ChannelMessage.Read.All", "User.Read.All", "Chat.ReadBasic.All"}
    with GraphEmulator(build_tenant(), throttle=False, permissions=perms) as emu:
        get = lambda path: requests.get(f"{emu.url}{path}", headers=AUTH)  # noqa: E731
        err = assert_error(get(f"/users/{uid(1)}/chats/getAllMessages"), 403, "Forbidden",
                           "Chat.Read.All")
        assert "Chat.ReadWrite.All" in err["message"] and "Chat.ReadBasic.All" in err["message"]
        assert_error(get(f"/chats/{q(GROUP)}/messages"), 403, "Forbidden", "Chat.Read.All")
        assert_error(get(f"/chats/{q(GROUP)}/messages/{IMG_MSG}/hostedContents"), 403, "Forbidden")
        assert get(f"/users/{uid(1)}/chats").status_code == 200
        assert get(f"/chats/{q(GROUP)}").status_code == 200
        assert get(f"/chats/{q(GROUP)}/members").status_code == 200
    with GraphEmulator(build_tenant(), throttle=False, permissions={"ChatMember.Read.All"}) as emu:
        assert requests.get(f"{emu.url}/chats/{q(GROUP)}/members", headers=AUTH).status_code == 200
        assert_error(requests.get(f"{emu.url}/users/{uid(1)}/chats", headers=AUTH), 403,
                     "Forbidden", "Chat.ReadBasic.All")
    with GraphEmulator(build_tenant(), throttle=False, permissions={"Chat.ReadWrite.All"}) as emu:
        assert requests.get(f"{emu.url}/users/{uid(1)}/chats/getAllMessages",
                            headers=AUTH).status_code == 200


def test_per_chat_rate_gives_429_with_retry_after():
    with GraphEmulator(build_tenant(), rate_scale=5) as emu, requests.Session() as s:
        s.headers.update(AUTH)
        url = f"{emu.url}/chats/{q(GROUP)}/messages"
        statuses = [s.get(url).status_code for _ in range(6)]
        assert statuses == [200] * 5 + [429]   # burst: one second's worth of the 1 rps per chat
        r = s.get(f"{emu.url}/chats/{q(GROUP)}/members")   # same chat: same bucket
        assert r.status_code == 429
        wait = float(r.headers["Retry-After"])
        assert 0 < wait <= 0.2
        assert r.json()["error"]["code"] == "TooManyRequests"
        assert s.get(f"{emu.url}/chats/{q(ONE)}/messages").status_code == 200   # another chat
        # getAllMessages is the tenant-wide export class, not the chat's bucket
        assert s.get(f"{emu.url}/users/{uid(1)}/chats/getAllMessages").status_code == 200
        time.sleep(wait)
        assert s.get(url).status_code == 200
        assert emu.counters()["throttled"] == 2


def test_list_chats_is_capped_per_user():
    with GraphEmulator(build_tenant(), rate_scale=1) as emu, requests.Session() as s:
        s.headers.update(AUTH)
        statuses = [s.get(f"{emu.url}/users/{uid(1)}/chats").status_code for _ in range(6)]
        assert statuses == [200] * 5 + [429]   # 5 rps per user for list/get chat
        assert s.get(f"{emu.url}/users/{uid(2)}/chats").status_code == 200


# ---- control operations ----------------------------------------------------------------------------

def test_edits_deletes_and_new_messages_show_in_the_next_window(fresh):
    since = now_iso()
    time.sleep(0.002)
    posted = fresh.add_chat_message(ONE, {"body": {"contentType": "text", "content": "new"},
                                          "from": {"user": identity(2)}})
    assert posted["id"].isdigit() and posted["chatId"] == ONE and posted["channelIdentity"] is None
    assert posted["createdDateTime"] == posted["lastModifiedDateTime"] and posted["etag"]
    old_id = str(BASE + 86_400_000 + 5 * MINUTE)
    before = requests.get(f"{fresh.url}/chats/{q(GROUP)}/messages/{old_id}", headers=AUTH).json()
    edited = fresh.edit_chat_message(GROUP, old_id, {"body": {"contentType": "html",
                                                              "content": "<p>fixed</p>"}})
    assert edited["lastEditedDateTime"] and edited["etag"] != before["etag"]
    assert edited["lastModifiedDateTime"] > before["lastModifiedDateTime"]
    gone_id = str(BASE + 86_400_000 + 6 * MINUTE)
    gone = fresh.delete_chat_message(GROUP, gone_id)
    assert gone["deletedDateTime"] and gone["body"]["content"] == ""
    window = all_messages(fresh, authed(), uid(1), f"lastModifiedDateTime gt {since}")
    assert [m["id"] for m in window] == [posted["id"], old_id, gone_id]
    by_id = {m["id"]: m for m in window}
    assert by_id[old_id]["body"]["content"] == "<p>fixed</p>"
    assert by_id[gone_id]["body"]["content"] == "" and by_id[gone_id]["deletedDateTime"]
    # user 3 left the group and sees none of it; the whole history still has each message once
    assert all_messages(fresh, authed(), uid(3), f"lastModifiedDateTime gt {since}") == []
    full = all_messages(fresh, authed(), uid(1))
    assert len(full) == len({m["id"] for m in full})
    newest = requests.get(f"{fresh.url}/chats/{q(GROUP)}/messages?$top=2", headers=AUTH).json()
    assert [m["id"] for m in newest["value"]] == [gone_id, old_id]
    with pytest.raises(KeyError):
        fresh.edit_chat_message(GROUP, "1", {"body": {}})
    with pytest.raises(ValueError):
        fresh.edit_chat_message(GROUP, old_id, {"chatId": ONE})


def test_members_join_and_leave_with_system_events(fresh):
    since = now_iso()
    time.sleep(0.002)
    gone = fresh.remove_chat_member(GROUP, uid(2))
    assert [m["userId"] for m in gone] == [uid(2)]
    assert GROUP not in {m["chatId"] for m in all_messages(fresh, authed(), uid(2))}
    mine = [c["id"] for c in requests.get(f"{fresh.url}/users/{uid(2)}/chats", headers=AUTH).json()["value"]]
    assert mine == [ONE]
    seen_by_1 = all_messages(fresh, authed(), uid(1), f"lastModifiedDateTime gt {since}")
    assert [m["messageType"] for m in seen_by_1] == ["unknownFutureValue"]
    event = requests.get(f"{fresh.url}/chats/{q(GROUP)}/messages/{seen_by_1[0]['id']}",
                         headers={**AUTH, **PREFER}).json()
    assert event["eventDetail"]["@odata.type"] == "#microsoft.graph.membersDeletedEventMessageDetail"
    assert event["eventDetail"]["members"][0]["id"] == uid(2)
    chat_now = requests.get(f"{fresh.url}/chats/{q(GROUP)}", headers=AUTH).json()
    assert chat_now["lastUpdatedDateTime"] > since
    added = fresh.add_chat_member(GROUP, {"userId": uid(39), "displayName": "User 39"}, event=False)
    assert added["id"] and added["roles"] == ["owner"] and added["tenantId"] == TENANT
    assert {m["chatId"] for m in all_messages(fresh, authed(), uid(39))} == {GROUP}
    with pytest.raises(ValueError):
        fresh.add_chat_member(GROUP, {"userId": uid(39)})
    with pytest.raises(KeyError):
        fresh.remove_chat_member(GROUP, uid(3))   # left already


def test_control_api_over_http(fresh):
    ctl = f"{fresh.origin}/_control"
    r = requests.post(f"{ctl}/chats", json={"chat": {"chatType": "oneOnOne"},
                                            "members": [member(5), member(6)]})
    assert r.status_code == 201
    new = r.json()
    assert new["id"] == f"19:{uid(5)}_{uid(6)}@unq.gbl.spaces" and new["createdDateTime"]
    assert new["webUrl"].startswith("https://teams.microsoft.com/l/chat/")
    r = requests.post(f"{ctl}/chatMessages", json={"chatId": new["id"], "message": {
        "body": {"contentType": "text", "content": "hi"}, "from": {"user": identity(5)}}})
    assert r.status_code == 201
    mid = r.json()["id"]
    patched = requests.patch(f"{ctl}/chatMessages/{q(new['id'])}/{mid}",
                             json={"body": {"contentType": "text", "content": "hi!"}})
    assert patched.status_code == 200 and patched.json()["lastEditedDateTime"]
    assert requests.delete(f"{ctl}/chatMessages/{q(new['id'])}/{mid}").json()["deletedDateTime"]
    r = requests.post(f"{ctl}/chatMembers", json={"chatId": new["id"], "member": member(35)})
    assert r.status_code == 201
    assert requests.delete(f"{ctl}/chatMembers/{q(new['id'])}/{uid(5)}").status_code == 200
    msgs = requests.get(f"{fresh.url}/chats/{q(new['id'])}/messages", headers={**AUTH, **PREFER})
    kinds = [m["eventDetail"]["@odata.type"].rsplit(".", 1)[-1] if m["eventDetail"] else "text"
             for m in msgs.json()["value"]]
    assert kinds == ["membersDeletedEventMessageDetail", "membersAddedEventMessageDetail", "text"]
    assert [c["id"] for c in requests.get(f"{fresh.url}/users/{uid(35)}/chats",
                                          headers=AUTH).json()["value"]] == [new["id"]]
    assert requests.post(f"{ctl}/chatMessages", json={"chatId": "19:nope"}).status_code == 400
    assert requests.post(f"{ctl}/chatMessages", json={"chatId": "19:nope", "message": {}}
                         ).status_code == 404
    assert requests.post(f"{ctl}/chats", json={"chat": {"chatType": "channel"}}).status_code == 400


# ---- the on-disk format ----------------------------------------------------------------------------

def test_loads_chats_and_chat_hosted_contents_from_a_folder(tmp_path: Path):
    graph = tmp_path / "graph"
    (graph / "chats").mkdir(parents=True)
    (graph / "files").mkdir()
    (graph / "tenant.json").write_text(json.dumps({"tenantId": TENANT, "displayName": "Contoso"}))
    (graph / "users.json").write_text(json.dumps([user(i) for i in range(8)]))
    tenant = build_tenant()
    for name, data in zip(("b-group.json", "a-one.json", "c-meeting.json"),
                          (tenant.chats[1], tenant.chats[0], tenant.chats[2]), strict=True):
        (graph / "chats" / name).write_text(json.dumps(
            {"chat": data.chat, "members": data.members, "messages": data.messages}))
    (graph / "files" / "img.png").write_bytes(PNG)
    (graph / "files" / "index.json").write_text(json.dumps({"hostedContents": [
        {"messageId": IMG_MSG, "id": HOSTED_ID, "contentType": "image/png", "file": "img.png",
         "chatId": GROUP}], "driveItems": []}))
    loaded = load_graph_tenant(tmp_path)
    assert [c.chat["id"] for c in loaded.chats] == [ONE, GROUP, MEETING]   # by file name
    assert loaded.hosted_contents[0].chat_id == GROUP
    assert GraphTenant(TENANT).chats == []
    with GraphEmulator(loaded, throttle=False) as emu:
        r = requests.get(f"{emu.url}/chats/{q(GROUP)}/messages/{IMG_MSG}/hostedContents/"
                         f"{q(HOSTED_ID)}/$value", headers=AUTH)
        assert r.content == PNG
        assert len(all_messages(emu, authed(), uid(2))) == 3 + GROUP_TEXTS + 3


def test_chat_payloads_match_the_v1_schema(emu, http):
    if not SHARED.is_dir():
        pytest.skip(f"../shared is absent: {SHARED} holds the v1.0 schema extract (CI has it)")
    checker = SchemaChecker(json.loads((SHARED / "contracts" / "graph-teams-schemas.json")
                                       .read_text(encoding="utf-8")))
    payloads = [
        *[(c, "chat") for c in http.get(f"{emu.url}/users/{uid(1)}/chats?$expand=members,"
                                        "lastMessagePreview").json()["value"]],
        (http.get(f"{emu.url}/chats/{q(MEETING)}").json(), "chat"),
        *[(m, "conversationMember") for m in http.get(f"{emu.url}/chats/{q(ONE)}/members").json()["value"]],
        *[(m, "chatMessage") for m in http.get(f"{emu.url}/users/{uid(1)}/chats/getAllMessages?$top=50",
                                               headers=PREFER).json()["value"]],
        *[(h, "chatMessageHostedContent") for h in http.get(
            f"{emu.url}/chats/{q(GROUP)}/messages/{IMG_MSG}/hostedContents").json()["value"]],
    ]
    for payload, type_name in payloads:
        checker.check(payload, type_name, type_name)
