"""Contract tests: the Graph client and the store against Microsoft's documented example responses.

Every cassette in tests/export/cassettes/ is assembled from the example HTTP responses of the
official Microsoft Graph docs (repository microsoftgraph/microsoft-graph-docs-contrib); the
page, the commit it was read at and the example's name are written at the top of each cassette
and repeated in the docstring of the test that plays it. Payloads are copied as documented
(where a cassette had to be assembled -- a page split in two, a nextLink made up -- its header
says so), so these tests pin our parsing of the payload shapes Graph really sends, not of
shapes we invented.

vcrpy replays them with record_mode="none": no test here can reach the network, and a request
the cassette does not hold fails the test. Time is fake: the client's `sleep` records the wait
and advances a fake clock that the pacer shares, so a 429 is waited out in no time and the
recorded wait is exactly what the client decided.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest
import requests
import vcr

from migrate.config import load_settings
from migrate.export.assets import message_assets
from migrate.export.auth import StaticTokenAuth, build_auth
from migrate.export.client import GraphClient
from migrate.export.files import record_assets
from migrate.export.pacing import Pacer
from migrate.export.routes import classify
from migrate.store import Store
from migrate.store import teams_objects as teams_store

CASSETTES = Path(__file__).parent / "cassettes"
BASE = "https://graph.microsoft.com/v1.0"
PREFER = {"Prefer": "include-unknown-enum-members"}  # what the export sends with message reads

# The docs' example ids.
TEAM = "fbe2bf47-16c8-47cf-b4a5-4b9b187c508b"
CHANNEL = "19:4a95f7d8db4c4e7fae857bcebe0623e6@thread.tacv2"
MESSAGES_URL = f"{BASE}/teams/{TEAM}/channels/{CHANNEL}/messages?$top=3"

VCR = vcr.VCR(
    cassette_library_dir=str(CASSETTES),
    record_mode="none",
    match_on=["method", "scheme", "host", "path", "query"],
    filter_headers=["authorization"],
)


# -- harness ---------------------------------------------------------------------------------


class FakeTime:
    """One fake clock for the client and its pacer. `slept` holds the client's own waits
    (429 Retry-After, backoff, batch retries); `paced` the pacer's rate-limit waits."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []
        self.paced: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def pace(self, seconds: float) -> None:
        self.paced.append(seconds)
        self.now += seconds


class Sent:
    def __init__(self, method: str, url: str, headers: dict, json_body: object) -> None:
        self.method = method
        self.url = url                  # as the client asked for it
        self.headers = headers
        self.json = json_body
        self.wire_url: str | None = None  # as requests prepared it for the wire


class RecordingSession(requests.Session):
    """A real requests.Session (vcrpy answers underneath it) that notes what was sent."""

    def __init__(self, sent: list[Sent]) -> None:
        super().__init__()
        self._sent = sent

    def request(self, method, url, *args, **kwargs):  # type: ignore[override]
        entry = Sent(method, url, dict(kwargs.get("headers") or {}), kwargs.get("json"))
        self._sent.append(entry)
        response = super().request(method, url, *args, **kwargs)
        entry.wire_url = response.request.url
        return response


class Harness:
    def __init__(self, client: GraphClient, time: FakeTime, sent: list[Sent]) -> None:
        self.client = client
        self.time = time
        self.sent = sent


