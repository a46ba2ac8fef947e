"""Slack export ZIPs imported into the Slack emulator, then read back with the real slack_sdk."""

from __future__ import annotations

import io
import json
import threading
import time
import zipfile

import pytest
import requests
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from migrate.sandbox.slack_emulator import SlackEmulator
from migrate.sandbox.tenant import SANDBOX_SLACK_TOKEN, SlackWorkspace

BOT = "UBOT0000001"
ROOT_TS = "1579079567.231000"  # 2020-01-15
REPLY1_TS = "1579079600.000100"
EDITED_TS = "1579080000.000000"
BOTMSG_TS = "1579165000.000000"  # 2020-01-16
REPLY2_TS = "1580700000.000000"  # 2020-02-03, a reply in the next month's bundle
LATE_TS = "1580700100.000000"


def workspace() -> SlackWorkspace:
    return SlackWorkspace(
        team={"id": "T0SANDBOX", "name": "Sandbox", "domain": "sandbox"},
        bot={"user_id": BOT, "bot_id": "B0BOT", "app_id": "A0APP", "name": "migrate"},
        users=[{"id": "U0ANN", "name": "ann", "deleted": False,
                "profile": {"email": "Ann@Example.com", "real_name": "Ann A"}}],
        channels=[{"id": "C0GENERAL", "name": "general", "is_general": True, "created": 1,
                   "creator": "U0ANN", "members": ["U0ANN", BOT]}],
    )


USERS = [
    # matched to U0ANN by email, whatever the case
    {"id": "UX1", "name": "ann", "real_name": "Ann A", "deleted": False, "is_bot": False,
     "profile": {"email": "ann@EXAMPLE.com", "real_name": "Ann A", "display_name": "ann"}},
    {"id": "UX2", "name": "zoe", "real_name": "Zoe Z", "deleted": False, "is_bot": False,
     "profile": {"email": "zoe@new.example", "real_name": "Zoe Z", "display_name": "zoe"}},
    {"id": "UX3", "name": "ghost", "real_name": "Ghost G", "deleted": False, "is_bot": False,
     "profile": {"real_name": "Ghost G", "display_name": "ghost"}},  # no email
]
TOPIC = {"value": "Project things", "creator": "UX1", "last_set": 1578000000}
EMPTY = {"value": "", "creator": "", "last_set": 0}
PROJ = {"id": "CX1", "name": "proj", "created": 1578000000, "creator": "UX1",
        "is_archived": False, "is_general": False, "members": ["UX1", "UX2", "UX3"],
        "topic": TOPIC, "purpose": EMPTY}
SECRET = {"id": "GX1", "name": "secret-proj", "created": 1578000000, "creator": "UX2",
          "is_archived": False, "is_general": False, "members": ["UX1", "UX2"],
          "topic": EMPTY, "purpose": EMPTY}
DM = {"id": "DX1", "created": 1578000000, "members": ["UX1", "UX2"]}
MPIM = {"id": "GX2", "name": "mpdm-ann--zoe--ghost-1", "created": 1578000000, "creator": "UX1",
        "is_archived": False, "members": ["UX1", "UX2", "UX3"], "topic": EMPTY,
        "purpose": EMPTY}


def msg(user: str, ts: str, text: str, **extra: object) -> dict:
    return {"type": "message", "user": user, "text": text, "ts": ts, **extra}


