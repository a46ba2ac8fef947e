"""The Slack emulator, driven by the real slack_sdk WebClient (and requests for raw HTTP)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
import requests
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from migrate.sandbox.faults import FaultPlan
from migrate.sandbox.slack_emulator import SlackEmulator
from migrate.sandbox.slack_methods import GENERIC_ERRORS, METHODS, NON_CONTRACT_METHODS
from migrate.sandbox.tenant import SANDBOX_SLACK_TOKEN, SlackWorkspace

TOKEN = SANDBOX_SLACK_TOKEN
BOT = "UBOT0000001"
SHARED = Path(__file__).resolve().parents[2].parent / "shared"
META = {"event_type": "teams_message",
        "event_payload": {"teams_message_id": "m-1", "teams_channel_id": "19:abc"}}


def make_workspace(extra_users: int = 20) -> SlackWorkspace:
    users = [
        {"id": "U0ANN", "name": "ann", "deleted": False,
         "profile": {"email": "Ann@Example.com", "real_name": "Ann A"}},
        {"id": "U0BOB", "name": "bob", "deleted": False,
         "profile": {"email": "bob@example.com", "real_name": "Bob B"}},
        {"id": "U0GONE", "name": "carol", "deleted": True,
         "profile": {"email": "carol@example.com", "real_name": "Carol C"}},
        {"id": "U0GUEST", "name": "dave", "deleted": False, "is_restricted": True,
         "profile": {"email": "dave@partner.com", "real_name": "Dave D"}},
    ]
    users += [{"id": f"U1{i:04d}", "name": f"user{i}", "deleted": False,
               "profile": {"email": f"user{i}@example.com"}} for i in range(extra_users)]
    chan = {"created": 1_600_000_000, "creator": "U0ANN"}
    channels = [
        {"id": "C0GENERAL", "name": "general", "is_general": True, **chan,
         "members": ["U0ANN", BOT]},
        {"id": "C0RANDOM", "name": "random", **chan, "members": ["U0ANN"]},
        {"id": "C0SECRET", "name": "secret", "is_private": True, **chan, "members": ["U0ANN"]},
        {"id": "C0INNER", "name": "inner-circle", "is_private": True, **chan,
         "members": ["U0ANN", BOT]},
        {"id": "C0OLD", "name": "old-stuff", "is_archived": True, **chan, "members": ["U0ANN"]},
        *({"id": f"C0POST{i}", "name": f"post-{i}", **chan, "members": [BOT]} for i in range(4)),
    ]
    return SlackWorkspace(
        team={"id": "T0SANDBOX", "name": "Sandbox", "domain": "sandbox"},
        bot={"user_id": BOT, "bot_id": "B0BOT", "app_id": "A0APP", "name": "migrate"},
        users=users, channels=channels,
    )


@pytest.fixture
def emu():
    with SlackEmulator(make_workspace(), throttle=False) as emulator:
        yield emulator


@pytest.fixture
def client(emu: SlackEmulator) -> WebClient:
    return WebClient(token=TOKEN, base_url=emu.url)


def error_of(call, *args, **kwargs) -> SlackApiError:
    with pytest.raises(SlackApiError) as info:
        call(*args, **kwargs)
    return info.value


def channel_messages(emu: SlackEmulator, channel: str) -> list[dict]:
    return emu.state()["messages"][channel]


# ---------------------------------------------------------------- messages and threads


def test_post_thread_reply_and_history(client: WebClient, emu: SlackEmulator) -> None:
    root = client.chat_postMessage(channel="C0GENERAL", text="root")
    assert root["channel"] == "C0GENERAL"
    msg = root["message"]
    assert msg["subtype"] == "bot_message" and msg["bot_id"] == "B0BOT" and msg["app_id"] == "A0APP"
    reply = client.chat_postMessage(channel="C0GENERAL", text="reply", thread_ts=root["ts"])
    assert reply["message"]["thread_ts"] == root["ts"]
    later = client.chat_postMessage(channel="C0GENERAL", text="later")
    assert float(root["ts"]) < float(reply["ts"]) < float(later["ts"])
    assert all(len(ts.split(".")[1]) == 6 for ts in (root["ts"], reply["ts"], later["ts"]))

    history = client.conversations_history(channel="C0GENERAL")["messages"]
    assert [m["text"] for m in history] == ["later", "root"]  # newest first, no replies
    parent = history[1]
    assert parent["reply_count"] == 1 and parent["latest_reply"] == reply["ts"]
    assert parent["thread_ts"] == root["ts"] and parent["reply_users"] == [BOT]
    thread = client.conversations_replies(channel="C0GENERAL", ts=root["ts"])["messages"]
    assert [m["text"] for m in thread] == ["root", "reply"]
    # Any message of the thread leads to the whole thread.
    again = client.conversations_replies(channel="C0GENERAL", ts=reply["ts"])["messages"]
    assert [m["ts"] for m in again] == [m["ts"] for m in thread]
    assert error_of(client.conversations_replies, channel="C0GENERAL",
                    ts="1.000001").response["error"] == "thread_not_found"


def test_reply_to_a_reply_joins_the_root_thread(client: WebClient) -> None:
    root = client.chat_postMessage(channel="C0GENERAL", text="root")
    first = client.chat_postMessage(channel="C0GENERAL", text="1", thread_ts=root["ts"])
    second = client.chat_postMessage(channel="C0GENERAL", text="2", thread_ts=first["ts"])
    assert second["message"]["thread_ts"] == root["ts"]
    # An unknown thread_ts posts into the channel (assumed real behaviour).
    stray = client.chat_postMessage(channel="C0GENERAL", text="stray", thread_ts="1.000001")
    assert "thread_ts" not in stray["message"]
    history = client.conversations_history(channel="C0GENERAL")["messages"]
    assert [(m["text"], m.get("reply_count")) for m in history] == [("stray", None), ("root", 2)]


def test_ts_strictly_increasing_with_a_frozen_clock(emu: SlackEmulator,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import migrate.sandbox.slack_state as slack_state

    monkeypatch.setattr(slack_state.time, "time_ns", lambda: 1_700_000_000_000_000_000)
    got = [json.loads(emu.call("chat.postMessage", {"channel": "C0GENERAL", "text": str(i)},
                               TOKEN).body)["ts"] for i in range(3)]
    assert got == ["1700000000.000000", "1700000000.000001", "1700000000.000002"]


def test_broadcast_reply_shows_in_history(client: WebClient) -> None:
    root = client.chat_postMessage(channel="C0GENERAL", text="root")
    client.chat_postMessage(channel="C0GENERAL", text="loud", thread_ts=root["ts"],
                            reply_broadcast=True)
    history = client.conversations_history(channel="C0GENERAL")["messages"]
    assert [(m["text"], m.get("subtype")) for m in history] == [
        ("loud", "thread_broadcast"), ("root", "bot_message")]


def test_metadata_round_trip_only_with_include_all_metadata(client: WebClient) -> None:
    root = client.chat_postMessage(channel="C0GENERAL", text="with meta", metadata=META)
    assert root["message"]["metadata"] == META
    # A JSON string is accepted too (form-encoded clients send it that way).
    reply = client.chat_postMessage(channel="C0GENERAL", text="r", thread_ts=root["ts"],
                                    metadata=json.dumps(META))
    with_meta = client.conversations_history(channel="C0GENERAL", include_all_metadata=True)
    assert with_meta["messages"][0]["metadata"] == META
    without = client.conversations_history(channel="C0GENERAL")
    assert "metadata" not in without["messages"][0]
    thread = client.conversations_replies(channel="C0GENERAL", ts=root["ts"],
                                          include_all_metadata=True)["messages"]
    assert [m.get("metadata") for m in thread] == [META, META]
    assert reply["ts"] == thread[1]["ts"]
    bare = client.conversations_replies(channel="C0GENERAL", ts=root["ts"])["messages"]
    assert all("metadata" not in m for m in bare)
    for bad in ({"event_type": "x"}, {"event_payload": {}}, "{not json", ["x"]):
        err = error_of(client.chat_postMessage, channel="C0GENERAL", text="t", metadata=bad)
        assert err.response["error"] == "invalid_metadata_format"


def test_username_icon_and_options_kept(client: WebClient, emu: SlackEmulator) -> None:
    r = client.chat_postMessage(channel="C0GENERAL", text="hi", username="Ann A (Teams)",
                                icon_url="https://example.com/ann.png", unfurl_links=False,
                                unfurl_media=False)
    assert r["message"]["username"] == "Ann A (Teams)"
    assert r["message"]["icons"] == {"image_48": "https://example.com/ann.png"}
    client.chat_postMessage(channel="C0GENERAL", text="e", username="Bob", icon_emoji=":robot_face:",
                            icon_url="https://example.com/b.png")
    first, second = channel_messages(emu, "C0GENERAL")
    assert first["icon_url"] == "https://example.com/ann.png" and first["unfurl_links"] is False
    assert first["unfurl_media"] is False and first["username"] == "Ann A (Teams)"
    assert second["icons"] == {"emoji": ":robot_face:"}  # emoji wins over the URL
    history = client.conversations_history(channel="C0GENERAL")["messages"]
    assert history[1]["username"] == "Ann A (Teams)"


def test_username_ignored_without_customize_scope(emu: SlackEmulator) -> None:
    scopes = {"chat:write", "channels:history"}
    with SlackEmulator(make_workspace(), throttle=False, scopes=scopes) as plain:
        c = WebClient(token=TOKEN, base_url=plain.url)
        msg = c.chat_postMessage(channel="C0GENERAL", text="x", username="Ann")["message"]
        assert "username" not in msg


# slack_sdk warns when `text` is missing; these calls leave it out on purpose.
@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing:UserWarning")
def test_content_rules(client: WebClient, emu: SlackEmulator) -> None:
    assert error_of(client.chat_postMessage, channel="C0GENERAL",
                    text="").response["error"] == "no_text"
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*b*"}}]
    r = client.chat_postMessage(channel="C0GENERAL", blocks=blocks)
    assert r["message"]["blocks"] == blocks
    assert error_of(client.chat_postMessage, channel="C0GENERAL",
                    blocks=[{"text": "no type"}]).response["error"] == "invalid_blocks"
    long = client.chat_postMessage(channel="C0GENERAL", text="x" * 45_000)
    assert len(long["message"]["text"]) == 40_000  # truncated silently, no error
    ok = client.chat_postMessage(channel="C0GENERAL", text="y" * 5_000)
    assert len(ok["message"]["text"]) == 5_000


def test_update_and_delete(client: WebClient, emu: SlackEmulator) -> None:
    r = client.chat_postMessage(channel="C0GENERAL", text="v1", metadata=META)
    up = client.chat_update(channel="C0GENERAL", ts=r["ts"], text="v2")
    assert up["text"] == "v2" and up["message"]["metadata"] == META  # kept unless given
    assert up["message"]["edited"]["user"] == BOT
    err = error_of(client.chat_update, channel="C0GENERAL", ts=r["ts"], text="z" * 4_001)
    assert err.response["error"] == "msg_too_long"
    client.chat_update(channel="C0GENERAL", ts=r["ts"], text="v3", metadata={})
    stored = channel_messages(emu, "C0GENERAL")[0]
    assert stored["text"] == "v3" and "metadata" not in stored and "edited" in stored
    assert error_of(client.chat_update, channel="C0GENERAL", ts="1.000001",
                    text="x").response["error"] == "message_not_found"
    # A system message (Ann joining) was not posted by the app.
    client.conversations_invite(channel="C0GENERAL", users="U0BOB")
    join = channel_messages(emu, "C0GENERAL")[-1]
    assert join["subtype"] == "channel_join" and join["user"] == "U0BOB"
    assert error_of(client.chat_update, channel="C0GENERAL", ts=join["ts"],
                    text="x").response["error"] == "cant_update_message"
    assert error_of(client.chat_delete, channel="C0GENERAL",
                    ts=join["ts"]).response["error"] == "cant_delete_message"
    # Deleting a root with replies leaves a tombstone; deleting the last reply removes both.
    reply = client.chat_postMessage(channel="C0GENERAL", text="re", thread_ts=r["ts"])
    client.chat_delete(channel="C0GENERAL", ts=r["ts"])
    history = client.conversations_history(channel="C0GENERAL")["messages"]
    assert history[-1]["subtype"] == "tombstone" and history[-1]["reply_count"] == 1
    client.chat_delete(channel="C0GENERAL", ts=reply["ts"])
    assert [m["ts"] for m in channel_messages(emu, "C0GENERAL")] == [join["ts"]]
    assert error_of(client.chat_delete, channel="C0GENERAL",
                    ts=r["ts"]).response["error"] == "message_not_found"


def test_reactions_pins_bookmarks(client: WebClient, emu: SlackEmulator) -> None:
    r = client.chat_postMessage(channel="C0GENERAL", text="react to me")
    client.reactions_add(channel="C0GENERAL", timestamp=r["ts"], name=":+1:")
    assert error_of(client.reactions_add, channel="C0GENERAL", timestamp=r["ts"],
                    name="+1").response["error"] == "already_reacted"
    assert error_of(client.reactions_add, channel="C0GENERAL", timestamp="1.000001",
                    name="heart").response["error"] == "message_not_found"
    client.pins_add(channel="C0GENERAL", timestamp=r["ts"])
    assert error_of(client.pins_add, channel="C0GENERAL",
                    timestamp=r["ts"]).response["error"] == "already_pinned"
    b = client.bookmarks_add(channel_id="C0GENERAL", title="Wiki", type="link",
                             link="https://wiki.example.com")
    assert b["bookmark"]["link"] == "https://wiki.example.com"
    assert error_of(client.bookmarks_add, channel_id="C0GENERAL", title="x", type="link",
                    link="ftp://x").response["error"] == "invalid_link"
    state = emu.state()
    assert state["reactions"] == [{"channel": "C0GENERAL", "ts": r["ts"], "name": "+1",
                                   "users": [BOT], "count": 1}]
    assert state["pins"] == [{"channel": "C0GENERAL", "ts": r["ts"]}]
    assert [bm["title"] for bm in state["bookmarks"]] == ["Wiki"]
    history = client.conversations_history(channel="C0GENERAL")
    assert history["pin_count"] == 1
    assert history["messages"][-1]["reactions"][0]["count"] == 1


# ---------------------------------------------------------------- files


def test_files_upload_v2_into_thread(client: WebClient, emu: SlackEmulator) -> None:
    root = client.chat_postMessage(channel="C0GENERAL", text="see attachment")
    up = client.files_upload_v2(channel="C0GENERAL", thread_ts=root["ts"],
                                content=b"hello bytes", filename="notes.txt", title="Notes")
    f = up["file"]
    assert f["name"] == "notes.txt" and f["title"] == "Notes" and f["size"] == 11
    assert f["mimetype"] == "text/plain"
    thread = client.conversations_replies(channel="C0GENERAL", ts=root["ts"])["messages"]
    assert len(thread) == 2
    assert thread[1]["thread_ts"] == root["ts"]
    assert [x["id"] for x in thread[1]["files"]] == [f["id"]]
    assert emu.file_bytes(f["id"]) == b"hello bytes"
    got = requests.get(f["url_private"], headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
    assert got.status_code == 200 and got.content == b"hello bytes"
    assert requests.get(f["url_private"], timeout=5).status_code == 403
    stored = next(x for x in emu.state()["files"] if x["id"] == f["id"])
    assert stored["uploaded"] and stored["channels"] == ["C0GENERAL"]
    assert stored["shares"]["public"]["C0GENERAL"][0]["thread_ts"] == root["ts"]


def test_upload_flow_errors_and_multipart(client: WebClient, emu: SlackEmulator) -> None:
    assert error_of(client.files_getUploadURLExternal, filename="a.txt",
                    length=0).response["error"] == "missing_argument"
    pending = client.files_getUploadURLExternal(filename="a.bin", length=4)
    # Completing a file whose bytes never arrived: file_not_found.
    err = error_of(client.files_completeUploadExternal, files=[{"id": pending["file_id"]}],
                   channel_id="C0GENERAL")
    assert err.response["error"] == "file_not_found"
    wrong = requests.post(pending["upload_url"], data=b"12345", timeout=5)
    assert wrong.status_code == 400
    multi = requests.post(pending["upload_url"], files={"file": ("a.bin", b"\x00\x01\xfe\xff")},
                          timeout=5)
    assert multi.status_code == 200 and multi.text == "OK - 4"
    assert emu.file_bytes(pending["file_id"]) == b"\x00\x01\xfe\xff"
    err = error_of(client.files_completeUploadExternal, files=[{"id": pending["file_id"]}],
                   channel_id="C0RANDOM")
    assert err.response["error"] == "not_in_channel"
    done = client.files_completeUploadExternal(files=[{"id": pending["file_id"], "title": "Bin"}],
                                               channel_id="C0GENERAL", initial_comment="here")
    assert done["files"][0]["title"] == "Bin"
    assert channel_messages(emu, "C0GENERAL")[-1]["text"] == "here"


# ---------------------------------------------------------------- channels and users


@pytest.mark.parametrize(("name", "error"), [
    ("general", "name_taken"),
    ("old-stuff", "name_taken"),  # archived channels keep their name
    ("Hello World", "invalid_name_specials"),
    ("UPPER", "invalid_name_specials"),
    ("a.b", "invalid_name_specials"),
    ("x" * 81, "invalid_name_maxlength"),
    ("--__", "invalid_name_punctuation"),
    ("", "invalid_name_required"),
])
def test_create_name_errors(client: WebClient, name: str, error: str) -> None:
    assert error_of(client.conversations_create, name=name).response["error"] == error


def test_create_channel_rules(client: WebClient, emu: SlackEmulator) -> None:
    ch = client.conversations_create(name="x" * 80)["channel"]
    assert ch["is_member"] and ch["creator"] == BOT and not ch["is_private"]
    priv = client.conversations_create(name="équipe-北京_2", is_private=True)["channel"]
    assert priv["is_private"] and priv["name"] == "équipe-北京_2"
    info = client.conversations_info(channel=priv["id"], include_num_members=True)["channel"]
    assert info["num_members"] == 1
    assert error_of(client.conversations_info,
                    channel="C0SECRET").response["error"] == "channel_not_found"


@pytest.mark.parametrize(("channel", "error"), [
    ("C0SECRET", "channel_not_found"),  # private, bot not a member
    ("C0NOPE", "channel_not_found"),
    ("C0RANDOM", "not_in_channel"),  # public, bot not a member
    ("C0OLD", "is_archived"),
])
def test_post_channel_errors(client: WebClient, channel: str, error: str) -> None:
    assert error_of(client.chat_postMessage, channel=channel,
                    text="x").response["error"] == error


def test_post_to_public_channel_with_chat_write_public(emu: SlackEmulator) -> None:
    with SlackEmulator(make_workspace(), throttle=False,
                       scopes={"chat:write", "chat:write.public"}) as public:
        c = WebClient(token=TOKEN, base_url=public.url)
        assert c.chat_postMessage(channel="#random", text="x")["channel"] == "C0RANDOM"


def test_invite_rules(client: WebClient, emu: SlackEmulator) -> None:
    err = error_of(client.conversations_invite, channel="C0GENERAL", users=["U0BOB", "U0ANN"])
    assert err.response["error"] == "already_in_channel"
    assert err.response["errors"] == [{"user": "U0ANN", "ok": False, "error": "already_in_channel"}]
    assert "U0BOB" not in client.conversations_members(channel="C0GENERAL")["members"]  # all-or-nothing
    forced = client.conversations_invite(channel="C0GENERAL", users="U0BOB,U0ANN", force=True)
    assert forced["errors"][0]["user"] == "U0ANN"
    assert "U0BOB" in client.conversations_members(channel="C0GENERAL")["members"]
    cases = [("C0GENERAL", "U0NOBODY", "user_not_found"), ("C0GENERAL", BOT, "cant_invite_self"),
             ("C0GENERAL", "U0GUEST", "user_is_restricted"), ("C0RANDOM", "U0BOB", "not_in_channel"),
             ("C0OLD", "U0BOB", "is_archived"), ("C0SECRET", "U0BOB", "channel_not_found"),
             ("C0GENERAL", ",".join(f"U1{i:04d}" for i in range(20)) + ",U0X" * 81,
              "too_many_users")]
    for channel, users, error in cases:
        got = error_of(client.conversations_invite, channel=channel, users=users)
        assert got.response["error"] == error, (channel, users)


def test_join_topic_purpose_archive(client: WebClient, emu: SlackEmulator) -> None:
    client.conversations_join(channel="C0RANDOM")
    client.chat_postMessage(channel="C0RANDOM", text="now I can")
    assert error_of(client.conversations_join,
                    channel="C0SECRET").response["error"] == "channel_not_found"
    client.conversations_setTopic(channel="C0RANDOM", topic="t" * 250)
    client.conversations_setPurpose(channel="C0RANDOM", purpose="why")
    assert error_of(client.conversations_setTopic, channel="C0RANDOM",
                    topic="t" * 251).response["error"] == "too_long"
    client.conversations_archive(channel="C0RANDOM")
    state = emu.state()
    random_ch = next(c for c in state["channels"] if c["id"] == "C0RANDOM")
    assert random_ch["is_archived"] and BOT not in random_ch["members"]  # bot removed
    assert random_ch["topic"]["value"] == "t" * 250 and random_ch["purpose"]["value"] == "why"
    subtypes = [m.get("subtype") for m in state["messages"]["C0RANDOM"]]
    assert subtypes == ["channel_join", "bot_message", "channel_topic", "channel_purpose",
                        "channel_archive"]
    assert error_of(client.conversations_archive,
                    channel="C0RANDOM").response["error"] == "already_archived"
    assert error_of(client.conversations_history,
                    channel="C0RANDOM").response["error"] == "not_in_channel"
    assert error_of(client.conversations_create,
                    name="random").response["error"] == "name_taken"


def test_users(client: WebClient, emu: SlackEmulator) -> None:
    assert client.users_lookupByEmail(email="ann@example.com")["user"]["id"] == "U0ANN"
    assert error_of(client.users_lookupByEmail,
                    email="nobody@example.com").response["error"] == "users_not_found"
    assert client.users_info(user="U0GONE")["user"]["deleted"] is True
    assert error_of(client.users_info, user="U0NOPE").response["error"] == "user_not_found"
    seen, pages = [], 0
    for page in client.users_list(limit=7):
        pages += 1
        seen += [u["id"] for u in page["members"]]
    expected = {u["id"] for u in make_workspace().users} | {BOT}
    assert len(seen) == len(expected) and set(seen) == expected  # deleted and bot included
    assert pages == -(-len(expected) // 7)
    assert error_of(client.users_list, cursor="bogus!").response["error"] == "invalid_cursor"
    with SlackEmulator(make_workspace(), throttle=False, scopes={"users:read"}) as no_email:
        c = WebClient(token=TOKEN, base_url=no_email.url)
        assert "email" not in c.users_list(limit=1)["members"][0]["profile"]


def test_conversations_list_paging(client: WebClient) -> None:
    for i in range(6):
        client.conversations_create(name=f"new-{i}")
    ids = []
    for page in client.conversations_list(limit=4, types="public_channel,private_channel"):
        assert len(page["channels"]) <= 4
        ids += [c["id"] for c in page["channels"]]
    assert len(ids) == len(set(ids))
    assert "C0INNER" in ids and "C0SECRET" not in ids and "C0OLD" in ids
    assert len(ids) == 9 + 6 - 1  # all channels but the private one the bot is not in
    public = client.conversations_list(exclude_archived=True, limit=100)["channels"]
    assert {"C0OLD", "C0INNER"}.isdisjoint(c["id"] for c in public)
    assert error_of(client.conversations_list, types="bogus").response["error"] == "invalid_types"
    assert error_of(client.conversations_list, limit=1001).response["error"] == "invalid_limit"


def test_history_paging_and_bounds(client: WebClient) -> None:
    ts = [client.chat_postMessage(channel="C0GENERAL", text=str(i))["ts"] for i in range(25)]
    texts, pages = [], 0
    for page in client.conversations_history(channel="C0GENERAL", limit=10):
        pages += 1
        texts += [m["text"] for m in page["messages"]]
        assert page["has_more"] == (pages < 3)
    assert pages == 3 and texts == [str(i) for i in reversed(range(25))]
    window = client.conversations_history(channel="C0GENERAL", oldest=ts[5], latest=ts[9])
    assert [m["text"] for m in window["messages"]] == ["8", "7", "6"]
    inclusive = client.conversations_history(channel="C0GENERAL", oldest=ts[5], latest=ts[9],
                                             inclusive=True)
    assert [m["text"] for m in inclusive["messages"]] == ["9", "8", "7", "6", "5"]
    assert error_of(client.conversations_history, channel="C0GENERAL",
                    oldest="abc").response["error"] == "invalid_ts_oldest"
    for i in range(5):
        client.chat_postMessage(channel="C0GENERAL", text=f"r{i}", thread_ts=ts[0])
    replies = []
    for page in client.conversations_replies(channel="C0GENERAL", ts=ts[0], limit=2):
        replies += [m["text"] for m in page["messages"]]
    assert replies == ["0", "r0", "r1", "r2", "r3", "r4"]


# ---------------------------------------------------------------- auth and scopes


def test_auth_errors(emu: SlackEmulator) -> None:
    bad = WebClient(token="xoxb-wrong", base_url=emu.url)
    assert error_of(bad.auth_test).response["error"] == "invalid_auth"
    anon = requests.post(emu.url + "auth.test", timeout=5).json()
    assert anon == {"ok": False, "error": "not_authed"}
    form = requests.post(emu.url + "auth.test", data={"token": TOKEN}, timeout=5).json()
    assert form["ok"] and form["user_id"] == BOT and form["team_id"] == "T0SANDBOX"
    unknown = requests.post(emu.url + "chat.fly", data={"token": TOKEN}, timeout=5)
    assert unknown.status_code == 404 and unknown.json()["error"] == "unknown_method"


def test_missing_required_argument(emu: SlackEmulator) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    got = requests.post(emu.url + "conversations.history", headers=auth, timeout=5).json()
    assert got == {"ok": False, "error": "invalid_arguments",
                   "response_metadata": {"messages": ["[ERROR] missing required field: channel"]}}
    upd = requests.post(emu.url + "chat.update", headers=auth, data={"channel": "C0GENERAL"},
                        timeout=5).json()
    assert upd["error"] == "invalid_arguments"
    assert upd["response_metadata"]["messages"] == ["[ERROR] missing required field: ts"]
    # Where Slack has a dedicated code for the absence, that code is answered.
    create = requests.post(emu.url + "conversations.create", headers=auth, timeout=5).json()
    assert create["error"] == "invalid_name_required"


def test_get_with_query_string(client: WebClient, emu: SlackEmulator) -> None:
    client.chat_postMessage(channel="C0GENERAL", text="hello")
    got = requests.get(emu.url + "conversations.history",
                       params={"channel": "C0GENERAL", "token": TOKEN, "limit": "1"}, timeout=5)
    assert got.json()["messages"][0]["text"] == "hello"


def test_multipart_and_json_bodies(emu: SlackEmulator) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    multi = requests.post(emu.url + "chat.postMessage", headers=auth, timeout=5,
                          files={"channel": (None, "C0GENERAL"), "text": (None, "multi ✓"),
                                 "metadata": (None, json.dumps(META))})
    assert multi.json()["message"]["text"] == "multi ✓"
    as_json = requests.post(emu.url + "chat.postMessage", headers=auth, timeout=5,
                            json={"channel": "C0GENERAL", "text": "json", "metadata": META})
    assert as_json.json()["message"]["metadata"] == META
    broken = requests.post(emu.url + "chat.postMessage", timeout=5, data=b"{nope",
                           headers={**auth, "Content-Type": "application/json"})
    assert broken.json() == {"ok": False, "error": "invalid_json"}
    assert [m["text"] for m in channel_messages(emu, "C0GENERAL")] == ["multi ✓", "json"]


def test_missing_scope(emu: SlackEmulator) -> None:
    with SlackEmulator(make_workspace(), throttle=False, scopes={"channels:read"}) as limited:
        c = WebClient(token=TOKEN, base_url=limited.url)
        err = error_of(c.chat_postMessage, channel="C0GENERAL", text="x")
        assert err.response["error"] == "missing_scope"
        assert err.response["needed"] == "chat:write" and err.response["provided"] == "channels:read"
        assert c.conversations_list()["ok"]


# ---------------------------------------------------------------- rate limits


def test_per_channel_rate_limit_at_a_scale() -> None:
    # 2/s per channel at scale 2: a burst of 2, then 429 with a sub-second Retry-After. (A
    # small scale leaves half a second for the burst: at scale 20 a loaded machine refilled
    # the bucket between posts and the 429 never came.)
    with SlackEmulator(make_workspace(), rate_scale=2) as emu:
        c = WebClient(token=TOKEN, base_url=emu.url, retry_handlers=[])
        for i in range(2):
            c.chat_postMessage(channel="C0POST0", text=str(i))
        err = error_of(c.chat_postMessage, channel="C0POST0", text="too fast")
        assert err.response.status_code == 429 and err.response["error"] == "ratelimited"
        assert 0 < float(err.response.headers["Retry-After"]) <= 0.5
        c.chat_postMessage(channel="C0POST1", text="other channel is fine")
        assert emu.counters()["ratelimited"] == {"chat.postMessage": 1}


def test_rate_limit_retry_handler_gets_through() -> None:
    # At the real rate (1/s per channel) Retry-After is whole seconds, as slack_sdk expects.
    with SlackEmulator(make_workspace(), rate_scale=1) as emu:
        raw = WebClient(token=TOKEN, base_url=emu.url, retry_handlers=[])
        raw.chat_postMessage(channel="C0POST0", text="first")
        err = error_of(raw.chat_postMessage, channel="C0POST0", text="second")
        assert err.response.headers["Retry-After"] == "1"
        patient = WebClient(token=TOKEN, base_url=emu.url,
                            retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)])
        assert patient.chat_postMessage(channel="C0POST0", text="second")["ok"]
        texts = [m["text"] for m in channel_messages(emu, "C0POST0")]
        assert texts == ["first", "second"]
        assert emu.counters()["ratelimited"]["chat.postMessage"] >= 2


def test_workspace_posting_cap_binds_across_channels() -> None:
    # 120/min = 2/s with a burst of 2: the third post in another channel is refused.
    with SlackEmulator(make_workspace(), rate_scale=1, post_cap_per_minute=120) as emu:
        c = WebClient(token=TOKEN, base_url=emu.url, retry_handlers=[])
        c.chat_postMessage(channel="C0POST0", text="a")
        c.chat_postMessage(channel="C0POST1", text="b")
        err = error_of(c.chat_postMessage, channel="C0POST2", text="c")
        assert err.response.status_code == 429
        assert "C0POST2" not in {k for k, v in emu.state()["messages"].items() if v}


def test_tier_limit_per_method() -> None:
    with SlackEmulator(make_workspace(), rate_scale=1) as emu:
        c = WebClient(token=TOKEN, base_url=emu.url, retry_handlers=[])
        c.conversations_create(name="one")
        err = error_of(c.conversations_create, name="two")  # Tier 2: 20/min
        assert err.response.status_code == 429 and err.response.headers["Retry-After"] == "3"
        assert c.auth_test()["ok"]  # other methods have their own buckets


def test_file_share_counts_against_channel_posting() -> None:
    with SlackEmulator(make_workspace(), rate_scale=1) as emu:
        c = WebClient(token=TOKEN, base_url=emu.url, retry_handlers=[])
        c.chat_postMessage(channel="C0POST0", text="a")
        err = error_of(c.files_upload_v2, channel="C0POST0", content=b"x", filename="x.txt")
        assert err.response.status_code == 429
        assert emu.counters()["ratelimited"] == {"files.completeUploadExternal": 1}


# ---------------------------------------------------------------- faults


def test_drop_after_processing_stores_exactly_once(emu: SlackEmulator) -> None:
    emu.configure_faults(1, FaultPlan(rates={"drop_after_processing": 1.0}))
    c = WebClient(token=TOKEN, base_url=emu.url, retry_handlers=[])
    with pytest.raises(OSError):  # reset / remote disconnected: the client cannot know
        c.chat_postMessage(channel="C0GENERAL", text="did I land?", metadata=META)
    # Reads are not dropped: the importer can look for its post.
    found = c.conversations_history(channel="C0GENERAL", include_all_metadata=True)["messages"]
    assert [m["metadata"] for m in found] == [META]
    assert [m["text"] for m in channel_messages(emu, "C0GENERAL")] == ["did I land?"]
    assert emu.counters()["faults"] == {"drop_after_processing": 1}


def test_reset_fault_does_nothing(emu: SlackEmulator) -> None:
    emu.configure_faults(3, FaultPlan(rates={"reset": 1.0}, only=("chat.postMessage",)))
    c = WebClient(token=TOKEN, base_url=emu.url, retry_handlers=[])
    with pytest.raises(OSError):
        c.chat_postMessage(channel="C0GENERAL", text="lost")
    assert channel_messages(emu, "C0GENERAL") == []
    assert c.auth_test()["ok"]  # `only` spares other methods
    assert emu.counters()["faults"] == {"reset": 1}


def _fault_pattern(emu: SlackEmulator, seed: int) -> list[tuple[int, str]]:
    emu.configure_faults(seed, FaultPlan(rates={"http_500": 0.3}))
    out = []
    with requests.Session() as s:
        for _ in range(40):
            r = s.post(emu.url + "auth.test", headers={"Authorization": f"Bearer {TOKEN}"},
                       timeout=5)
            out.append((r.status_code, r.headers["Content-Type"].split(";")[0]))
    return out


def test_http_500_is_seeded(emu: SlackEmulator) -> None:
    first = _fault_pattern(emu, 7)
    assert first == _fault_pattern(emu, 7)
    assert first != _fault_pattern(emu, 8)
    failed = [kind for status, kind in first if status == 500]
    assert failed and {"application/json", "text/html"} == set(failed)
    c = WebClient(token=TOKEN, base_url=emu.url, retry_handlers=[])
    emu.configure_faults(7, FaultPlan(rates={"http_500": 1.0}))
    assert error_of(c.auth_test).response.status_code == 500
    assert emu.counters()["faults"]["http_500"] == 3 * len(failed) + 1


# ---------------------------------------------------------------- state, counters, control


def test_state_and_counters(client: WebClient, emu: SlackEmulator) -> None:
    root = client.chat_postMessage(channel="C0GENERAL", text="a", metadata=META)
    client.chat_postMessage(channel="C0GENERAL", text="b", thread_ts=root["ts"])
    client.conversations_history(channel="C0GENERAL")
    client.conversations_create(name="made-here")
    state = emu.state()
    json.dumps(state)  # JSON-able
    assert state["team"]["id"] == "T0SANDBOX"
    made = next(c for c in state["channels"] if c["name"] == "made-here")
    assert made["members"] == [BOT] and made["creator"] == BOT and not made["is_archived"]
    msgs = state["messages"]["C0GENERAL"]
    assert [m["text"] for m in msgs] == ["a", "b"]  # replies included, ts order
    assert msgs[0]["metadata"] == META and msgs[0]["reply_count"] == 1
    assert msgs[1]["thread_ts"] == root["ts"] and msgs[1]["bot_id"] == "B0BOT"
    counters = emu.counters()
    assert counters["calls"] == {"chat.postMessage": 2, "conversations.history": 1,
                                 "conversations.create": 1}
    assert counters["writes"] == 3 and counters["ratelimited"] == {} and counters["faults"] == {}
    emu.reset_counters()
    assert emu.counters() == {"calls": {}, "ratelimited": {}, "faults": {}, "writes": 0}


def test_control_api(client: WebClient, emu: SlackEmulator) -> None:
    client.chat_postMessage(channel="C0GENERAL", text="x")
    base = emu.origin + "/_control/"
    state = requests.get(base + "state", timeout=5).json()
    assert state["messages"]["C0GENERAL"][0]["text"] == "x"
    assert requests.get(base + "counters", timeout=5).json()["calls"] == {"chat.postMessage": 1}
    assert requests.post(base + "counters/reset", timeout=5).json() == {"ok": True}
    assert requests.get(base + "counters", timeout=5).json()["writes"] == 0
    plan = {"seed": 1, "rates": {"http_500": 1.0}, "only": ["chat.postMessage"]}
    assert requests.post(base + "faults", json=plan, timeout=5).json() == {"ok": True}
    assert error_of(client.chat_postMessage, channel="C0GENERAL",
                    text="y").response.status_code == 500
    assert client.auth_test()["ok"]
    bad = requests.post(base + "faults", json={"rates": {"meteor": 1}}, timeout=5)
    assert bad.status_code == 400


def test_concurrent_posts_keep_ts_unique_and_ordered(emu: SlackEmulator) -> None:
    def post(channel: str) -> None:
        c = WebClient(token=TOKEN, base_url=emu.url)
        for i in range(40):
            c.chat_postMessage(channel=channel, text=str(i))

    threads = [threading.Thread(target=post, args=(ch,))
               for ch in ("C0POST0", "C0POST0", "C0POST1", "C0POST2", "C0GENERAL")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    state = emu.state()["messages"]
    for channel, n in (("C0POST0", 80), ("C0POST1", 40), ("C0GENERAL", 40)):
        keys = [tuple(map(int, m["ts"].split("."))) for m in state[channel]]
        assert len(keys) == n and keys == sorted(set(keys))


def test_many_posts_page_fast(emu: SlackEmulator) -> None:
    # Direct calls (no HTTP) to show appends and history paging stay cheap at benchmark sizes.
    started = time.perf_counter()
    for i in range(20_000):
        emu.call("chat.postMessage", {"channel": "C0POST3", "text": str(i)}, TOKEN)
    reply = emu.call("conversations.history",
                     {"channel": "C0POST3", "limit": "5", "oldest": "0"}, TOKEN)
    body = json.loads(reply.body)
    assert [m["text"] for m in body["messages"]] == ["19999", "19998", "19997", "19996", "19995"]
    assert time.perf_counter() - started < 30


# ---------------------------------------------------------------- contract


@pytest.fixture
def contract() -> dict:
    path = SHARED / "contracts" / "slack-web-methods.json"
    if not path.is_file():
        pytest.skip(f"../shared is absent: {path} not found")
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.shared
def test_methods_tiers_and_scopes_match_contract(contract: dict) -> None:
    scrape = contract["docs_slack_dev_scrape"]
    assert set(METHODS) - set(scrape) == set(NON_CONTRACT_METHODS) == {
        "auth.test", "team.info", "conversations.rename"}
    for name, spec in METHODS.items():
        if name in scrape:
            assert spec.tier == scrape[name]["rateLimitTier"], name
            assert list(spec.scopes) == scrape[name]["scopes"]["bot"], name
            required = {a for a, d in scrape[name]["args"].items() if d.get("required")}
            assert set(spec.required) <= required, name


# docs.slack.dev/reference/methods/conversations.rename (errors table).
RENAME_ERRORS = {"channel_not_found", "invalid_name", "invalid_name_maxlength",
                 "invalid_name_punctuation", "invalid_name_required", "invalid_name_specials",
                 "is_archived", "method_not_supported_for_channel_type", "name_taken",
                 "not_authorized", "not_in_channel"}


@pytest.mark.shared
def test_error_codes_are_in_contract(contract: dict) -> None:
    scrape, spec2020 = contract["docs_slack_dev_scrape"], contract["openapi_v2_2020"]
    for name, spec in METHODS.items():
        if name == "conversations.rename":  # not in the contract: its docs page lists these
            assert spec.errors <= RENAME_ERRORS, spec.errors - RENAME_ERRORS
            continue
        if name in NON_CONTRACT_METHODS:
            assert not spec.errors, name
            continue
        # Both sources of the contract file count (e.g. too_many_users is only in the 2020 spec).
        known = set(scrape[name]["errorCodes"]) | set(spec2020.get(name, {}).get("errorCodes") or ())
        assert spec.errors <= known, (name, spec.errors - known)


@pytest.mark.shared
def test_response_keys_are_contract_output_properties(contract: dict, client: WebClient) -> None:
    scrape = contract["docs_slack_dev_scrape"]
    created = client.conversations_create(name="contract-check")
    posted = client.chat_postMessage(channel=created["channel"]["id"], text="x")
    history = client.conversations_history(channel=created["channel"]["id"], oldest="0")
    for name, response in (("conversations.create", created), ("chat.postMessage", posted),
                           ("conversations.history", history)):
        extra = set(response.data) - {"ok"} - set(scrape[name]["outputProperties"])
        assert not extra, (name, extra)


def test_undeclared_error_code_is_reported_as_emulator_bug(emu: SlackEmulator) -> None:
    # The per-method error tables are enforced at run time, so the contract test means something.
    assert {"invalid_auth", "not_authed", "missing_scope", "ratelimited"} <= GENERIC_ERRORS
    spec = METHODS["chat.postMessage"]
    assert "thread_not_found" not in spec.errors
    from migrate.sandbox.slack_emulator import MethodSpec
    from migrate.sandbox.slack_state import SlackError

    def broken(ctx, args):
        raise SlackError("thread_not_found")

    METHODS["chat.broken"] = MethodSpec("chat.broken", broken, "Tier 3", (), False, frozenset())
    try:
        reply = emu.call("chat.broken", {}, TOKEN)
    finally:
        del METHODS["chat.broken"]
    assert reply.status == 500 and b"undeclared error" in reply.body