@pytest.fixture
def graph(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Harness:
    monkeypatch.chdir(tmp_path)  # no stray ./migrate.toml can change the settings
    settings = load_settings(None, environ={"MIGRATE_GRAPH_TOKEN": "test-token"}).graph
    assert settings.base_url == BASE
    auth = build_auth(settings, environ={})
    assert isinstance(auth, StaticTokenAuth)
    time = FakeTime()
    sent: list[Sent] = []
    client = GraphClient(settings, auth, pacer=Pacer(clock=time.clock, sleep=time.pace),
                         sleep=time.sleep, session_factory=lambda: RecordingSession(sent))
    return Harness(client, time, sent)


@pytest.fixture
def store(tmp_path: Path):
    with Store.open(tmp_path / "work") as opened:
        yield opened


def raw_rows(store: Store, sql: str) -> list[dict]:
    return [json.loads(row["raw"]) for row in store.query(sql)]


def share_token_per_reference(url: str) -> str:
    """reference/graph.md §6, written out independently of migrate.export.assets: base64 of
    the UTF-8 URL, strip '=', replace '/' by '_' and '+' by '-', prefix 'u!'."""
    encoded = base64.b64encode(url.encode("utf-8")).decode("ascii")
    return "u!" + encoded.rstrip("=").replace("/", "_").replace("+", "-")


def on_the_wire(url: str) -> str:
    """The URL as urllib3 sends it: percent-escapes upper-cased (RFC 3986 §6.2.2.1 -- the
    same URI), every other character untouched."""
    return re.sub(r"%[0-9a-fA-F]{2}", lambda m: m.group(0).upper(), url)


def assert_all_played(cassette) -> None:
    assert cassette.all_played, "a documented answer was never asked for"
    assert cassette.play_count == len(cassette)


# -- users -----------------------------------------------------------------------------------


def test_users_every_item_of_every_page_once_in_order_and_next_link_followed_verbatim(graph, store):
    """user-list.md @008316a3, "Example 1: Get all users" (get_users_2), split into two pages
    by a constructed @odata.nextLink (cassette users_two_pages.yaml).

    A user relies on: every user of every page read exactly once and in the order Graph sent
    them; the nextLink requested exactly as given (not rebuilt); the documented null `mail`
    of "MOD Administrator" stored as NULL; the raw object kept unchanged."""
    with VCR.use_cassette("users_two_pages.yaml") as cassette:
        pages = list(graph.client.iter_pages("/users"))
        assert_all_played(cassette)

    assert [[u["displayName"] for u in items] for items, _ in pages] == [
        ["Conf Room Adams"], ["MOD Administrator"]]
    next_link = pages[0][1]
    assert next_link == cassette.requests[1].uri
    assert pages[1][1] is None
    assert [s.url for s in graph.sent] == [f"{BASE}/users", next_link]
    assert graph.sent[1].wire_url == on_the_wire(next_link)  # nothing rebuilt or re-encoded
    assert {s.headers["Authorization"] for s in graph.sent} == {"Bearer test-token"}

    users = [u for items, _ in pages for u in items]
    assert teams_store.upsert_users(store, users) == 2
    rows = {r["id"]: r for r in store.query("SELECT * FROM teams_users")}
    assert set(rows) == {"6ea91a8d-e32e-41a1-b7bd-d2d185eed0e0", "4562bcc8-c436-4f95-b7c0-4f8ce89dca5e"}
    assert rows["4562bcc8-c436-4f95-b7c0-4f8ce89dca5e"]["mail"] is None
    assert rows["6ea91a8d-e32e-41a1-b7bd-d2d185eed0e0"]["user_principal_name"] == "Adams@contoso.com"
    by_id = {u["id"]: u for u in users}
    for user_id, row in rows.items():
        assert json.loads(row["raw"]) == by_id[user_id]


# -- channel messages ------------------------------------------------------------------------


def test_channel_messages_mentions_images_system_event_and_file_attachment(graph, store):
    """channel-list-messages.md @00e146a9, "Example 2: Request with optional Prefer header"
    (get_listchannelmessages_2), verbatim with its @odata.nextLink; page 2 holds the message
    of chatmessage-post.md @03c7b71e, "Example 4: Send a message with file attachment in it"
    (cassette channel_messages_two_pages.yaml).

    A user relies on: both pages read, in order, following the documented skiptoken nextLink
    byte for byte and resending the Prefer header; the <at> mention, the inline images, the
    system event and the `reference` attachment all stored with their raw JSON unchanged; the
    attachment found as a file to download through /shares/{u!token}/driveItem/content."""
    with VCR.use_cassette("channel_messages_two_pages.yaml") as cassette:
        pages = list(graph.client.iter_pages(MESSAGES_URL, headers=PREFER))
        assert_all_played(cassette)

    messages = [m for items, _ in pages for m in items]
    assert [m["id"] for m in messages] == [
        "1616965872395", "1616963377068", "1616883610266", "1616991899452"]
    next_link = pages[0][1]
    assert next_link.startswith(f"{BASE}/teams/{TEAM}/channels/{CHANNEL}/messages?$skiptoken=%5b%7B")
    assert graph.sent[1].url == next_link
    assert graph.sent[1].wire_url == on_the_wire(next_link)
    assert graph.sent[1].headers["Prefer"] == PREFER["Prefer"]  # not carried by the nextLink

    mention, images, event, with_file = messages
    assert mention["body"]["content"] == 'Hello World <at id="0">Jane Smith</at>'
    assert mention["mentions"][0]["mentioned"]["user"]["id"] == "ef1c916a-3135-4417-ba27-8eb7bd084193"
    assert event["messageType"] == "systemEventMessage" and event["from"] is None

    assert teams_store.upsert_messages(store, TEAM, messages) == (4, 0)
    rows = {r["id"]: r for r in store.query("SELECT * FROM teams_messages")}
    for message in messages:
        row = rows[message["id"]]
        assert json.loads(row["raw"]) == message  # mentions, attachments, eventDetail: all kept
        assert (row["channel_id"], row["thread_id"], row["team_id"]) == (
            CHANNEL, message["id"], TEAM)
        assert row["deleted"] == 0
    assert rows[event["id"]]["message_type"] == "systemEventMessage"
    assert rows[event["id"]]["from_user_id"] is None
    assert rows[mention["id"]]["from_user_id"] == "8ea0e38b-efb3-4757-924a-5f94061cf8c2"

    assert message_assets(mention) == [] and message_assets(event) == []
    hosted = message_assets(images)
    assert [(a.source, a.name) for a in hosted] == [("hosted", None), ("hosted", None)]
    for asset in hosted:
        assert asset.url == (f"/teams/{TEAM}/channels/{CHANNEL}/messages/{images['id']}"
                             f"/hostedContents/{asset.source_id}/$value")
    [reference] = message_assets(with_file)
    attachment = with_file["attachments"][0]
    assert reference.source == "reference"
    assert reference.source_id == "153fa47d-18c9-4179-be08-9879815a9f90"
    assert reference.name == "Budget.docx"
    token = share_token_per_reference(attachment["contentUrl"])
    assert reference.url == f"/shares/{token}/driveItem/content"
    assert base64.urlsafe_b64decode(token[2:] + "==").decode() == attachment["contentUrl"]

    assert record_assets(store, messages) == 3
    assert [tuple(r) for r in store.query(
        "SELECT message_id, source, name, status FROM teams_files ORDER BY message_id, source")] == [
        ("1616963377068", "hosted", None, "pending"),
        ("1616963377068", "hosted", None, "pending"),
        ("1616991899452", "reference", "Budget.docx", "pending")]


def test_documented_reaction_survives_but_the_2019_shape_has_no_channel_identity(graph, store):
    """channel-list-messages.md @f92cba2b (an older revision), "Example" (get_channel_messages),
    verbatim (cassette channel_messages_2019_reactions.yaml): mentions and a "like" reaction.

    A user relies on the reaction and the mention surviving into the store unchanged. This
    documented shape has no channelIdentity, which upsert_messages needs to key a message:
    it refuses such a page loudly (pinned here) rather than storing it under a wrong channel.
    Given the channel the page was read from, the reaction is stored unchanged."""
    team, channel = "303d2c1c-f1c5-40ce-b68e-544343d7f42b", "19:fec4b0f2825d4c8c82abc09027a64184@thread.skype"
    with VCR.use_cassette("channel_messages_2019_reactions.yaml") as cassette:
        messages = list(graph.client.iter_items(f"{BASE}/teams/{team}/channels/{channel}/messages"))
        assert_all_played(cassette)

    assert [m["id"] for m in messages] == ["1555375673184", "1548100551644", "1548100547534"]
    liked = messages[1]
    assert liked["reactions"] == [{
        "reactionType": "like",
        "createdDateTime": "2019-01-21T19:55:51.893Z",
        "user": {"application": None, "device": None, "conversation": None,
                 "user": {"id": "e1ecb745-c10f-40af-a9d4-cab946c80ac7", "displayName": None,
                          "userIdentityType": "aadUser"}}}]
    assert '<at id="0">Isaiah Langer</at>' in liked["body"]["content"]
    assert all("channelIdentity" not in m for m in messages)

    with pytest.raises(ValueError, match="channelIdentity"):
        teams_store.upsert_messages(store, team, messages)
    assert store.scalar("SELECT COUNT(*) FROM teams_messages") == 0  # nothing half-stored

    identity = {"teamId": team, "channelId": channel}
    assert teams_store.upsert_messages(
        store, team, [{**m, "channelIdentity": identity} for m in messages]) == (3, 0)
    stored = {m["id"]: m for m in raw_rows(store, "SELECT raw FROM teams_messages")}
    for message in messages:
        kept = dict(stored[message["id"]])
        assert kept.pop("channelIdentity") == identity
        assert kept == message


def test_replies_carry_reply_to_id_and_are_stored_in_their_thread(graph, store):
    """chatmessage-list-replies.md @00e146a9, "Example" (get_listmessagereplies_1), verbatim
    (cassette message_replies.yaml).

    A user relies on every reply being read in the order served, pointing at its root through
    replyToId, and stored in the root's thread (thread_id = root id) with raw JSON unchanged."""
    root = "1616989510408"
    with VCR.use_cassette("message_replies.yaml") as cassette:
        replies = list(graph.client.iter_items(
            f"/teams/{TEAM}/channels/{CHANNEL}/messages/{root}/replies"))
        assert_all_played(cassette)

    assert [r["body"]["content"] for r in replies] == ["Reply3", "Reply2", "Reply1"]
    assert {r["replyToId"] for r in replies} == {root}
    assert teams_store.upsert_messages(store, TEAM, replies) == (3, 0)
    rows = store.query("SELECT * FROM teams_messages ORDER BY created_at")
    assert [r["id"] for r in rows] == ["1616989747416", "1616989750004", "1616989753153"]
    assert {(r["thread_id"], r["reply_to_id"], r["channel_id"]) for r in rows} == {
        (root, root, CHANNEL)}
    by_id = {r["id"]: r for r in replies}
    assert all(json.loads(r["raw"]) == by_id[r["id"]] for r in rows)


# -- getAllMessages --------------------------------------------------------------------------

ALL_MESSAGES_URL = (f"{BASE}/teams/01fe12e0-e720-44fd-8854-28c66d1bee40/channels/getAllMessages"
                    "?$filter=lastModifiedDateTime+gt+2019-11-01T00:00:00Z+and "
                    "lastModifiedDateTime+lt+2021-11-01T00:00:00Z")


def test_get_all_messages_follows_the_documented_next_link_and_stores_replies(graph, store):
    """channel-getallmessages.md @082d7a8f, "Example" (channel_getallchannelmessages_1): the
    documented request URL and response, split into two pages at the documented nextLink
    (cassette get_all_messages.yaml).

    A user relies on the nextLink -- in the documented teams('<id>')/channels/getallMessages
    form -- being requested verbatim, both replies read once in order, and stored in their
    channel (from channelIdentity) and thread (replyToId)."""
    with VCR.use_cassette("get_all_messages.yaml") as cassette:
        pages = list(graph.client.iter_pages(ALL_MESSAGES_URL, headers=PREFER))
        assert_all_played(cassette)

    messages = [m for items, _ in pages for m in items]
    assert [m["id"] for m in messages] == ["1622071758431", "1622071764529"]
    next_link = pages[0][1]
    assert "/teams('01fe12e0-e720-44fd-8854-28c66d1bee40')/channels/getallMessages?" in next_link
    assert graph.sent[1].url == next_link
    assert graph.sent[1].wire_url == on_the_wire(next_link)

    assert teams_store.upsert_messages(store, "01fe12e0-e720-44fd-8854-28c66d1bee40", messages) == (2, 0)
    rows = store.query("SELECT * FROM teams_messages ORDER BY id")
    assert {(r["channel_id"], r["thread_id"]) for r in rows} == {
        ("19:fae9a2ff95da4e109a5a87e39cad8f2b@thread.tacv2", "1622071642456")}
    assert [json.loads(r["raw"]) for r in rows] == messages


def test_documented_get_all_messages_next_link_is_routed_as_get_all_messages():
    """channel-getallmessages.md @082d7a8f, "Example": the nextLink of the documented response."""
    next_link = ("https://graph.microsoft.com/v1.0/teams('01fe12e0-e720-44fd-8854-28c66d1bee40')"
                 "/channels/getallMessages?$skiptoken=U2tpcFZhbHVlPTAjUHJpdmF0ZUNoYW5uZWxJZD0x&"
                 "$filter=lastModifiedDateTime+gt+2019-11-01T00%3a00%3a00Z")
    route = classify(next_link)
    assert (route.kind, route.team_id, route.permission) == (
        "all_messages", "01fe12e0-e720-44fd-8854-28c66d1bee40", "ChannelMessage.Read.All")


# -- team members, channels ------------------------------------------------------------------


def test_team_members_are_stored_with_user_ids_and_roles(graph, store):
    """team-list-members.md @00e146a9, "Example 1: Get list of members in team"
    (get_members_in_team), verbatim (cassette team_members.yaml).

    A user relies on every member being kept with the Entra user id (userId, which identity
    mapping joins on), the owner role, and the raw object unchanged."""
    team = "ee0f5ae2-8bc6-4ae5-8466-7daeebbfa062"
    with VCR.use_cassette("team_members.yaml") as cassette:
        members = list(graph.client.iter_items(f"/teams/{team}/members"))
        assert_all_played(cassette)

    assert [m["displayName"] for m in members] == ["Adele Vance", "MOD Administrator", "Harry Johnson"]
    assert teams_store.replace_team_members(store, team, members) == 3
    rows = {r["user_id"]: r for r in store.query("SELECT * FROM teams_team_members")}
    assert {uid: json.loads(r["roles"]) for uid, r in rows.items()} == {
        "73761f06-2ac9-469c-9f10-279a8cc267f9": [],
        "598efcd4-e549-402a-9602-0b50201faebe": ["owner"],
        "752f50b7-256f-4539-b775-c4d12f2e4722": []}
    by_user = {m["userId"]: m for m in members}
    for uid, row in rows.items():
        assert row["membership_id"] == by_user[uid]["id"]
        assert json.loads(row["raw"]) == by_user[uid]


def test_channels_are_stored_even_without_membership_type(graph, store):
    """channel-list.md @0a72a865, "Example 1: List all channels" (list_channels), verbatim
    (cassette channels.yaml) -- placeholder values, and no membershipType.

    A user relies on each channel being stored with its name and raw JSON; a channel without
    membershipType is stored with membership_type NULL (the export then treats it as a
    standard channel: it does not list its members)."""
    team = "ee0f5ae2-8bc6-4ae5-8466-7daeebbfa062"
    with VCR.use_cassette("channels.yaml") as cassette:
        channels = list(graph.client.iter_items(f"/teams/{team}/channels", headers=PREFER))
        assert_all_played(cassette)

    assert [c["id"] for c in channels] == ["id-value"]
    teams_store.upsert_channel(store, team, channels[0])
    [row] = store.query("SELECT * FROM teams_channels")
    assert (row["team_id"], row["display_name"], row["membership_type"]) == (
        team, "display-name-value", None)
    assert json.loads(row["raw"]) == channels[0]


# -- throttling ------------------------------------------------------------------------------


def test_429_waits_exactly_retry_after_then_succeeds(graph):
    """throttling.md @28dd02d3, "Sample response" (429, Retry-After: 2.128, TooManyRequests),
    then user-list.md @008316a3 "Example 1" as the answer to the retry (cassette
    throttled_then_ok.yaml).

    A user relies on a throttled read being waited out for exactly the Retry-After the server
    asked for -- a decimal number of seconds here -- and then succeeding, counted once as
    throttled."""
    with VCR.use_cassette("throttled_then_ok.yaml") as cassette:
        page = graph.client.get_json("/users")
        assert_all_played(cassette)

    assert [u["displayName"] for u in page["value"]] == ["Conf Room Adams", "MOD Administrator"]
    assert graph.time.slept == [2.128]
    assert graph.time.paced == []  # the pacer's hold ends when the Retry-After wait does
    assert graph.client.stats.throttled == 1
    assert graph.client.stats.throttle_wait == 2.128
    assert graph.client.stats.requests == 2


BATCH_REQUESTS = [
    {"url": "/me/memberOf"},
    {"url": "users?$select=id,displayName,userPrincipalName&$filter=city eq null&$count=true",
     "headers": {"ConsistencyLevel": "eventual"}},
]


def test_batch_item_throttled_is_retried_alone_after_its_retry_after(graph):
    """json-batching.md @028b8e35, "Example JSON batch request/response" (items "1" and "5",
    renumbered "0" and "1"), with item "1" first answered 429 as in throttling.md @28dd02d3
    "Sample response" / "Throttling and batching" (cassette batch_item_throttled.yaml).

    A user relies on: the answers returned in request order although Graph sent them out of
    order; the throttled item retried -- alone -- after its Retry-After; the item that
    succeeded not asked again."""
    with VCR.use_cassette("batch_item_throttled.yaml") as cassette:
        answers = graph.client.batch(BATCH_REQUESTS)
        assert_all_played(cassette)

    assert [(a["id"], a["status"]) for a in answers] == [("0", 200), ("1", 200)]
    assert answers[0]["body"]["value"][0]["displayName"] == "User Administrator"
    assert answers[1]["body"]["value"][0]["userPrincipalName"] == "LynneR@contoso.com"
    assert [s.json for s in graph.sent] == [
        {"requests": [{"id": "0", "method": "GET", **BATCH_REQUESTS[0]},
                      {"id": "1", "method": "GET", **BATCH_REQUESTS[1]}]},
        {"requests": [{"id": "1", "method": "GET", **BATCH_REQUESTS[1]}]},
    ]
    assert graph.time.slept == [2.128]
    assert graph.client.stats.throttled == 1


def test_batch_item_retry_after_header_name_is_case_insensitive(graph):
    """json-batching.md @028b8e35 + throttling.md @28dd02d3 as above, the throttled item's
    header spelled `retry-after` (cassette batch_item_throttled_lowercase_header.yaml)."""
    with VCR.use_cassette("batch_item_throttled_lowercase_header.yaml") as cassette:
        answers = graph.client.batch(BATCH_REQUESTS)
        assert_all_played(cassette)

    assert [a["status"] for a in answers] == [200, 200]
    assert graph.time.slept == [2.128]


# -- attachments as the messaging overview documents them ------------------------------------


def test_overview_file_attachment_is_an_asset_and_a_quoted_reply_is_not():
    """concepts/teams-messaging-overview.md @b50c1886 (contrib), sections
    "file attachment" and "message attachment": the documented `attachments` fragments,
    verbatim. The page shows only "the relevant schema elements and not the entire message
    payload", so each fragment is wrapped in a message holding nothing else.

    A user relies on the SharePoint file (here with a contentUrl containing spaces) being found
    for download under the share token of its exact URL, and a quoted reply
    (messageReference) not being mistaken for a file."""
    file_attachment = {
        "id": "924D1F74-E0D2-4927-8A67-15ECEF455527",
        "contentType": "reference",
        "contentUrl": "https://testing.sharepoint.com/sites/Samples/Shared Documents/General/color.png",
        "content": None,
        "name": "color.png",
        "thumbnailUrl": None,
        "teamsAppId": None,
    }
    quoted_reply = {
        "id": "1622853091207",
        "contentType": "messageReference",
        "contentUrl": None,
        "content": "{\"messageId\":\"1622853091207\",\"messagePreview\":\"Testing unread read status\","
                   "\"messageSender\":{\"application\":null,\"device\":null,\"user\":{\"userIdentityType\":"
                   "\"aadUser\",\"id\":\"8ea0e38b-efb3-4757-924a-5f94061cf8c2\",\"displayName\":\"Alex\"}}}",
        "name": None,
        "thumbnailUrl": None,
    }
    [asset] = message_assets({"attachments": [file_attachment, quoted_reply]})
    assert (asset.source, asset.source_id, asset.name) == (
        "reference", "924D1F74-E0D2-4927-8A67-15ECEF455527", "color.png")
    assert asset.url == (f"/shares/{share_token_per_reference(file_attachment['contentUrl'])}"
                         "/driveItem/content")
    assert message_assets({"attachments": [quoted_reply]}) == []
    assert not teams_store.is_deleted_message(
        {"messageType": "message", "body": {"contentType": "html", "content": ""},
         "attachments": [quoted_reply]})


# -- the cassettes themselves ----------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(CASSETTES.glob("*.yaml")), ids=lambda p: p.name)
def test_cassette_names_its_source_and_holds_no_credentials(path: Path):
    """Every cassette says which documented example it comes from, and none holds a token."""
    text = path.read_text(encoding="utf-8")
    assert text.startswith("#") and "microsoft-graph-docs-contrib" in text.split("interactions:")[0]
    lowered = text.lower()
    assert "authorization" not in lowered
    assert "bearer" not in lowered
    assert "test-token" not in lowered