JANUARY = {
    "users.json": USERS, "channels.json": [PROJ], "groups.json": [SECRET], "dms.json": [DM],
    "mpims.json": [MPIM],
    "proj/2020-01-15.json": [
        msg("UX1", ROOT_TS, "hello <@UX2>", thread_ts=ROOT_TS, reply_count=2,
            reply_users_count=2, replies=[{"user": "UX2", "ts": REPLY1_TS},
                                          {"user": "UX1", "ts": REPLY2_TS}],
            reactions=[{"name": "thumbsup", "users": ["UX2", "UX3"], "count": 2}]),
        msg("UX2", REPLY1_TS, "first reply", thread_ts=ROOT_TS, parent_user_id="UX1"),
        msg("UX3", EDITED_TS, "fixed typo", edited={"user": "UX3", "ts": "1579080100.000000"}),
    ],
    "proj/2020-01-16.json": [
        {"type": "message", "subtype": "bot_message", "username": "ci", "bot_id": "B0CI",
         "text": "build green", "ts": BOTMSG_TS},
    ],
    "secret-proj/2020-01-20.json": [msg("UX2", "1579500000.000000", "private plans")],
    "DX1/2020-01-21.json": [msg("UX1", "1579600000.000000", "hi zoe")],
    "mpdm-ann--zoe--ghost-1/2020-01-22.json": [msg("UX3", "1579700000.000000", "hi all")],
}
# The next month's bundle: no groups.json or mpims.json; a reply to January's thread.
FEBRUARY = {
    "users.json": USERS, "channels.json": [PROJ], "dms.json": [DM],
    "proj/2020-02-03.json": [
        msg("UX1", REPLY2_TS, "second reply", thread_ts=ROOT_TS, parent_user_id="UX1"),
        msg("UX2", LATE_TS, "february news"),
    ],
    "DX1/2020-02-04.json": [msg("UX2", "1580800000.000000", "hi ann")],
}


def make_zip(files: dict[str, object]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content if isinstance(content, str) else json.dumps(content))
    return buffer.getvalue()


def post_zip(emu: SlackEmulator, data: bytes) -> requests.Response:
    return requests.post(emu.origin + "/_control/import", data=data,
                         headers={"Content-Type": "application/zip"}, timeout=30)


@pytest.fixture
def emu():
    with SlackEmulator(workspace(), throttle=False) as emulator:
        yield emulator


@pytest.fixture
def client(emu: SlackEmulator) -> WebClient:
    return WebClient(token=SANDBOX_SLACK_TOKEN, base_url=emu.url)


def error_of(call, **kwargs) -> str:
    with pytest.raises(SlackApiError) as info:
        call(**kwargs)
    return info.value.response["error"]


def by_name(emu: SlackEmulator) -> dict[str, dict]:
    return {c["name"] or c["id"]: c for c in emu.state()["channels"]}


def user_ids(emu: SlackEmulator) -> dict[str, str]:
    """real name → workspace id"""
    return {u["profile"].get("real_name"): u["id"] for u in emu.state()["users"]}


def imported_twice(emu: SlackEmulator) -> tuple[dict, dict]:
    first = post_zip(emu, make_zip(JANUARY))
    assert first.status_code == 200, first.text
    return first.json(), emu.import_bundle(make_zip(FEBRUARY))


def test_two_bundles_over_http_and_python(emu: SlackEmulator) -> None:
    first, second = imported_twice(emu)
    assert first == {"ok": True, "users": {"matched": 1, "created": 2},
                     "conversations": {"created": 4, "existing": 0}, "messages": 7,
                     "skipped": [], "skipped_messages": 0}
    # The second bundle finds what the first created: users by email (the placeholder by its
    # bundle id), the channel by name, the DM by its members.
    assert second == {"ok": True, "users": {"matched": 3, "created": 0},
                      "conversations": {"created": 0, "existing": 2}, "messages": 3,
                      "skipped": [], "skipped_messages": 0}
    ids = user_ids(emu)
    users = {u["id"]: u for u in emu.state()["users"]}
    zoe, ghost = ids["Zoe Z"], ids["Ghost G"]
    assert ids["Ann A"] == "U0ANN"
    assert zoe.startswith("U") and not users[zoe]["deleted"]
    assert users[zoe]["profile"]["email"] == "zoe@new.example"
    assert users[ghost]["deleted"] and "email" not in users[ghost]["profile"]

    channels = by_name(emu)
    proj, secret = channels["proj"], channels["secret-proj"]
    assert not proj["is_private"] and secret["is_private"]
    assert proj["members"] == ["U0ANN", zoe, ghost] and BOT not in proj["members"]
    assert secret["members"] == ["U0ANN", zoe]
    assert proj["topic"] == {"value": "Project things", "creator": "U0ANN", "last_set": 1578000000}
    dm = next(c for c in channels.values() if c["is_im"])
    mpim = next(c for c in channels.values() if c["is_mpim"])
    assert dm["id"].startswith("D") and dm["is_private"] and dm["members"] == ["U0ANN", zoe]
    assert mpim["id"].startswith("G") and mpim["members"] == ["U0ANN", zoe, ghost]
    state_messages = emu.state()["messages"]
    assert [m["text"] for m in state_messages[dm["id"]]] == ["hi zoe", "hi ann"]
    assert [m["user"] for m in state_messages[mpim["id"]]] == [ghost]
    assert [m["ts"] for m in state_messages[proj["id"]]] == [
        ROOT_TS, REPLY1_TS, EDITED_TS, BOTMSG_TS, REPLY2_TS, LATE_TS]


def test_web_api_reads_the_imported_channel(emu: SlackEmulator, client: WebClient) -> None:
    imported_twice(emu)
    ids = user_ids(emu)
    zoe, ghost = ids["Zoe Z"], ids["Ghost G"]
    listed = {c["name"]: c for c in client.conversations_list(types="public_channel")["channels"]}
    proj = listed["proj"]
    assert not proj["is_member"] and proj["num_members"] == 3
    assert client.conversations_members(channel=proj["id"])["members"] == ["U0ANN", zoe, ghost]
    # The bot reads a public channel once it has joined it (existing rules).
    assert error_of(client.conversations_history, channel=proj["id"]) == "not_in_channel"
    client.conversations_join(channel=proj["id"])
    history = client.conversations_history(channel=proj["id"])["messages"]
    history = [m for m in history if m.get("subtype") != "channel_join"]
    assert [(m["ts"], m.get("user")) for m in history] == [
        (LATE_TS, zoe), (BOTMSG_TS, None), (EDITED_TS, ghost), (ROOT_TS, "U0ANN")]
    late, bot_message, edited, root = history
    assert bot_message["subtype"] == "bot_message" and bot_message["username"] == "ci"
    assert edited["edited"] == {"user": ghost, "ts": "1579080100.000000"}
    assert root["text"] == f"hello <@{zoe}>"
    assert root["reactions"] == [{"name": "thumbsup", "users": [zoe, ghost], "count": 2}]
    assert root["reply_count"] == 2 and root["reply_users"] == [zoe, "U0ANN"]
    assert root["latest_reply"] == REPLY2_TS and "replies" not in root
    thread = client.conversations_replies(channel=proj["id"], ts=ROOT_TS)["messages"]
    assert [(m["ts"], m["user"], m["text"]) for m in thread] == [
        (ROOT_TS, "U0ANN", f"hello <@{zoe}>"), (REPLY1_TS, zoe, "first reply"),
        (REPLY2_TS, "U0ANN", "second reply")]
    assert all(m["thread_ts"] == ROOT_TS for m in thread)
    # A post after the import gets a ts after every imported message.
    posted = client.chat_postMessage(channel=proj["id"], text="after")
    assert float(posted["ts"]) > float(LATE_TS)


def test_private_channel_dm_and_mpim_stay_hidden_from_the_bot(
        emu: SlackEmulator, client: WebClient) -> None:
    imported_twice(emu)
    channels = by_name(emu)
    dm = next(c for c in channels.values() if c["is_im"])
    mpim = next(c for c in channels.values() if c["is_mpim"])
    secret = channels["secret-proj"]
    listed = client.conversations_list(types="public_channel,private_channel,im,mpim")
    assert {c["name"] for c in listed["channels"]} == {"general", "proj"}
    for cid in (secret["id"], dm["id"], mpim["id"]):
        assert error_of(client.conversations_history, channel=cid) == "channel_not_found"
        assert error_of(client.conversations_join, channel=cid) == "channel_not_found"
    assert error_of(client.conversations_replies, channel=dm["id"],
                    ts="1579600000.000000") == "channel_not_found"
    assert error_of(client.conversations_create, name="proj") == "name_taken"


def test_a_dm_with_the_bot_is_listed_to_it(emu: SlackEmulator, client: WebClient) -> None:
    bundle = {"users.json": USERS[:1], "dms.json": [{"id": "DX9", "members": ["UX1", BOT]}],
              "DX9/2020-01-01.json": [msg("UX1", "1577880000.000000", "hello bot")]}
    assert emu.import_bundle(make_zip(bundle))["conversations"] == {"created": 1, "existing": 0}
    ims = client.conversations_list(types="im")["channels"]
    assert len(ims) == 1 and ims[0]["is_im"] and ims[0]["user"] == "U0ANN"
    history = client.conversations_history(channel=ims[0]["id"])["messages"]
    assert [(m["user"], m["text"]) for m in history] == [("U0ANN", "hello bot")]
    assert error_of(client.conversations_join,
                    channel=ims[0]["id"]) == "method_not_supported_for_channel_type"


def test_reimport_skips_every_message(emu: SlackEmulator) -> None:
    data = make_zip(JANUARY)
    assert emu.import_bundle(data)["messages"] == 7
    before = emu.state()
    again = emu.import_bundle(data)
    assert again["messages"] == 0 and again["skipped_messages"] == 7
    assert again["users"] == {"matched": 3, "created": 0}
    assert again["conversations"] == {"created": 0, "existing": 4}
    assert any(r.startswith("proj: ts already present") for r in again["skipped"])
    assert emu.state() == before


def test_bundles_in_reverse_order(emu: SlackEmulator) -> None:
    february = emu.import_bundle(make_zip(FEBRUARY))
    # The reply's root is in January's bundle, not imported yet.
    assert february["messages"] == 2 and february["skipped_messages"] == 1
    assert any("root is not imported" in r for r in february["skipped"])
    january = emu.import_bundle(make_zip(JANUARY))
    assert january["messages"] == 7 and january["conversations"]["existing"] == 2
    proj = by_name(emu)["proj"]
    ts = [m["ts"] for m in emu.state()["messages"][proj["id"]]]
    assert ts == sorted(ts, key=float) and LATE_TS in ts and REPLY2_TS not in ts


def test_concurrent_import_is_refused(emu: SlackEmulator) -> None:
    results: list[requests.Response] = []
    emu.store.lock.acquire()  # the first import parses, then waits for the store
    try:
        worker = threading.Thread(target=lambda: results.append(post_zip(emu, make_zip(JANUARY))))
        worker.start()
        deadline = time.monotonic() + 10
        while not emu.importer.running and time.monotonic() < deadline:
            time.sleep(0.01)
        refused = post_zip(emu, make_zip(FEBRUARY))
        assert refused.status_code == 409
        assert refused.json() == {"ok": False, "error": "import_in_progress"}
    finally:
        emu.store.lock.release()
    worker.join(10)
    assert results[0].status_code == 200 and results[0].json()["messages"] == 7


def test_one_import_per_interval() -> None:
    with SlackEmulator(workspace(), throttle=False, import_interval_s=3600) as emu:
        assert post_zip(emu, make_zip(JANUARY)).status_code == 200
        refused = post_zip(emu, make_zip(FEBRUARY))
        assert refused.status_code == 429
        assert refused.json() == {"ok": False, "error": "import_rate_limited"}
        assert 3500 <= int(refused.headers["Retry-After"]) <= 3600
        assert emu.import_bundle(make_zip(FEBRUARY))["error"] == "import_rate_limited"


@pytest.mark.parametrize("files, named", [
    ({"users.json": USERS, "channels.json": "[{\"id\": "}, "channels.json"),
    ({"channels.json": [PROJ], "proj/2020-01-15.json": "{\"not\": \"an array\"}"},
     "proj/2020-01-15.json"),
    ({"dms.json": [{"members": ["UX1", "UX2"]}]}, "dms.json"),
])
def test_broken_archive_names_the_file(emu: SlackEmulator, files: dict, named: str) -> None:
    answer = post_zip(emu, make_zip(files))
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_archive" and named in answer.json()["detail"]
    assert "proj" not in by_name(emu)  # nothing of a broken archive is imported


def test_not_a_zip(emu: SlackEmulator) -> None:
    answer = post_zip(emu, b"PK\x03\x04 certainly not a zip")
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_archive"
    assert emu.import_bundle(b"")["error"] == "invalid_archive"
